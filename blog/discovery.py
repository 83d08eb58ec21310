"""One cache version for everything derived from the published archive.

The listing pages, the archive page, feeds, search rankings and the sidebar's random posts and
popular tags are cached in the shared cache with a version token that names the archive's state.
A new token starts when a post, its tags or a tag is saved or deleted (signals, because the admin,
imports and services all write posts), when a scheduled post comes due, and at the latest after
SPACES_DISCOVERY_CACHE_SECONDS, which bounds how long changes no signal reports
(`QuerySet.update()`, such as view counts) take to show. Other apps whose data these pages show
(comment counts) call `content_changed()` after their writes. Nothing is kept in a process's
memory, so every app server sees a new token at once.
"""

import functools
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

logger = logging.getLogger(__name__)
VERSION_KEY = "spaces:content:version"
CACHED_HEADERS = ("Content-Type", "Last-Modified", "X-Robots-Tag")
_MISSING = object()


def content_version() -> str:
    """The current token: a cache read, and a query for a new token when there is none."""
    state = cache.get(VERSION_KEY)
    if state is None or _due(state):
        from blog.models import Post

        now = timezone.now()
        scheduled = Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=now)
        state = (uuid.uuid4().hex, scheduled.aggregate(due=Min("published_at"))["due"])
        cache.set(VERSION_KEY, state, settings.SPACES_DISCOVERY_CACHE_SECONDS)
    return state[0]


def _due(state: tuple[str, Any]) -> bool:
    """Whether a scheduled post has come due since the token started."""
    return state[1] is not None and state[1] <= timezone.now()


def content_changed(**kwargs) -> None:
    """Receiver of post and tag signals, and for other apps: start a new token."""
    _forget_version()
    # Again once other readers can see the write: a reader may have cached the data from before
    # the commit under the token started just now.
    transaction.on_commit(_forget_version)


def _forget_version() -> None:
    try:
        cache.delete(VERSION_KEY)
    except Exception:
        # A cache outage must not fail the write: the token then expires on its own.
        logger.exception("Could not renew the content cache version.")


def _lookup(key: str) -> tuple[str, Any]:
    """The current version, and the value cached for it under `key` (or _MISSING)."""
    version = content_version()
    entry = cache.get(key)
    if entry is None or entry[0] != version:
        return version, _MISSING
    return version, entry[1]


def _store(key: str, version: str, value: Any) -> None:
    cache.set(key, (version, value), settings.SPACES_DISCOVERY_CACHE_SECONDS)


def cached(name: str, compute: Callable[[], Any], *key: object) -> Any:
    """`compute()`, cached in the shared cache with the current content version."""
    full_key = ":".join(str(part) for part in ("spaces", name, *key))
    version, value = _lookup(full_key)
    if value is _MISSING:
        value = compute()
        _store(full_key, version, value)
    return value


def cached_page(view: Callable) -> Callable:
    """Serve a page's anonymous GETs from the cache, per content version, language and URL."""
    # Visitors with a session (logged in), and responses that set cookies or need a CSRF token,
    # always get a freshly rendered page.

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in {"GET", "HEAD"} or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return view(request, *args, **kwargs)
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"spaces:page:{get_language()}:{path}"
        version, page = _lookup(key)
        if page is not _MISSING:
            return HttpResponse(page[0], headers=page[1])
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if (
            response.status_code == 200
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            headers = {name: response[name] for name in CACHED_HEADERS if name in response}
            _store(key, version, (response.content, headers))
        return response

    return wrapper


def connect_signals() -> None:
    from blog.models import Category, Post, Tag

    for model in (Post, Tag, Category):
        post_save.connect(content_changed, sender=model, dispatch_uid=f"content-saved-{model}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"content-gone-{model}")
    m2m_changed.connect(content_changed, sender=Post.tags.through, dispatch_uid="content-tags")
