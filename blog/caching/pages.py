"""The page cache: anonymous readers' GETs served from the shared cache per URL, language and
version of the scopes the page shows, with their holes filled and gzip made around them for
each response."""

import functools
import gzip
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from blog.caching.gzip_holes import Part, accepts_gzip, compress_part, gzip_with_holes, inflate_part
from blog.caching.holes import Known, fill_holes, filled, personal_holes, split_holes
from blog.caching.local import LocalCopies
from blog.caching.release import release
from blog.caching.values import MISSING, shared, store
from blog.caching.version import LISTINGS, SITE, SITE_WIDE, content_version, post_scope

CACHED_HEADERS = ("Content-Type", "Last-Modified", "X-Robots-Tag")
CACHE_HEADER = "X-Page-Cache"
GZIP_MIN_BYTES = 2 * 1024  # smaller pages gain too little from it
LOCAL_COPIES_BYTES = 64 * 1024 * 1024  # per process
# Cookies that change a page for their reader: with one of them, pages are rendered afresh.
# Apps add theirs when they load (comments: the remembered commenter).
PERSONAL_COOKIES = {settings.SESSION_COOKIE_NAME}
# What a page shows, as scopes of the content version (blog.caching.version); the sidebar is a
# hole with scopes of its own. Pages that list posts with their excerpts:
LISTING_PAGES = (SITE, LISTINGS)
# Scopes, or a function of the view's keyword arguments that answers them.
Scopes = Iterable[str] | Callable[..., Iterable[str]]


def post_pages(pk: int, **kwargs) -> tuple[str, str]:
    """The scopes of a post's own pages: its article with its comment threads."""
    return (SITE, post_scope(pk))


@dataclass(frozen=True)
class CachedPage:
    """A page as the cache keeps it: text with holes to fill, or bytes to send; both with gzip."""

    headers: dict[str, str]
    parts: list[str] | None = None  # text and hole markers, alternating
    content: bytes = b""  # a page without holes
    gzipped: bytes | None = None  # … and its gzip
    texts: tuple[bytes, ...] = ()  # the text parts of a page with holes, as UTF-8
    deflated: tuple[Part, ...] = ()  # … and each compressed

    @classmethod
    def of(cls, response: HttpResponse, parts: list[str]) -> "CachedPage":
        headers = {name: response[name] for name in CACHED_HEADERS if name in response}
        if len(parts) > 1:
            texts = tuple(text.encode() for text in parts[::2])
            large = sum(map(len, texts)) >= GZIP_MIN_BYTES
            deflated = tuple(map(compress_part, texts)) if large else ()
            return cls(headers, parts=parts, texts=texts, deflated=deflated)
        content = response.content
        # Compressed once here rather than per request; a page without holes holds no secret.
        gzipped = gzip.compress(content, mtime=0) if len(content) >= GZIP_MIN_BYTES else None
        return cls(headers, content=content, gzipped=gzipped)

    def __reduce__(self) -> tuple:
        """Pickled small, for the shared cache: compressed text where there is any (a page with
        holes as its parts' deflate data and its markers, a page without as its gzip). Loading
        it decompresses once per process, since each process keeps its own copy."""
        if self.parts is not None:
            stored = self.deflated or self.texts
            return (_page_with_holes, (self.headers, self.parts[1::2], stored, bool(self.deflated)))
        if self.gzipped is not None:
            return (_page_from_gzip, (self.headers, self.gzipped))
        return (CachedPage, (self.headers, None, self.content))

    def size(self) -> int:
        if self.parts is not None:
            return 2 * sum(map(len, self.texts)) + sum(len(part.deflated) for part in self.deflated)
        return len(self.content) + len(self.gzipped or b"")

    @functools.cached_property
    def plain_headers(self) -> dict[str, str]:
        """The headers of the page as stored: it varies by encoding when it has a gzip too."""
        compressible = bool(self.deflated) or self.gzipped is not None
        return {**self.headers, "Vary": "Accept-Encoding"} if compressible else self.headers

    @functools.cached_property
    def gzip_headers(self) -> dict[str, str]:
        return {**self.plain_headers, "Content-Encoding": "gzip"}

    def response(self, request: HttpRequest, known: Known) -> HttpResponse:
        if self.parts is not None:
            values = fill_holes(self.parts, known)
            if self.deflated and accepts_gzip(request):
                encoded = [value.encode() for value in values]
                compressed = [getattr(value, "deflated", None) for value in values]
                body = gzip_with_holes(self.deflated, encoded, compressed)
                return HttpResponse(body, headers=self.gzip_headers)
            return HttpResponse(filled(self.parts, values), headers=self.plain_headers)
        if self.gzipped is not None and accepts_gzip(request):
            return HttpResponse(self.gzipped, headers=self.gzip_headers)
        return HttpResponse(self.content, headers=self.plain_headers)


