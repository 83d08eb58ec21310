from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from blog.models import Author, Post

pytestmark = pytest.mark.django_db

GOOD = """---
title: 可逆ResNet
date: 2019-03-21 10:00
authors: [苏剑林, Ada]
categories: 数学
tags: [流模型, 生成模型]
id: 6482
views: 1000
---
正文 $x_1$。
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_import_creates_post_with_everything(tmp_path):
    write(tmp_path, "a.md", GOOD)
    call_command("import_markdown", str(tmp_path))
    post = Post.objects.with_views().get(pk=6482)
    assert post.title == "可逆ResNet"
    assert post.status == Post.Status.PUBLISHED
    assert post.view_count == 1000
    assert [a.display_name for a in post.ordered_authors] == ["苏剑林", "Ada"]
    assert [c.name for c in post.categories.all()] == ["数学"]
    assert sorted(t.name for t in post.tags.all()) == ["流模型", "生成模型"]
    assert 'class="arithmatex"' in post.body_html


def test_reimport_same_id_updates_instead_of_duplicating(tmp_path):
    path = write(tmp_path, "a.md", GOOD)
    call_command("import_markdown", str(path))
    write(tmp_path, "a.md", GOOD.replace("可逆ResNet", "可逆ResNet（修订）"))
    call_command("import_markdown", str(path))
    assert Post.objects.count() == 1
    assert Post.objects.get().title == "可逆ResNet（修订）"
    assert Author.objects.count() == 2


def test_new_posts_after_import_do_not_collide_with_imported_ids(tmp_path):
    write(tmp_path, "a.md", GOOD)
    call_command("import_markdown", str(tmp_path))
    post = Post.objects.create(title="后来的文章")
    assert post.pk != 6482


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ndate: 2020-01-01\n---\nbody", "'title' is missing"),
        ("---\ntitle: x\ndate: 2020-13-45\n---\nbody", "not a valid date"),
        ("---\ntitle: [unclosed\n---\nbody", "invalid YAML"),
        ("no front matter", "no YAML front matter"),
        ("---\ntitle: x\ndate: 2020-01-01\nstatus: maybe\n---\n", "'status'"),
        ("---\ntitle: x\ndate: 2020-01-01\nid: -3\n---\n", "'id'"),
        ("---\ntitle: x\ndate: 2020-01-01\nviews: lots\n---\n", "'views'"),
        ("---\ntitle: x\ndate: 2020-01-01\nid: 99999999999999999999\n---\n", "'id'"),
    ],
)
def test_import_reports_bad_file_and_goes_on(tmp_path, capsys, text, reason):
    write(tmp_path, "bad.md", text)
    write(tmp_path, "good.md", GOOD)
    with pytest.raises(CommandError, match="1 of 2 files failed"):
        call_command("import_markdown", str(tmp_path))
    assert "bad.md: " in capsys.readouterr().err
    assert Post.objects.filter(pk=6482).exists()
    assert Post.objects.count() == 1


def test_import_reason_is_specific(tmp_path, capsys):
    write(tmp_path, "bad.md", "---\ndate: 2020-01-01\n---\nbody")
    with pytest.raises(CommandError):
        call_command("import_markdown", str(tmp_path))
    assert "bad.md: 'title' is missing" in capsys.readouterr().err


def test_import_non_utf8_file_is_reported(tmp_path, capsys):
    write(tmp_path, "gbk.md", GOOD.encode("gbk"))
    with pytest.raises(CommandError):
        call_command("import_markdown", str(tmp_path))
    assert "gbk.md: not UTF-8 text" in capsys.readouterr().err
    assert not Post.objects.exists()


def test_import_duplicate_ids_in_one_batch(tmp_path, capsys):
    write(tmp_path, "a.md", GOOD)
    write(tmp_path, "b.md", GOOD.replace("可逆ResNet", "另一篇"))
    with pytest.raises(CommandError, match="1 of 2 files failed"):
        call_command("import_markdown", str(tmp_path))
    assert "id 6482 is also used by" in capsys.readouterr().err
    assert Post.objects.get(pk=6482).title == "可逆ResNet"


def test_import_draft_status_and_author_string(tmp_path):
    text = "---\ntitle: 草稿\ndate: 2020-01-01\nauthors: 林一\nstatus: draft\n---\nx"
    write(tmp_path, "d.md", text)
    call_command("import_markdown", str(tmp_path))
    post = Post.objects.get()
    assert post.status == Post.Status.DRAFT
    assert [a.display_name for a in post.ordered_authors] == ["林一"]


def test_load_demo_imports_demo_posts_once(capsys):
    call_command("load_demo")
    first = capsys.readouterr().out
    assert "password:" in first
    count = Post.objects.count()
    assert count >= 5
    call_command("load_demo")
    assert "password:" not in capsys.readouterr().out
    assert Post.objects.count() == count
