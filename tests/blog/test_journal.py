"""The reads journal (blog/counting/journal.py): reads appended on this machine, moved into the
database in batches applied once."""

import datetime as dt
import fcntl
import logging
import multiprocessing
import os
import pathlib
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from blog.counting import batches, journal
from blog.models import Post, ViewFlushBatch
from tests.blog.test_counting import daily, read, views
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(settings, tmp_path, monkeypatch):
    """The journal on, in a folder of this test's, with no flush due until a test says so."""
    settings.SPACES_VIEW_JOURNAL = str(tmp_path / "reads")
    settings.SPACES_VIEW_FLUSH_SECONDS = 60
    monkeypatch.setattr(journal, "_next_flush", {})
    monkeypatch.setattr(journal, "monotonic", lambda: 1_000.0)
    journal.flush_if_due(tmp_path / "reads")  # this process's first turn: nothing to flush
    return tmp_path / "reads"


def test_journaled_reads_reach_the_database_at_flush(folder):
    post = PostFactory(view_count=100)
    for _ in range(3):
        assert read(Client(), post).status_code == 200
    assert views(post) == 100  # not yet: in the journal
    call_command("flush_views")
    assert views(post) == 103
    assert daily(post) == {timezone.localdate(): 3}
    call_command("flush_views")
    assert views(post) == 103
    assert list(folder.glob("sealed-*")) == []
    assert not ViewFlushBatch.objects.exists()  # a batch's record lives as long as its file


def test_a_read_flushes_the_journal_when_the_process_turn_has_come(folder, monkeypatch):
    """Every SPACES_VIEW_FLUSH_SECONDS a read flushes first, and its page shows its own count."""
    post = PostFactory(view_count=7)
    assert "7位读者" in read(Client(), post).content.decode()
    monkeypatch.setattr(journal, "monotonic", lambda: 1_059.0)
    read(Client(), post)
    assert views(post) == 7
    monkeypatch.setattr(journal, "monotonic", lambda: 1_060.0)
    assert "10位读者" in read(Client(), post).content.decode()
    assert views(post) == 10


def test_the_journal_keeps_the_day_of_the_read(client, folder, monkeypatch):
    post = PostFactory()
    with monkeypatch.context() as patched:
        patched.setattr("blog.counting.recording.site_today", lambda: dt.date(2024, 5, 31))
        read(client, post)
    journal.flush()
    assert daily(post) == {dt.date(2024, 5, 31): 1}


def test_a_flush_skips_unpublished_deleted_and_missing_posts(folder):
    draft = PostFactory(status=Post.Status.DRAFT)
    gone = PostFactory()
    read(Client(), draft)
    read(Client(), gone)
    journal.add(folder, 987_654, timezone.localdate())
    gone.delete()
    assert journal.flush() == (0, 1)
    assert views(draft) == 0
    assert list(folder.glob("sealed-*")) == []


def test_a_flush_that_crashed_after_its_commit_does_not_count_twice(folder, monkeypatch):
    post = PostFactory()
    for _ in range(4):
        read(Client(), post)

    def crash(self, missing_ok=False):
        raise RuntimeError("killed before deleting the batch")

    with monkeypatch.context() as patched:
        patched.setattr(pathlib.Path, "unlink", crash)
        with pytest.raises(RuntimeError):
            journal.flush()
    assert views(post) == 4
    assert len(list(folder.glob("sealed-*"))) == 1
    read(Client(), post)
    assert ViewFlushBatch.objects.count() == 1
    assert journal.flush() == (1, 2)
    assert views(post) == 5
    assert daily(post) == {timezone.localdate(): 5}
    assert list(folder.glob("sealed-*")) == []
    assert not ViewFlushBatch.objects.exists()


def test_a_flush_that_crashed_before_its_commit_counts_once(folder, monkeypatch):
    post = PostFactory()
    for _ in range(2):
        read(Client(), post)

    def crash(counts, **kwargs):
        raise RuntimeError("killed mid-transaction")

    with monkeypatch.context() as patched:
        patched.setattr(batches, "write_views", crash)
        with pytest.raises(RuntimeError):
            journal.flush()
    assert views(post) == 0
    assert not ViewFlushBatch.objects.exists()
    assert journal.flush() == (2, 1)
    assert views(post) == 2


