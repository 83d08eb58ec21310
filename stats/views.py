"""The admin's charts: the whole site (an author's own posts) and one post."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from blog import roles
from blog.models import Post
from stats.charts import daily_bars, share_bar
from stats.queries import PERIODS, comments_per_day, top_posts, views_per_day


def charted_posts(request: HttpRequest) -> QuerySet:
    """Editors chart every post; everyone else who writes, their own."""
    if not request.user.has_perm("blog.view_post"):
        raise PermissionDenied
    if roles.is_editor(request.user):
        return Post.objects.all()
    return Post.objects.filter(authors__user=request.user)


def chosen_period(request: HttpRequest) -> int:
    value = request.GET.get("days", "")
    return int(value) if value in {str(days) for days in PERIODS} else PERIODS[0]


def _charts(posts: QuerySet, days: int) -> list[dict]:
    views, comments = views_per_day(posts, days), comments_per_day(posts, days)
    return [
        {
            "title": _("每日阅读"),
            "total": views.total,
            "svg": daily_bars(views, _("每日阅读，共 %d") % views.total, "views"),
        },
        {
            "title": _("每日评论"),
            "total": comments.total,
            "svg": daily_bars(comments, _("每日评论，共 %d") % comments.total, "comments"),
        },
    ]


def _context(request: HttpRequest, title: str, days: int, **extra) -> dict:
    return {
        **admin.site.each_context(request),
        "title": title,
        "days": days,
        "periods": PERIODS,
        **extra,
    }


def site_charts(request: HttpRequest) -> HttpResponse:
    posts, days = charted_posts(request), chosen_period(request)
    top = top_posts(posts, days)
    largest = top[0].period_views if top else 0
    title = _("阅读与评论") if roles.is_editor(request.user) else _("我的文章：阅读与评论")
    context = _context(
        request,
        title,
        days,
        charts=_charts(posts, days),
        top=[(post, share_bar(post.period_views, largest)) for post in top],
    )
    return TemplateResponse(request, "stats/charts.html", context)


def post_charts(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(charted_posts(request).distinct().with_views(), pk=pk)
    days = chosen_period(request)
    one = Post.objects.filter(pk=post.pk)
    context = _context(request, post.title, days, post=post, charts=_charts(one, days))
    return TemplateResponse(request, "stats/charts.html", context)
