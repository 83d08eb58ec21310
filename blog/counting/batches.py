"""Adding many reads at once, per (post, day), to the posts' totals and daily rows in one
transaction: how the journal's and the Redis buffer's batches (each applied once) and imports
land in the database."""

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from blog.counting.sql import add_views_sql, daily_upsert, raise_views_sql
from blog.models import PUBLISHED_STATUS, ViewFlushBatch

ViewCounts = dict[tuple[int, dt.date], int]


def write_views(counts: ViewCounts, *, published_only: bool = False) -> int:
    """Add views per (post, day) to the posts and their daily rows atomically; returns views added.

    Posts that no longer exist (or, with `published_only`, are not published) are skipped.
    """
    per_post: dict[int, int] = defaultdict(int)
    for (post_id, _day), views in counts.items():
        per_post[post_id] += views
    add = add_views_sql("%s", "%s", ("%s", "%s") if published_only else None)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    due = [PUBLISHED_STATUS, now] if published_only else []
    # Rows are locked in id order, so concurrent writers cannot deadlock each other.
    with transaction.atomic(), connection.cursor() as cursor:
        counted = set()
        for post_id, views in sorted(per_post.items()):
            cursor.execute(add, [views, post_id, *due])
            if cursor.fetchone() is not None:
                counted.add(post_id)
        rows = [
            (post_id, connection.ops.adapt_datefield_value(day), views)
            for (post_id, day), views in sorted(counts.items())
            if post_id in counted
        ]
        if rows:
            cursor.executemany(daily_upsert(), rows)
    return sum(per_post[post_id] for post_id in counted)


def apply_once(batch: str, counts: ViewCounts, *, published_only: bool = False) -> int:
    """Add a batch's reads (`write_views`) unless batch `batch` was applied before; returns
    views added. Its ViewFlushBatch row commits with its counts, so a batch applied by a flush
    that crashed before forgetting it is not added again."""
    if not counts or ViewFlushBatch.objects.filter(batch=batch).exists():
        return 0
    try:
        with transaction.atomic():
            ViewFlushBatch.objects.create(batch=batch)
            return write_views(counts, published_only=published_only)
    except IntegrityError:
        if not ViewFlushBatch.objects.filter(batch=batch).exists():
            raise
        return 0  # a concurrent flush applied it first


def raise_total_views(totals: dict[int, int]) -> None:
    """Make each post's total at least the given number (imports: their source's count, never
    lowering reads counted here since); one statement per post, sent together."""
    if totals:
        with connection.cursor() as cursor:
            cursor.executemany(raise_views_sql(), sorted(totals.items()))
