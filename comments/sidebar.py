"""The 最近评论 sidebar: the newest approved comments site-wide, cached between comment writes."""

import uuid

from django.core.cache import cache

from comments.models import Comment

SIZE = 10
EXCERPT_LENGTH = 47
VERSION_KEY = "comments:recent:version"
# Bounds how long a change the comments app does not see (a post turned back into a draft) shows.
TIMEOUT = 600


def current_version() -> str:
    return cache.get(VERSION_KEY) or refresh()


def recent_comments(version: str | None = None) -> list[dict]:
    """`name`, `excerpt` and `url` of the newest approved comments: one query on a cache miss."""
    key = f"comments:recent:{version or current_version()}"
    entries = cache.get(key)
    if entries is None:
        entries = [
            {
                "name": comment.author_name,
                "excerpt": comment.excerpt(EXCERPT_LENGTH),
                "url": comment.get_absolute_url(),
            }
            for comment in Comment.objects.for_sidebar()[:SIZE]
        ]
        cache.set(key, entries, TIMEOUT)
    return entries


def refresh() -> str:
    """Start a new cache version, so a list computed before a write can never be read after it."""
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, None)
    return version
