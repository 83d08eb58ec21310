import datetime as dt
import sqlite3
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from blog.models import Category, Post, PostViews, Tag
from comments.management.commands.check_comment_trees import tree_errors
from comments.models import Comment
from importers.models import Attachment, ImportedObject, Redirect
from tests.factories import PostFactory
from tests.importers import typecho_site as site
from tests.importers.conftest import build_sqlite, run, run_failing

pytestmark = pytest.mark.django_db(transaction=False)

HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "importers.hashers.PhpassPasswordHasher",
    "importers.hashers.TypechoMD5PasswordHasher",
]


def test_import_typecho_keeps_ids_times_statuses_and_bodies(typecho_file):
    report = run(typecho_file)

    hello = Post.objects.with_views().get(pk=1)
    assert (hello.title, hello.slug, hello.status) == ("你好，世界", "hello-world", "published")
    assert hello.format == Post.Format.MARKDOWN
    assert hello.body.startswith("## 开篇")
    assert hello.published_at == dt.datetime.fromtimestamp(site.T0 + 3600, tz=dt.UTC)
    assert Post.objects.get(pk=1).updated_at == dt.datetime.fromtimestamp(site.T0 + 3660, tz=dt.UTC)
    html = Post.objects.get(pk=2)
    assert html.format == Post.Format.HTML
    assert "<!--more-->" in html.body
    statuses = dict(Post.objects.values_list("pk", "status"))
    assert statuses[3] == statuses[4] == statuses[5] == statuses[6] == "draft"
    assert Post.objects.get(pk=12).slug == "中文-别名"
    assert Post.objects.get(pk=12).comments_enabled is False
    assert hello.view_count == 10
    assert hello.custom_fields["thumb"] == "/usr/uploads/thumb.png"
    assert hello.custom_fields["rating"] == 5
    assert [a.display_name for a in hello.ordered_authors] == ["苏剑林"]
    for note in ["status 'private' → draft", "status 'hidden' → draft", "status 'waiting' → draft"]:
        assert note in report
    assert "password-protected: imported as a draft" in report


def test_import_typecho_pages_drafts_and_pending_edit(typecho_file):
    run(typecho_file)
    about, guestbook = Post.objects.get(pk=9), Post.objects.get(pk=10)
    assert (about.kind, about.menu_order, about.status) == ("page", 2, "published")
    assert about.custom_fields["template"] == "page-about.php"
    assert (guestbook.kind, guestbook.slug, guestbook.menu_order) == ("page", "留言板", 1)
    page_draft = Post.objects.get(pk=11)
    assert (page_draft.kind, page_draft.status) == ("page", "draft")
    draft = Post.objects.get(pk=7)
    assert (draft.kind, draft.status) == ("post", "draft")
    # The pending edit of post 1 is kept on post 1, not published over it.
    assert not Post.objects.filter(pk=8).exists()
    edit = Post.objects.get(pk=1).custom_fields["typecho_pending_edit"]
    assert edit["cid"] == 8
    assert edit["text"] == "<!--markdown-->改过的正文"
    assert Post.objects.get(pk=1).body.startswith("## 开篇")


def test_import_typecho_categories_hierarchy_and_tags(typecho_file):
    run(typecho_file)
    group = Category.objects.get(slug="群论")
    assert group.parent.slug == "algebra"
    assert group.parent.parent.name == "数学"
    assert Category.objects.get(slug="math").description == "数学研究"
    assert Category.objects.get(slug="algebra").order == 2
    assert set(Post.objects.get(pk=1).categories.values_list("name", flat=True)) == {"群论"}
    assert set(Post.objects.get(pk=1).tags.values_list("name", flat=True)) == {
        "机器学习",
        "CNN/RNN",
    }
    assert Tag.objects.get(name="CNN/RNN").slug == "cnn-rnn"


