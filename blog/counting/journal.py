"""The reads journal (SPACES_VIEW_JOURNAL): each counted read appended to a file on this machine,
and moved into the database in sealed batches, each applied exactly once (`flush`).

Why a file: a read written to the database is a transaction, which on a cached article costs
16 of 20 points of throughput (docs/PERFORMANCE.md, "Counting's cost"); an append costs a few
microseconds and survives the worker that made it (it is in the kernel's page cache at once).
Batches are applied as the Redis buffer's are (blog.counting.batches.apply_once).

Files, in the journal's directory (one per database, on each app server):
- `pending`: the reads being appended, one `<post id> <day>` line each;
- `sealed-<id>`: a batch, renamed from `pending`, waiting to be applied and then deleted;
- `flush.lock`: held by the process that is flushing.
Appends hold a shared lock on `pending`, sealing holds it exclusively while it renames the file,
so no read is written into a batch after it was sealed.
"""

import datetime as dt
import fcntl
import hashlib
import logging
import os
import threading
import uuid
from functools import lru_cache
from pathlib import Path
from time import monotonic

from django.conf import settings
from django.db import connection

from blog.counting.batches import ViewCounts, apply_once
from blog.models import ViewFlushBatch

logger = logging.getLogger(__name__)

PENDING = "pending"
SEALED = "sealed-"

# This process's open `pending` file: (journal directory, process id, descriptor), which its
# threads append to one at a time.
_pending: tuple[Path, int, int] | None = None
_appending = threading.Lock()
# When this process flushes next (monotonic()), per journal directory.
_next_flush: dict[Path, float] = {}


def directory() -> Path:
    """The journal of the default database on this machine: SPACES_VIEW_JOURNAL, else a folder
    under var/reads/ named for the database, so that no batch reaches another database."""
    database = connection.settings_dict
    return _directory(
        settings.SPACES_VIEW_JOURNAL,
        f"{connection.vendor}:{database['HOST']}:{database['PORT']}:{database['NAME']}",
    )


@lru_cache(maxsize=8)
def _directory(setting: str, database: str) -> Path:
    if setting:
        return Path(setting)
    digest = hashlib.sha256(database.encode()).hexdigest()[:16]
    return Path(settings.BASE_DIR) / "var" / "reads" / digest


def add(folder: Path, post_id: int, day: dt.date) -> None:
    """Append one read to the journal in `folder`; raises OSError when it cannot be written."""
    line = f"{int(post_id)} {day.isoformat()}\n".encode()
    with _appending:
        descriptor = _open_pending(folder)
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        try:
            while not _is_current(folder, descriptor):  # sealed since it was opened: anew
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                descriptor = _open_pending(folder, again=True)
                fcntl.flock(descriptor, fcntl.LOCK_SH)
            os.write(descriptor, line)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)


def flush_if_due(folder: Path) -> None:
    """Flush, unless another process is at it, once this process's turn has come: every
    SPACES_VIEW_FLUSH_SECONDS, and at its first read."""
    now = monotonic()
    if now >= _next_flush.get(folder, 0.0):
        _next_flush[folder] = now + settings.SPACES_VIEW_FLUSH_SECONDS
        flush(folder, wait=False)


def _open_pending(folder: Path, again: bool = False) -> int:
    global _pending
    if _pending is not None:
        opened_in, pid, descriptor = _pending
        if opened_in == folder and pid == os.getpid() and not again:
            return descriptor
        if pid == os.getpid():
            os.close(descriptor)
        _pending = None
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(_pending_path(folder), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    _pending = (folder, os.getpid(), descriptor)
    return descriptor


def _is_current(folder: Path, descriptor: int) -> bool:
    try:
        return os.stat(_pending_path(folder)).st_ino == os.fstat(descriptor).st_ino
    except FileNotFoundError:
        return False


@lru_cache(maxsize=8)
def _pending_path(folder: Path) -> str:
    return str(folder / PENDING)  # as text: joining paths costs more than the append


def seal(folder: Path) -> None:
    """Turn the pending reads into a batch of their own (nothing to do when there are none)."""
    try:
        descriptor = os.open(folder / PENDING, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # appends in progress finish first
        if _is_current(folder, descriptor) and os.fstat(descriptor).st_size:
            os.rename(folder / PENDING, folder / f"{SEALED}{uuid.uuid4().hex}")
    finally:
        os.close(descriptor)  # and with it the lock


def read_batch(path: Path) -> ViewCounts:
    """The reads of one batch file per (post, day); a line cut short by a crash is skipped."""
    counts: ViewCounts = {}
    for line in path.read_bytes().splitlines():
        try:
            post_id, day = line.decode().split(" ")
            key = (int(post_id), dt.date.fromisoformat(day))
            if not 0 < key[0] < 2**63:  # no post has it, and no database column takes it
                raise ValueError(post_id)
        except ValueError:
            logger.warning("ignoring a malformed line of the reads journal: %r", line[:100])
            continue
        counts[key] = counts.get(key, 0) + 1
    return counts


def flush(folder: Path | None = None, wait: bool = True) -> tuple[int, int]:
    """Move every read journaled on this machine into the database: (views added, batches).

    One process at a time (`wait=False`: none if another is at it). A batch is recorded as
    applied (ViewFlushBatch) in the transaction that adds its reads, then its file is deleted,
    then the record: a crash in between leaves a file that the next flush deletes without
    adding it again (and a record it deletes then)."""
    folder = folder or directory()
    if not folder.is_dir():
        return 0, 0
    lock = os.open(folder / "flush.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0, 0
        seal(folder)
        batches = sorted(folder.glob(f"{SEALED}*"))
        added = 0
        for path in batches:
            # Published posts only: the journal takes a read before its post is looked at.
            batch = f"journal:{path.name[len(SEALED) :]}"
            added += apply_once(batch, read_batch(path), published_only=True)
            path.unlink()
            ViewFlushBatch.objects.filter(batch=batch).delete()
        return added, len(batches)
    finally:
        os.close(lock)
