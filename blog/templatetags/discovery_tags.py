"""Sidebar widgets, the article's table of contents and related posts, canonical URLs."""

import random
from typing import NamedTuple

from django import template
from django.conf import settings
from django.db.models import Count
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.utils.encoding import escape_uri_path
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from blog import rendering
from blog.discovery import cached, rendering_for_cache
from blog.models import Post, Tag
from blog.site import absolute_url, asset_url, share_image

register = template.Library()

RANDOM_POSTS = 10
RANDOM_POOL = 100
POPULAR_TAGS = 25
TAG_WEIGHTS = 5


@register.simple_tag(takes_context=True)
def canonical_url(context: template.Context) -> str:
    """This page's URL without its query string, on the canonical base URL when one is set."""
    request = context.get("request")
    return absolute_url(request, escape_uri_path(request.path)) if request else ""


@register.simple_tag(takes_context=True)
def page_csrf_token(context: template.Context) -> str:
    """`{% csrf_token %}` for forms on cached pages: empty there, for the form's script to fill
    in from `comments:form_tokens` when the reader starts using it (see comments/views.py)."""
    request = context["request"]
    if rendering_for_cache(request):
        return mark_safe('<input type="hidden" name="csrfmiddlewaretoken" value="">')
    return csrf_input(request)


@register.simple_tag(takes_context=True)
def absolute(context: template.Context, path: str) -> str:
    return absolute_url(context.get("request"), path)


@register.simple_tag(takes_context=True)
def share_image_url(context: template.Context, page_url: str, body_html: str = "") -> str:
    """og:image: the absolute URL of the page's first figure, else of SPACES_DEFAULT_IMAGE."""
    return share_image(context.get("request"), page_url, body_html)


@register.simple_tag(takes_context=True)
def listing_description(context: template.Context) -> str:
    """A listing's meta description: its category's description, author's bio, or the tagline."""
    subject = context.get("subject")
    text = getattr(subject, "description", "") or getattr(subject, "bio", "")
    return rendering.shorten(text, 199).text if text else context.get("site_tagline", "")


@register.inclusion_tag("blog/_site_icons.html")
def site_icons() -> dict:
    favicon = asset_url(settings.SPACES_FAVICON)
    return {
        "favicon": favicon,
        "favicon_is_svg": favicon.split("?")[0].endswith(".svg"),
        "touch_icon": asset_url(settings.SPACES_TOUCH_ICON),
    }


@register.filter
def plain_text(html: str) -> str:
    return rendering.plain_text(html)


@register.filter
def shortened_text(text: str, length: int) -> str:
    """At most `length` characters, `…` included, for a plain-text place (a meta description),
    cut like truncatechars but never inside a formula."""
    return text if len(text) <= length else rendering.shorten(text, length - 1).text


@register.simple_tag
def table_of_contents(entries: list) -> SafeString:
    """`post.toc` ([level, anchor, text], …) as nested lists; a skipped level nests only once."""
    html, levels = [], []
    for level, anchor, text in entries:
        if not levels or level > levels[-1]:
            html.append("<ol>")
            levels.append(level)
        else:
            html.append("</li>")
            while len(levels) > 1 and level <= levels[-2]:
                html.append("</ol></li>")
                levels.pop()
            levels[-1] = level
        html.append(format_html('<li><a href="#{}">{}</a>', anchor, text))
    if levels:
        html.append("</li></ol>" + "</li></ol>" * (len(levels) - 1))
    return mark_safe("".join(html))


@register.simple_tag
def related_posts(post: Post, count: int = 10) -> list[Post]:
    """Published posts sharing the most tags with `post`, newest first among equals (one query)."""
    tag_ids = [tag.pk for tag in post.tags.all()]
    if not tag_ids:
        return []
    return list(
        Post.objects.listed()
        .filter(tags__in=tag_ids)
        .exclude(pk=post.pk)
        .annotate(shared=Count("tags"))
        .only("id", "title", "published_at")
        .order_by("-shared", "-published_at", "-id")[:count]
    )


class RandomPost(NamedTuple):
    url: str
    title: str


class PopularTag(NamedTuple):
    name: str
    url: str
    post_count: int
    weight: int  # 1 to TAG_WEIGHTS


class SidebarWidgets(NamedTuple):
    random_posts: list[RandomPost]
    popular_tags: list[PopularTag]
    tag_cloud: SafeString  # popular_tags as HTML


@register.simple_tag
def sidebar_widgets() -> SidebarWidgets:
    """随机文章 and 热门标签, from one cache read: plain values, the tag cloud already rendered."""
    pool, tags, cloud = cached("sidebar", _sidebar_data, get_language())
    chosen = random.sample(pool, min(len(pool), RANDOM_POSTS))
    return SidebarWidgets([RandomPost(*post) for post in chosen], tags, cloud)


def _sidebar_data() -> tuple[list[tuple[str, str]], list[PopularTag], SafeString]:
    # Each page shows RANDOM_POSTS drawn from a pool drawn afresh with every content version:
    # random picks of ids, never ORDER BY RANDOM() over the whole table. The pool holds plain
    # (url, title) pairs, which load from the cache in a fraction of the time of named tuples.
    ids = list(Post.objects.listed().order_by().values_list("id", flat=True))
    chosen = Post.objects.filter(pk__in=random.sample(ids, min(len(ids), RANDOM_POOL))).order_by()
    pool = [(post.get_absolute_url(), post.title) for post in chosen.only("title", "kind", "slug")]
    tags = _weighted_tags(POPULAR_TAGS)
    # Rendered here, since 25 links with translated titles take longer than the rest of a sidebar.
    return pool, tags, render_to_string("blog/_popular_tags.html", {"tags": tags})


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