def test_import_typecho_users_groups_and_authors(typecho_file):
    run(typecho_file)
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["admin"].is_superuser
    assert users["admin"].is_staff
    assert list(users["editor"].groups.values_list("name", flat=True)) == ["Editors"]
    assert list(users["writer"].groups.values_list("name", flat=True)) == ["Contributors"]
    assert not users["reader"].is_staff
    assert not users["reader"].has_usable_password()
    assert users["admin"].author.display_name == "苏剑林"
    assert users["admin"].author.website == "https://admin.example.org/"
    assert not hasattr(users["reader"], "author") or users["reader"].author is None
    assert Comment.objects.get(pk=3).user == users["admin"]


def test_import_typecho_old_passwords_log_in_and_are_upgraded(typecho_file, settings):
    settings.PASSWORD_HASHERS = HASHERS
    run(typecho_file)
    user_model = get_user_model()
    assert user_model.objects.get(username="admin").password.startswith("phpass$$P$")
    assert authenticate(username="admin", password="wrong") is None
    assert authenticate(username="admin", password="管理员的密码") is not None
    assert user_model.objects.get(username="admin").password.startswith("md5$")
    assert user_model.objects.get(username="editor").password.startswith("typecho_md5$")
    assert authenticate(username="editor", password="old-md5-password") is not None
    assert user_model.objects.get(username="editor").password.startswith("md5$")
    assert authenticate(username="writer", password="writer-pass") is not None


def test_import_typecho_comment_threads_statuses_and_counts(typecho_file):
    report = run(typecho_file)
    assert list(tree_errors()) == []
    third = Comment.objects.get(pk=3)
    assert third.level == 2
    assert third.parent_id == 2
    assert third.parent.parent_id == 1
    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert (statuses[1], statuses[4], statuses[5]) == ("approved", "pending", "spam")
    assert 6 not in statuses  # the pingback is skipped, and counted
    assert "pingbacks skipped" in report
    orphan = Comment.objects.get(pk=7)
    assert orphan.parent_id is None
    assert "comment 7: replies to 99, which is missing: top level" in report
    first = Comment.objects.get(pk=1)
    assert first.author_email == "reader1@example.org"
    assert first.ip_address == "203.0.113.7"
    assert first.user_agent == "Mozilla/5.0 (test)"
    assert first.created_at == dt.datetime.fromtimestamp(site.T0 + 100_060, tz=dt.UTC)
    assert first.body_html.strip() == "<p>第 1 条评论</p>"
    bad = Comment.objects.get(pk=10)
    assert (bad.author_url, bad.ip_address) == ("", None)
    assert Post.objects.get(pk=1).comment_count == 4  # 1, 2, 3 and 7 are approved
    assert Post.objects.get(pk=10).comment_count == 2
    call_command("check_comment_trees", stdout=StringIO())


def test_import_typecho_report_counts_every_kind(typecho_file):
    report = run(typecho_file)
    counts = dict(
        line.strip().rsplit(None, 1)
        for line in report.splitlines()[1:]
        if line.startswith("  ") and line.strip().rsplit(None, 1)[-1].isdigit()
    )
    assert counts["posts"] == "3"  # 1, 2, 12
    assert counts["pages"] == "2"
    assert counts["drafts"] == "6"  # 3, 4, 5, 6, 7, 11
    assert counts["categories"] == "3"
    assert counts["tags"] == "2"
    assert counts["users"] == "4"
    assert counts["comments (approved)"] == "7"
    assert counts["comments (pending)"] == "1"
    assert counts["comments (spam)"] == "1"
    assert counts["pingbacks skipped"] == "1"
    assert counts["attachments"] == "1"


