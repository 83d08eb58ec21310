"""Which requests are reads of an article, the signed cookie that remembers them for half an hour,
and the view decorators that count the read an article response serves."""

import re
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import NamedTuple

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.core.signing import BadSignature, TimestampSigner
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse

from blog import signatures
from blog.caching.version import remember_state
from blog.counting.display import view_count_html
from blog.counting.recording import add_view
from blog.models import is_staff_or_author

READ_WINDOW = 30 * 60  # seconds in which reloading an article counts once
COOKIE_NAME = "spaces_read"
COOKIE_SALT = "blog.counting.read-cookie"
# Posts the cookie remembers (the newest); ~20 bytes each, sent only with /archives/ requests.
COOKIE_MAX_POSTS = 32
COOKIE_ITEM = re.compile(r"([0-9]{1,18})-([0-9]{1,12})")  # post id, Unix time of the read
# No browser sends a longer User-Agent, and the crawler patterns take time superlinear in its
# length: longer ones are not matched at all, just not counted.
MAX_USER_AGENT = 512
PURPOSE_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
PURPOSE_WORDS = ("prefetch", "prerender", "preview")

_crawlers = CrawlerDetect()


class CountedRead(NamedTuple):
    """A request counted as a read: the reads its cookie remembers, and the post's new count
    (None when it is not known yet, as with the Redis buffer)."""

    recent: dict[int, int]
    views: int | None


def is_crawler(user_agent: str) -> bool:
    """Known bots, and agents no browser sends (empty or absurdly long)."""
    if len(user_agent) > MAX_USER_AGENT or not user_agent.strip():
        return True
    return _crawlers.is_crawler(user_agent)


def is_speculative(request: HttpRequest) -> bool:
    """A prefetch or prerender the reader may never look at."""
    for header in PURPOSE_HEADERS:
        value = request.META.get(header, "")[:100].lower()
        if any(word in value for word in PURPOSE_WORDS):
            return True
    return False


def is_insider(request: HttpRequest, post_id: int) -> bool:
    """Staff, and the post's own authors: their visits are previews, not reads."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False  # signed in means a session; without one, loading the user costs for nothing
    return is_staff_or_author(getattr(request, "user", None), post_id)


def recently_read(request: HttpRequest) -> dict[int, int]:
    """Post ids this browser was counted for within the window, with when (signed cookie)."""
    if COOKIE_NAME not in request.COOKIES:
        return {}
    try:
        raw = TimestampSigner(salt=COOKIE_SALT).unsign(
            request.COOKIES[COOKIE_NAME], max_age=READ_WINDOW
        )
    except BadSignature:
        return {}
    now = int(time.time())
    recent: dict[int, int] = {}
    for item in raw.split(".")[:COOKIE_MAX_POSTS]:
        # No lower bound: another app server's clock may run a little ahead of this one's.
        if (match := COOKIE_ITEM.fullmatch(item)) and now - int(match[2]) < READ_WINDOW:
            recent[int(match[1])] = int(match[2])
    return recent


@lru_cache(maxsize=8)
def cookie_path(script_prefix: str) -> str:
    """The articles' path, which the cookie is sent to (reversed once per script prefix)."""
    return reverse("blog:post_list") + "archives/"


def remember_read(response: HttpResponse, recent: dict[int, int], post_id: int) -> None:
    recent = {**recent, post_id: int(time.time())}
    newest = sorted(recent.items(), key=lambda item: item[1])[-COOKIE_MAX_POSTS:]
    value = ".".join(f"{pk}-{seen}" for pk, seen in newest)
    response.set_cookie(
        COOKIE_NAME,
        signatures.timestamp_sign(value, COOKIE_SALT),  # as TimestampSigner(salt=…) signs
        max_age=READ_WINDOW,
        path=cookie_path(get_script_prefix()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def count_read(request: HttpRequest, post_id: int) -> CountedRead | None:
    """Count `request` as one read of post `post_id` if it is one (None if it did not count)."""
    if is_speculative(request) or is_crawler(request.META.get("HTTP_USER_AGENT", "")):
        return None
    recent = recently_read(request)
    if post_id in recent or is_insider(request, post_id):
        return None
    read = add_view(post_id)
    if read.version is not None:
        # The page cache needs the content version next: PostgreSQL answers it with the count.
        remember_state(read.version)
    return CountedRead(recent, read.views) if read.counted else None


def record_view(request: HttpRequest, response: HttpResponse, post_id: int) -> bool:
    """Count `request` as one read of post `post_id` if it is one; says whether it counted."""
    counted = count_read(request, post_id)
    if counted is not None:
        remember_read(response, counted.recent, post_id)
    return counted is not None


def counts_views(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Count the read an article view serves (kwarg `pk`); wrap it around the page cache.

    The read is counted before the page is made, and its new count passed to the page cache as
    a known hole (blog.caching.pages.cached_page), so that the page shows the count with it.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        counted = None
        if (
            settings.SPACES_VIEW_COUNTING
            and settings.SPACES_VIEW_COUNT_MODE == "server"
            and request.method == "GET"
        ):
            counted = count_read(request, kwargs["pk"])
        if counted is not None and counted.views is not None:
            shown = view_count_html(kwargs["pk"], counted.views)
            kwargs["known_holes"] = {("views", str(kwargs["pk"])): shown}
        response = view(request, *args, **kwargs)
        if counted is not None and response.status_code == 200:
            remember_read(response, counted.recent, kwargs["pk"])
        return response

    return wrapper