def _page_with_holes(
    headers: dict[str, str], markers: list[str], stored: tuple, deflated: bool
) -> CachedPage:
    texts = tuple(inflate_part(part.deflated) for part in stored) if deflated else stored
    parts: list[str] = [""] * (2 * len(texts) - 1)
    parts[::2] = [text.decode() for text in texts]
    parts[1::2] = markers
    return CachedPage(headers, parts=parts, texts=texts, deflated=stored if deflated else ())


def _page_from_gzip(headers: dict[str, str], gzipped: bytes) -> CachedPage:
    return CachedPage(headers, content=gzip.decompress(gzipped), gzipped=gzipped)


_local_copies = LocalCopies(LOCAL_COPIES_BYTES, CachedPage.size)


def render_for_cache(response: HttpResponse) -> None:
    """Render a template response as the cache's copy: its context's `for_cache` tells template
    tags to leave holes (and no tokens) instead of per-request values."""
    if hasattr(response, "render"):
        if getattr(response, "context_data", None) is not None:
            response.context_data = {**response.context_data, "for_cache": True}
        response.render()


def stored_page(key: str, version: str) -> CachedPage | None:
    """The page stored under `key` for `version`: this process's copy, else the shared one."""
    if (page := _local_copies.get_many(version, [key]).get(key)) is not None:
        return page
    if (page := shared(key, version)) is MISSING:
        return None
    _local_copies.keep(version, {key: page})
    return page


def personal_parts(
    page: CachedPage | None, request: HttpRequest, shows_the_visitor: bool
) -> Known | None:
    """The hole values of a stored page that are a visitor's own (see cached_page), or None
    when it must be rendered for them: nothing stored, a personal filler refuses them, or a
    page that shows its visitor without a personal hole to do it."""
    if page is None:
        return None
    own = personal_holes(page.parts or [], request)
    if own is None or (shows_the_visitor and not own):
        return None
    return own


def cached_page(
    view: Callable, scopes: Scopes = SITE_WIDE, shows_the_visitor: bool = False
) -> Callable:
    """Serve a page's GETs from the cache, per URL, language and version of `scopes` (by
    default the site-wide ones: any change but one to another post's own pages).

    Visitors with a personal cookie (logged in, a remembered commenter) get the stored page
    with its personal holes filled for them (their comment form); where the view shows its
    visitor (`shows_the_visitor`: drafts to their authors, a reader's own comments), only through
    such a hole, else it is rendered for them. Their requests never store a page.

    A caller wrapping it may pass `known_holes` (see blog.caching.holes.Known): hole values it
    already knows for this request, such as the reader count it has just written.
    """

    @functools.wraps(view)
    def wrapper(
        request: HttpRequest, *args, known_holes: Known | None = None, **kwargs
    ) -> HttpResponse:
        if request.method not in {"GET", "HEAD"}:
            return view(request, *args, **kwargs)
        # Read first, with every scope the page shows, so that its cached values need no
        # second read of the tokens (blog.caching.version), even with the page cache off.
        version = content_version(scopes(**kwargs) if callable(scopes) else scopes)
        if not settings.SPACES_PAGE_CACHE:
            return view(request, *args, **kwargs)
        known = known_holes or {}
        url = f"{request.get_host()}{request.get_full_path()}"
        digest = hashlib.sha256(url.encode()).hexdigest()
        key = f"spaces:page:{release()}:{get_language()}:{digest}"
        page = stored_page(key, version)
        if not PERSONAL_COOKIES.isdisjoint(request.COOKIES):
            own = personal_parts(page, request, shows_the_visitor)
            if own is None:
                return view(request, *args, **kwargs)
            return served(page.response(request, {**known, **own}), "hit")
        if page is not None:
            return served(page.response(request, known), "hit")
        response = view(request, *args, **kwargs)
        render_for_cache(response)
        parts = split_holes(response.content.decode(response.charset))
        if parts is None:  # a stray NUL in the content: no cache, no holes
            return view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            page = CachedPage.of(response, parts)
            store(key, version, page)
            _local_copies.keep(version, {key: page})
        if len(parts) > 1:
            response.content = filled(parts, fill_holes(parts, known))
        return served(response, "miss")

    return wrapper


def served(response: HttpResponse, how: str) -> HttpResponse:
    """Say whether the page came from the cache (`hit`) or was rendered for it (`miss`): for
    operators and for the benchmark's hit rate. Pages the cache never holds say nothing."""
    response[CACHE_HEADER] = how
    return response
