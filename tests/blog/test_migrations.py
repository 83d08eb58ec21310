"""Blog migrations that move data, run forwards and backwards on the test database."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from blog.counting import recording

BEFORE = [("blog", "0015_content_version_scopes")]
AFTER = [("blog", "0016_post_views")]


def migrate(target: list[tuple[str, str]]):
    """The app registry as of `target`, after migrating the test database there."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return MigrationExecutor(connection).loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_post_views_migration_moves_every_count_and_back():
    apps = migrate(BEFORE)
    try:
        Post = apps.get_model("blog", "Post")
        due = timezone.now() - dt.timedelta(hours=1)
        read = Post.objects.create(title="读过", status="published", published_at=due, view_count=7)
        unread = Post.objects.create(title="没读过", status="published", published_at=due)

        apps = migrate(AFTER)
        totals = apps.get_model("blog", "PostViews").objects
        assert dict(totals.values_list("post_id", "views")) == {read.pk: 7}
        # The counted read of every database now adds to the table, making an unread post's row.
        assert recording.record_read(read.pk, timezone.localdate()).views == 8
        assert recording.record_read(unread.pk, timezone.localdate()).views == 1

        apps = migrate(BEFORE)
        Post = apps.get_model("blog", "Post")
        assert dict(Post.objects.values_list("pk", "view_count")) == {read.pk: 8, unread.pk: 1}
        if connection.vendor == "postgresql":  # the function counts in the post row again
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT spaces_count_view(%s, 'published', now(), current_date)", [read.pk]
                )
                assert cursor.fetchone()[0] == 9
    finally:
        migrate(AFTER)