def test_import_typecho_runs_again_without_copies(typecho_file, tmp_path):
    run(typecho_file)
    Comment.objects.filter(pk=4).update(status="approved")  # moderated here meanwhile
    PostViews.objects.filter(pk=1).update(views=500)  # read here meanwhile
    data = site.sample_site()
    data["comments"].append(site.comment(11, 1, parent=3))
    data["contents"][0]["title"] = "你好，新世界"
    run(build_sqlite(tmp_path / "again.db", data))
    assert Post.objects.filter(kind="post").count() == 8
    assert Comment.objects.count() == 10
    assert Category.objects.count() == 3
    assert Tag.objects.count() == 2
    assert get_user_model().objects.count() == 4
    assert Attachment.objects.count() == 1
    assert Post.objects.get(pk=1).title == "你好，新世界"
    assert Post.objects.with_views().get(pk=1).view_count == 500
    assert Comment.objects.get(pk=11).level == 3
    assert Comment.objects.get(pk=4).status == "pending"  # the source wins
    assert list(tree_errors()) == []


def test_import_typecho_dry_run_writes_nothing(typecho_file):
    report = run(typecho_file, "--dry-run")
    assert "Dry run" in report
    assert "comment 7: replies to 99, which is missing" in report
    assert not Post.objects.exists()
    assert not Comment.objects.exists()
    assert not ImportedObject.objects.exists()
    assert not Redirect.objects.exists()
    assert not get_user_model().objects.exists()


def test_import_typecho_without_views_column(tmp_path):
    run(build_sqlite(tmp_path / "noviews.db", views=False))
    assert set(Post.objects.with_views().values_list("view_count", flat=True)) == {0}


def test_import_typecho_attachment_record_and_url(typecho_file):
    run(typecho_file)
    attachment = Attachment.objects.get()
    assert attachment.post_id == 1
    assert attachment.url == "https://old.example.org/usr/uploads/2023/01/1.png"
    assert (attachment.title, attachment.mime_type, attachment.size) == (
        "图片.png",
        "image/png",
        2048,
    )
    assert not Post.objects.filter(pk=13).exists()


def test_import_typecho_with_another_prefix(tmp_path):
    path = build_sqlite(tmp_path / "prefixed.db", prefix="blog_")
    message, _out = run_failing(path)
    assert "typecho_contents" in message
    assert "--prefix" in message
    assert not Post.objects.exists()
    run(path, "--prefix", "blog_")
    assert Post.objects.filter(pk=1).exists()


@pytest.mark.parametrize("kind", ["missing file", "not a database", "missing table", "bad scheme"])
def test_import_typecho_unreadable_sources_write_nothing(tmp_path, kind):
    path = tmp_path / "site.db"
    if kind == "not a database":
        path.write_bytes(b"<?php echo 'hello';")
    elif kind == "missing table":
        build_sqlite(path)
        connection = sqlite3.connect(path)
        connection.execute("DROP TABLE typecho_comments")
        connection.commit()
        connection.close()
    source = "ftp://example.org/x" if kind == "bad scheme" else str(path)
    message, _out = run_failing(source)
    expected = {
        "missing file": "no such file",
        "not a database": "not a SQLite database",
        "missing table": "typecho_comments is missing",
        "bad scheme": "unknown database URL scheme",
    }[kind]
    assert expected in message
    assert not Post.objects.exists()
    assert not get_user_model().objects.exists()


def test_import_typecho_invalid_utf8_fails_that_post_only(tmp_path):
    path = build_sqlite(tmp_path / "bad.db")
    connection = sqlite3.connect(path)
    connection.execute(
        "UPDATE typecho_contents SET title = CAST(? AS TEXT) WHERE cid = 12", [b"bad \xff\xfe"]
    )
    connection.commit()
    connection.close()
    message, report = run_failing(path)
    assert "post 12: invalid UTF-8" in report
    assert "1 item(s) failed" in message
    assert not Post.objects.filter(pk=12).exists()
    assert Post.objects.filter(pk=1).exists()


