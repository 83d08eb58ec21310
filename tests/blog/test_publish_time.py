from datetime import UTC, datetime
from importlib import import_module
from unittest import mock

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from blog.models import Post, validate_publish_time
from tests.blog.test_admin import post_form
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "year"), [("0001-01-01", "1"), ("1899-12-31", "1899"), ("9999-12-31", "9999")]
)
def test_admin_refuses_a_publish_time_out_of_range_with_a_message(client, day, year):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post("/admin/blog/post/add/", post_form(published_at_0=day))
    assert response.status_code == 200
    assert f"发布时间须在 1900 年到 9000 年之间（现为 {year} 年）" in response.content.decode()
    assert not Post.objects.exists()


def test_admin_accepts_the_edges_of_the_range(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for day in ("1900-01-01", "9000-12-31"):
        form = post_form(published_at_0=day, published_at_1="23:59:59")
        assert client.post("/admin/blog/post/add/", form).status_code == 302
    assert Post.objects.count() == 2
    assert client.get("/admin/blog/post/").status_code == 200


def test_the_validator_takes_the_year_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    validate_publish_time(datetime(1899, 12, 31, 16, 0, tzinfo=UTC))  # 1900-01-01 in Shanghai
    with pytest.raises(ValidationError):
        validate_publish_time(datetime(9000, 12, 31, 16, 0, tzinfo=UTC))  # 9001 in Shanghai


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31 23:00"])
def test_import_refuses_a_publish_time_out_of_range(tmp_path, capsys, day):
    (tmp_path / "old.md").write_text(f"---\ntitle: 太早或太晚\ndate: {day}\n---\n正文")
    with pytest.raises(CommandError, match="1 of 1 files failed"):
        call_command("import_markdown", str(tmp_path))
    assert "old.md: 'date': 发布时间须在 1900 年到 9000 年之间" in capsys.readouterr().err
    assert not Post.objects.exists()


@pytest.mark.parametrize("year", [1, 9999])
def test_the_database_refuses_a_publish_time_out_of_range(year):
    """What skips the validators (a queryset update, raw SQL) still cannot store such a row."""
    post = PostFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(published_at=datetime(year, 6, 1, tzinfo=UTC))


def test_pages_show_posts_at_the_edges_of_the_range(client):
    old = PostFactory(title="最早的文章", published_at=datetime(1899, 12, 31, 16, 0, tzinfo=UTC))
    PostFactory(title="最晚的文章", published_at=datetime(9000, 12, 31, 15, 0, tzinfo=UTC))
    for url in ("/", "/content.html", "/1900/", "/search/文章/", old.get_absolute_url(), "/feed"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "最早的文章" in response.content.decode(), url


@pytest.mark.django_db(transaction=True)
def test_the_migration_clamps_rows_saved_before_the_check(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    early, late = PostFactory(), PostFactory()
    check = next(c for c in Post._meta.constraints if c.name == "post_published_at_sane")
    others = [c for c in Post._meta.constraints if c is not check]
    # As the model stood before the check (SQLite rebuilds the table from the model).
    with mock.patch.object(Post._meta, "constraints", others), connection.schema_editor() as editor:
        editor.remove_constraint(Post, check)
    try:
        Post.objects.filter(pk=early.pk).update(published_at=datetime(1, 6, 1, tzinfo=UTC))
        Post.objects.filter(pk=late.pk).update(published_at=datetime(9999, 6, 1, tzinfo=UTC))
        migration = import_module("blog.migrations.0009_published_at_range")
        migration.clamp_publish_times(apps, None)
    finally:
        with connection.schema_editor() as editor:
            editor.add_constraint(Post, check)
    early.refresh_from_db()
    late.refresh_from_db()
    first = timezone.localtime(early.published_at)
    assert (first.year, first.month, first.day, first.hour) == (1900, 1, 1, 0)
    assert timezone.localtime(late.published_at).year == 9000
