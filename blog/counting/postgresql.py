"""Recording a read on PostgreSQL: one call of the `spaces_read_post` function (migrations), which
counts the read and answers the content version in the same round trip."""

import datetime as dt

from django.db import connection
from django.utils import timezone

from blog.caching.version import ContentState
from blog.counting.contract import Read
from blog.models import Post

READ_POST = "SELECT * FROM spaces_read_post(%s::bigint, %s, %s::timestamptz, %s::date)"


def record_read(post_id: int, day: dt.date) -> Read:
    """The `Recorder` for PostgreSQL; psycopg prepares the call once a connection has made it a
    few times (`prepare_threshold`, config/settings.py)."""
    with connection.cursor() as cursor:
        cursor.execute(READ_POST, [post_id, Post.Status.PUBLISHED.value, timezone.now(), day])
        views, token, valid_until = cursor.fetchone()
    version = ContentState(token, float(valid_until)) if token else ContentState("", 0.0)
    return Read(views is not None, None if views is None else int(views), version)