def test_import_typecho_clashing_id_leaves_the_existing_post(typecho_file):
    mine = PostFactory(pk=2, title="本站自己的文章", body="原文")
    message, report = run_failing(typecho_file)
    assert "post 2: id 2 is already used by «本站自己的文章»" in report
    mine.refresh_from_db()
    assert (mine.title, mine.body) == ("本站自己的文章", "原文")
    assert not Comment.objects.filter(post=mine).exists()
    assert not Comment.objects.filter(pk=10).exists()
    assert Post.objects.filter(pk=1).exists()
    assert "item(s) failed" in message


def test_import_typecho_comment_id_clash_renumbers_it(typecho_file):
    run(typecho_file)
    # A comment made here with the id another Typecho comment will bring.
    Comment.objects.filter(pk=10).update(post_id=1)
    ImportedObject.objects.filter(kind="comment", key="10").delete()
    report = run(typecho_file)
    assert "comment 10: id 10 is taken here: renumbered" in report
    assert list(tree_errors()) == []


def fill_server_database(connect, dialect: str) -> None:
    connection = connect()
    cursor = connection.cursor()
    site.create_tables(cursor, dialect, views=True)
    for table, rows in site.sample_site().items():
        site.insert(cursor, dialect, table, rows)
    connection.commit()
    connection.close()


def assert_sample_imported() -> None:
    assert Post.objects.get(pk=1).title == "你好，世界"
    assert Post.objects.get(pk=12).slug == "中文-别名"
    assert Category.objects.get(slug="群论").parent.slug == "algebra"
    assert Comment.objects.get(pk=3).level == 2
    assert Post.objects.with_views().get(pk=1).view_count == 10
    assert list(tree_errors()) == []


def test_import_typecho_from_mariadb(mariadb):
    import pymysql

    from importers.databases import open_database

    fill_server_database(lambda: open_database(mariadb).connection, "mysql")
    assert isinstance(open_database(mariadb).connection, pymysql.connections.Connection)
    run(mariadb)
    assert_sample_imported()
    message, _report = run_failing(mariadb + "_missing")
    assert "cannot connect to MySQL" in message


def test_import_typecho_from_postgresql(postgres):
    import psycopg
    from django.db import connection

    server = connection.settings_dict
    name = site.unique_name("pg")
    login = server["USER"] + (f":{server['PASSWORD']}" if server["PASSWORD"] else "")
    port = f":{server['PORT']}" if server["PORT"] else ""
    base = f"postgres://{login}@{server['HOST'] or '127.0.0.1'}{port}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        fill_server_database(lambda: psycopg.connect(f"{base}/{name}"), "postgres")
        run(f"{base}/{name}")
        assert_sample_imported()
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_import_typecho_leaves_free_ids_after_explicit_ones(postgres, typecho_file):
    run(typecho_file)
    assert PostFactory().pk > 12  # not 1: the sequence follows the imported ids
    assert (
        Comment.objects.create(
            post_id=1, author_name="新读者", author_email="n@example.org", body="新评论"
        ).pk
        > 10
    )


def test_import_typecho_invalid_utf8_comment_is_left_out_and_reported(tmp_path):
    path = build_sqlite(tmp_path / "bad-comment.db")
    connection = sqlite3.connect(path)
    connection.execute(
        "UPDATE typecho_comments SET text = CAST(? AS TEXT) WHERE coid = 2", [b"\xc3\x28"]
    )
    connection.commit()
    connection.close()
    message, report = run_failing(path)
    assert "comment 2: invalid UTF-8 at byte 0: left out" in report
    assert not Comment.objects.filter(pk=2).exists()
    # Its reply has no parent now: top level, and reported.
    assert Comment.objects.get(pk=3).parent_id is None
    assert "comment 3: replies to 2, which is missing: top level" in report
    assert list(tree_errors()) == []


def test_import_typecho_keeps_pingbacks_when_asked(typecho_file):
    report = run(typecho_file, "--keep-pingbacks")
    assert Comment.objects.get(pk=6).author_name == "Other site"
    assert "pingbacks skipped" not in report
