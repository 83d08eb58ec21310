"""The sidebar's widgets as holes that cached pages are served with: 随机文章 drawn for each page
from a cached pool, and 最近评论 with 热门标签 as one fragment cached per language and version
of the scopes it shows, so that a new comment renders it once, not once per page."""

import random
from collections.abc import Callable
from typing import NamedTuple

from django import template
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from blog.caching.holes import Fragment, fragment, hole
from blog.caching.values import cached
from blog.caching.version import COMMENTS, SITE
from blog.models import Post, Tag

register = template.Library()

RANDOM_POSTS = 10
RANDOM_POOL = 100
POPULAR_TAGS = 25
TAG_WEIGHTS = 5


class PopularTag(NamedTuple):
    name: str
    url: str
    post_count: int
    weight: int  # 1 to TAG_WEIGHTS


class SidebarData(NamedTuple):
    """What the sidebar shows that changes only with SITE: the pool 随机文章 draws from, each an
    escaped list item, the widget's opening, and the popular tags with their cloud."""

    pool: list[str]
    random_opening: str
    popular_tags: list[PopularTag]
    tag_cloud: SafeString


@register.simple_tag(takes_context=True)
def random_posts(context: template.Context) -> str:
    """随机文章, drawn anew for every page served: a hole in cached pages."""
    return hole(bool(context.get("for_cache")), "random", get_language(), random_posts_html)


@register.simple_tag(takes_context=True)
def sidebar_widgets(context: template.Context) -> str:
    """最近评论 and 热门标签, one fragment: a hole in cached pages."""
    return hole(bool(context.get("for_cache")), "sidebar", get_language(), widgets_html)


def in_languages(make: Callable[[], str]) -> Callable[[list[str]], list[str]]:
    """A hole filler (blog/apps.py) answering `make()` in each hole's language."""

    def filler(languages: list[str]) -> list[str]:
        filled = []
        for language in languages:
            if language == get_language():  # the request's own, nearly always
                filled.append(make())
                continue
            with translation.override(language):
                filled.append(make())
        return filled

    return filler


def sidebar_data() -> SidebarData:
    return cached("sidebar", _sidebar_data, get_language(), scopes=(SITE,))


def random_posts_html() -> SafeString:
    """RANDOM_POSTS links drawn from the cached pool, already HTML: a few microseconds a page."""
    data = sidebar_data()
    if not data.pool:
        return mark_safe("")
    chosen = random.sample(data.pool, min(len(data.pool), RANDOM_POSTS))
    return mark_safe(f"{data.random_opening}{''.join(chosen)}</ul>\n</section>")


def widgets_html() -> Fragment:
    """最近评论 and 热门标签 in the current language, cached until a post's title or a tag
    changes (SITE) or a comment is shown or hidden (COMMENTS): rendered once per change, not
    once per page."""
    return cached("sidebar-html", _render_widgets, get_language(), scopes=(SITE, COMMENTS))


def _render_widgets() -> Fragment:
    context = {"tag_cloud": sidebar_data().tag_cloud}
    return fragment(render_to_string("blog/_sidebar_widgets.html", context))


def _sidebar_data() -> SidebarData:
    # Each page shows RANDOM_POSTS drawn from a pool drawn afresh with every SITE version:
    # random picks of ids, never ORDER BY RANDOM() over the whole table. The pool holds
    # escaped list items, ready to be strung together for each page.
    ids = list(Post.objects.listed().order_by().values_list("id", flat=True))
    chosen = Post.objects.filter(pk__in=random.sample(ids, min(len(ids), RANDOM_POOL))).order_by()
    pool = [
        format_html('<li><a href="{}">{}</a></li>', post.get_absolute_url(), post.title)
        for post in chosen.only("title", "kind", "slug")
    ]
    opening = format_html(
        '<section class="widget random-posts">\n  <h2>{}</h2>\n  <ul>', _("随机文章")
    )
    tags = _weighted_tags(POPULAR_TAGS)
    # Rendered here, since 25 links with translated titles take longer than the rest of a sidebar.
    cloud = mark_safe(render_to_string("blog/_popular_tags.html", {"tags": tags}))
    return SidebarData(pool, opening, tags, cloud)


def _weighted_tags(count: int) -> list[PopularTag]:
    """The tags on the most published posts, by name, each with its weight from 1 to 5."""
    tags = list(
        Tag.objects.filter(posts__in=Post.objects.listed())
        .annotate(post_count=Count("posts"))
        .order_by("-post_count", "name")[:count]
    )
    if not tags:
        return []
    low, high = tags[-1].post_count, tags[0].post_count
    weighted = []
    for tag in sorted(tags, key=lambda tag: tag.name):
        spread = (tag.post_count - low) / (high - low) if high > low else 0
        weight = 1 + round(spread * (TAG_WEIGHTS - 1))
        weighted.append(PopularTag(tag.name, tag.get_absolute_url(), tag.post_count, weight))
    return weighted