def test_a_read_after_a_seal_goes_into_a_new_file_not_the_batch(folder):
    """A process keeps its journal file open: once another one has sealed it, it appends to the
    new pending file, or its read would join a batch that may already be applied."""
    post = PostFactory()
    journal.add(folder, post.pk, timezone.localdate())
    journal.seal(folder)
    journal.add(folder, post.pk, timezone.localdate())
    (sealed,) = folder.glob("sealed-*")
    assert sealed.read_text().count("\n") == 1
    assert (folder / "pending").read_text().count("\n") == 1


def test_a_seal_waits_for_an_append_in_progress(folder):
    """An append holds the file's shared lock from its check that the file is still pending to
    its write: sealing it meanwhile would let the read land in a batch already applied."""
    journal.add(folder, PostFactory().pk, timezone.localdate())
    appending = os.open(folder / "pending", os.O_WRONLY | os.O_APPEND)
    fcntl.flock(appending, fcntl.LOCK_SH)
    sealing = threading.Thread(target=journal.seal, args=(folder,))
    sealing.start()
    sealing.join(timeout=0.5)
    assert sealing.is_alive()  # waiting for the append
    os.write(appending, b"1 2024-05-31\n")
    os.close(appending)
    sealing.join()
    (sealed,) = folder.glob("sealed-*")
    assert sealed.read_text().count("\n") == 2


def test_a_line_cut_short_is_skipped(folder, caplog):
    post = PostFactory()
    journal.add(folder, post.pk, timezone.localdate())
    with open(folder / "pending", "a") as pending:
        pending.write(f"{post.pk} 2024-0")  # a worker killed mid-write
    journal.add(folder, post.pk, timezone.localdate())
    assert journal.flush() == (1, 1)  # the cut line swallowed the read after it
    assert views(post) == 1
    assert "malformed" in caplog.text


def test_a_post_id_no_column_takes_is_skipped_not_a_poisoned_flush(folder):
    post = PostFactory()
    folder.mkdir()
    (folder / "pending").write_text(f"{2**63} 2024-05-31\n0 2024-05-31\n{post.pk} 2024-05-31\n")
    assert journal.flush() == (1, 1)
    assert views(post) == 1


def test_an_unwritable_journal_writes_reads_to_the_database(settings, tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    settings.SPACES_VIEW_JOURNAL = str(blocked / "reads")
    post = PostFactory()
    with caplog.at_level(logging.WARNING, logger="blog.counting.recording"):
        for _ in range(2):
            assert read(Client(), post).status_code == 200
    assert views(post) == 2
    assert len(caplog.records) == 1  # said once, not a traceback per read


def test_each_database_has_a_journal_of_its_own(settings, monkeypatch):
    settings.SPACES_VIEW_JOURNAL = ""
    here = journal.directory()
    assert here.parent == settings.BASE_DIR / "var" / "reads"
    monkeypatch.setitem(connection.settings_dict, "NAME", "another-database")
    assert journal.directory() != here


def _append(folder: pathlib.Path, post_id: int, reads: int) -> None:
    for _ in range(reads):
        journal.add(folder, post_id, dt.date(2024, 5, 31))


def test_reads_appended_by_processes_while_another_flushes_count_exactly(folder):
    """Four processes append 500 reads each while this one seals and applies batches."""
    post = PostFactory()
    processes = [
        multiprocessing.get_context("fork").Process(target=_append, args=(folder, post.pk, 500))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    flushes = 0
    while any(process.is_alive() for process in processes):
        flushes += journal.flush()[1]
    for process in processes:
        process.join()
        assert process.exitcode == 0
    journal.flush()
    assert views(post) == 2_000
    assert daily(post) == {dt.date(2024, 5, 31): 2_000}
    assert flushes >= 1
