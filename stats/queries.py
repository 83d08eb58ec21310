"""Views and comments per day, and the most read posts, from the stored daily rows.

Each function is one query whatever the number of posts, days or comments."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from blog.models import Post, PostDailyViews
from comments.models import Comment

PERIODS = (30, 90, 365)


@dataclass(frozen=True)
class Series:
    """One value per day, oldest first, with no day missing."""

    days: list[dt.date]
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


def period_days(days: int) -> list[dt.date]:
    """The last `days` days up to today, in the site's time zone."""
    today = timezone.localdate()
    return [today - dt.timedelta(days=back) for back in range(days - 1, -1, -1)]


def _series(days: list[dt.date], rows) -> Series:
    counts = {row["day"]: row["n"] for row in rows}
    return Series(days, [int(counts.get(day, 0) or 0) for day in days])


def views_per_day(posts: QuerySet, days: int) -> Series:
    """Counted reads of `posts` per day."""
    span = period_days(days)
    rows = (
        PostDailyViews.objects.filter(post__in=posts.values("pk"), day__gte=span[0])
        .values("day")
        .annotate(n=Sum("views"))
        .order_by()
    )
    return _series(span, rows)


def comments_per_day(posts: QuerySet, days: int) -> Series:
    """Approved comments on `posts` per day of their writing (site time zone)."""
    span = period_days(days)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(span[0], dt.time.min, tzinfo=zone)
    rows = (
        Comment.objects.filter(
            post__in=posts.values("pk"), status=Comment.Status.APPROVED, created_at__gte=start
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _series(span, rows)


def top_posts(posts: QuerySet, days: int, limit: int = 10) -> list[Post]:
    """The most read of `posts` in the period, each with `period_views`."""
    start = period_days(days)[0]
    return list(
        Post.objects.filter(pk__in=posts.values("pk"), daily_views__day__gte=start)
        .annotate(period_views=Sum("daily_views__views"))
        .filter(period_views__gt=0)
        .order_by("-period_views", "-id")
        .only("id", "title")[:limit]
    )
