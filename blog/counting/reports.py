"""Reporting reads for the admin: the most read posts today, in 7 and 30 days and of all time."""

import datetime as dt

from django.db.models import F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from blog.models import Post


def top_posts(posts: QuerySet, limit: int = 20) -> list[tuple[str, list[Post]]]:
    """The most read of `posts` today, in 7 and 30 days (site time zone) and of all time.

    Each period is one query; every post carries its count as `period_views`.
    """
    today = timezone.localdate()
    fields = ("id", "title", "status", "published_at")
    periods = [(_("今天"), 1), (_("最近 7 天"), 7), (_("最近 30 天"), 30)]
    ranked = [
        (
            label,
            list(
                posts.filter(daily_views__day__gt=today - dt.timedelta(days=days))
                .annotate(period_views=Sum("daily_views__views"))
                .order_by("-period_views", "-id")
                .only(*fields)[:limit]
            ),
        )
        for label, days in periods
    ]
    all_time = (
        posts.filter(total_views__views__gt=0)
        .annotate(period_views=F("total_views__views"))
        .order_by("-period_views", "-id")
        .only(*fields)[:limit]
    )
    return [*ranked, (_("全部"), list(all_time))]
