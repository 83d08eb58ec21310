"""The sidebar's 随机文章 and 热门标签 widgets, from one cached value per content version and
language."""

import random
from typing import NamedTuple

from django import template
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from blog.caching.values import cached
from blog.models import Post, Tag

register = template.Library()

RANDOM_POSTS = 10
RANDOM_POOL = 100
POPULAR_TAGS = 25
TAG_WEIGHTS = 5


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
