"""Adding many reads at once, per (post, day), to the posts and their daily rows in one
transaction: how the Redis buffer's batches and imports land in the database."""

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F

from blog.counting.sql import daily_upsert
from blog.models import Post

ViewCounts = dict[tuple[int, dt.date], int]


def write_views(counts: ViewCounts, *, published_only: bool = False) -> int:
    """Add views per (post, day) to the posts and their daily rows atomically; returns views added.

    Posts that no longer exist (or, with `published_only`, are not published) are skipped.
    """
    per_post: dict[int, int] = defaultdict(int)
    for (post_id, _day), views in counts.items():
        per_post[post_id] += views
    posts = Post.objects.published() if published_only else Post.objects.all()
    # Rows are locked in id order, so concurrent writers cannot deadlock each other.
    with transaction.atomic():
        counted = {
            post_id
            for post_id, views in sorted(per_post.items())
            if posts.filter(pk=post_id).update(view_count=F("view_count") + views)
        }
        rows = [
            (post_id, connection.ops.adapt_datefield_value(day), views)
            for (post_id, day), views in sorted(counts.items())
            if post_id in counted
        ]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(daily_upsert(), rows)
    return sum(per_post[post_id] for post_id in counted)
