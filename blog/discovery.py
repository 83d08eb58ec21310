"""One cache version for everything derived from the published archive.

The pages anonymous readers see (home, articles, listings, the archive page, feeds, search), search
rankings and the sidebars are cached in the shared cache with a version token that names the
archive's state. The token is a database row (`ContentVersion`), read once per request. A new
token starts when a post, its tags or a tag is saved or deleted (signals, because the admin,
imports and services all write posts), once that write commits; when a scheduled post comes due;
and at the latest after SPACES_DISCOVERY_CACHE_SECONDS, which bounds how long changes no signal
reports (`QuerySet.update()`) take to show. Other apps whose data these pages show (comments) call
`content_changed()` with their writes. What differs per request is left as a hole in the cached
page and filled for each response: reader counts, which change with every read, and each
reader's tokens. A process keeps nothing but copies of cached values (pages, sidebars, search
rankings' pieces), checked against the shared token on every request, so every app server sees a
new token at once.
"""

import functools
import gzip
import hashlib
import logging
import pickle
import re
import struct
import threading
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished as finished_signal
from django.core.signals import request_started as started_signal
from django.db import connection, transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from blog import rawsql

logger = logging.getLogger(__name__)
CACHED_HEADERS = ("Content-Type", "Last-Modified", "X-Robots-Tag")
RELEASE_FILES = {".py", ".html", ".txt", ".xml"}
CACHE_HEADER = "X-Page-Cache"
GZIP_MIN_BYTES = 2 * 1024  # smaller pages gain too little from it
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
LOCAL_COPIES_BYTES = 64 * 1024 * 1024  # per process, for pages
LOCAL_VALUES_BYTES = 16 * 1024 * 1024  # per process, for `cached()` values
_MISSING = object()
VERSION_TABLE = '"blog_contentversion"'  # blog.models.ContentVersion
PRIVATE_STATE = "spaces_private_content_state"  # an attribute of the connection


class ContentState(NamedTuple):
    token: str
    valid_until: float  # Unix time


# The state a request has read, so that it reads it once: set to [None] when a request starts.
_request_state: ContextVar[list[ContentState | None] | None] = ContextVar(
    "spaces_content_state", default=None
)


def content_version() -> str:
    """The current token: read once per request from the database, renewed when it has expired
    or a scheduled post has come due. In a transaction that changed content, a token of its own.
    """
    if connection.in_atomic_block and _change_pending():
        private = getattr(connection, PRIVATE_STATE)
        if private.valid_until <= timezone.now().timestamp():
            private = _new_state()
            setattr(connection, PRIVATE_STATE, private)
        return private.token
    memo = _request_state.get()
    if memo is not None and memo[0] is not None:
        return memo[0].token
    return use_state(_read_state()).token


def use_state(state: ContentState | None) -> ContentState:
    """`state` as read from the database (None: no row yet), renewed if it no longer holds, and
    kept as the current request's."""
    if state is None or state.valid_until <= timezone.now().timestamp():
        state = _start_version(expected=state.token if state else "")
    if (memo := _request_state.get()) is not None:
        memo[0] = state
    return state


def remember_state(state: ContentState | None) -> None:
    """The state as read along with other work (an article's counted read), for the request."""
    if _request_state.get() is None or (connection.in_atomic_block and _change_pending()):
        return  # outside a request nothing would use it; this transaction has its own token
    use_state(state)


def _read_state() -> ContentState | None:
    rows = rawsql.query(f"SELECT token, valid_until FROM {VERSION_TABLE} WHERE id = 1")
    return ContentState(str(rows[0][0]), float(rows[0][1])) if rows else None


def _new_state() -> ContentState:
    """A new token, which holds until it expires or the next scheduled post comes due."""
    from blog.models import Post

    now = timezone.now()
    scheduled = Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=now)
    due = scheduled.aggregate(due=Min("published_at"))["due"]
    limit = now.timestamp() + settings.SPACES_DISCOVERY_CACHE_SECONDS
    return ContentState(uuid.uuid4().hex, min(limit, due.timestamp()) if due else limit)


def _start_version(expected: str | None = None) -> ContentState:
    """Store a new token; with `expected`, only if the stored one is still that token (readers
    renewing an expired token at once agree on one new token)."""
    state = _new_state()
    sql = (
        f"INSERT INTO {VERSION_TABLE} (id, token, valid_until) VALUES (1, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token, valid_until = excluded.valid_until"
    )
    with connection.cursor() as cursor:
        if expected is None:
            cursor.execute(sql, state)
        else:
            cursor.execute(f"{sql} WHERE {VERSION_TABLE}.token = %s", [*state, expected])
            if cursor.rowcount == 0:  # another request renewed it first
                state = _read_state() or state
    return state


def content_changed(**kwargs) -> None:
    """Receiver of post and tag signals, and for other apps: start a new token.

    In a transaction, the new token is stored when the write commits: before that, other readers
    would cache what they read under it without the write. Until then this transaction's own
    reads use a private token, so nothing it caches is taken for the shared state.
    """
    if connection.in_atomic_block:
        setattr(connection, PRIVATE_STATE, _new_state())
        if not _change_pending():
            # Robust: the write has committed by then, so a failure is only logged, and the old
            # token still expires on its own.
            transaction.on_commit(_committed, robust=True)
    else:
        _committed()


def _change_pending() -> bool:
    """Whether this transaction changed content: a rollback drops the callback with the change."""
    return any(entry[1] is _committed for entry in connection.run_on_commit)


def _committed() -> None:
    use_state(_start_version())


def request_started(**kwargs) -> None:
    _request_state.set([None])


def request_finished(**kwargs) -> None:
    _request_state.set(None)


def _shared(key: str, version: str) -> Any:
    """The value the shared cache holds under `key` for `version`, or _MISSING."""
    entry = cache.get(key)
    if entry is None or entry[0] != version:
        return _MISSING
    return entry[1]


def _store(key: str, version: str, value: Any) -> None:
    cache.set(key, (version, value), settings.SPACES_DISCOVERY_CACHE_SECONDS)


@functools.cache
def release() -> str:
    """A fingerprint of the code and templates that make pages, computed once per process.

    Cached pages and values are keyed with it, so that after a deploy no server shows what the
    code before it made, and during a rolling deploy old and new servers keep apart.
    """
    roots = [settings.BASE_DIR / name for name in ("blog", "comments", "config", "templates")]
    files = [path for root in roots for path in root.rglob("*") if path.suffix in RELEASE_FILES]
    files += [Path(settings.STATIC_ROOT) / "staticfiles.json", *_catalogues()]
    # By name and content, so that servers with the same release agree wherever it is installed.
    entries = sorted(
        f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
        for path in files
        if path.is_file()
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:12]


def _catalogues() -> list[Path]:
    return [path for root in settings.LOCALE_PATHS for path in Path(root).rglob("*.mo")]


def cached(name: str, compute: Callable[[], Any], *key: object) -> Any:
    """`compute()`, cached in the shared cache with the current content version, and copied into
    this process (callers must not change what it returns)."""
    full_key = ":".join(str(part) for part in ("spaces", release(), name, *key))
    version = content_version()
    if (value := _local_values.get_many(version, [full_key]).get(full_key, _MISSING)) is _MISSING:
        value = _shared(full_key, version)
        if value is _MISSING:
            value = compute()
            _store(full_key, version, value)
        _local_values.keep(version, {full_key: value})
    return value


# --- Pages cached with holes ---------------------------------------------------------------------
#
# A cached page is the same for every anonymous reader except for its holes: the CSRF token, the
# comment form's timestamp, the reader counts. While a page is rendered for the cache, template
# tags write a marker (NUL, name:argument, NUL) where a hole goes; every response then fills the
# markers afresh, so a cache hit still shows the live counts and gives each reader their own tokens.

HOLE = "\x00"
# name -> filler(request, [argument, …]) -> [HTML, …], one per argument, in order.
_fillers: dict[str, Callable[[HttpRequest, list[str]], list[str]]] = {}
# Cookies that change a page for their reader: with one of them, pages are rendered afresh.
PERSONAL_COOKIES = {settings.SESSION_COOKIE_NAME}


def register_hole(name: str, filler: Callable[[HttpRequest, list[str]], list[str]]) -> None:
    _fillers[name] = filler


def rendering_for_cache(request: HttpRequest | None) -> bool:
    """Whether the page being rendered is the cache's copy, shared by every reader."""
    return getattr(request, "spaces_holes", False)


def hole(
    request: HttpRequest | None, name: str, argument: object, render: Callable[[], str]
) -> str:
    """A marker while the page is rendered for the cache, else `render()` at once."""
    if rendering_for_cache(request):
        return mark_safe(f"{HOLE}{name}:{argument}{HOLE}")  # NUL never occurs in escaped text
    return render()


def split_holes(html: str) -> list[str] | None:
    """Text and markers alternating; None when a NUL does not start a known marker."""
    parts = html.split(HOLE)
    if len(parts) % 2 == 0 or any(part.partition(":")[0] not in _fillers for part in parts[1::2]):
        return None
    return parts


def fill_holes(request: HttpRequest, parts: list[str]) -> list[str]:
    """What goes into each of the holes among `parts` for this request, in order."""
    wanted: dict[str, list[str]] = {}
    for marker in parts[1::2]:
        name, _, argument = marker.partition(":")
        wanted.setdefault(name, []).append(argument)
    values = {name: iter(_fillers[name](request, arguments)) for name, arguments in wanted.items()}
    return [next(values[marker.partition(":")[0]]) for marker in parts[1::2]]


def filled(parts: list[str], values: list[str]) -> str:
    pieces = list(parts)
    pieces[1::2] = values
    return "".join(pieces)


# --- Gzip around holes ---------------------------------------------------------------------------
#
# A page with holes is compressed once too: each text part on its own, as raw deflate data ending
# on a byte boundary without a final block. A response then strings the parts' data together with
# its holes as stored (uncompressed) blocks between them, and adds the gzip header and trailer.
# Every decoder reads this as one ordinary gzip stream. Since nothing is compressed together
# with a hole, the tokens in the holes cannot leak through the compressed length (BREACH).

GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time
FINAL_BLOCK = zlib.compressobj(wbits=-15).flush(zlib.Z_FINISH)  # an empty last block
STORED_MAX = 0xFFFF


def deflate_part(data: bytes) -> bytes:
    """`data` as raw deflate blocks that another part's blocks may follow."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def stored_blocks(data: bytes) -> bytes:
    """`data` in uncompressed deflate blocks (header byte 0: not last, stored; then LEN, NLEN)."""
    blocks = []
    for start in range(0, len(data), STORED_MAX):
        chunk = data[start : start + STORED_MAX]
        blocks.append(struct.pack("<BHH", 0, len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def gzip_with_holes(
    texts: tuple[bytes, ...], deflated: tuple[bytes, ...], values: list[bytes]
) -> bytes:
    """The gzip stream of texts[0] + values[0] + texts[1] + …, from the texts' deflate data."""
    body, crc, size = [GZIP_HEADER], 0, 0
    for index, text in enumerate(texts):
        body.append(deflated[index])
        crc, size = zlib.crc32(text, crc), size + len(text)
        if index < len(values):
            body.append(stored_blocks(values[index]))
            crc, size = zlib.crc32(values[index], crc), size + len(values[index])
    body += [FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF)]
    return b"".join(body)


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


@dataclass(frozen=True)
class CachedPage:
    """A page as the cache keeps it: text with holes to fill, or bytes to send; both with gzip."""

    headers: dict[str, str]
    parts: list[str] | None = None  # text and hole markers, alternating
    content: bytes = b""  # a page without holes
    gzipped: bytes | None = None  # … and its gzip
    texts: tuple[bytes, ...] = ()  # the text parts of a page with holes, as UTF-8
    deflated: tuple[bytes, ...] = ()  # … and each part's deflate data

    @classmethod
    def of(cls, response: HttpResponse, parts: list[str]) -> "CachedPage":
        headers = {name: response[name] for name in CACHED_HEADERS if name in response}
        if len(parts) > 1:
            texts = tuple(text.encode() for text in parts[::2])
            large = sum(map(len, texts)) >= GZIP_MIN_BYTES
            deflated = tuple(map(deflate_part, texts)) if large else ()
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
            return 2 * sum(map(len, self.texts)) + sum(map(len, self.deflated))
        return len(self.content) + len(self.gzipped or b"")

    @functools.cached_property
    def plain_headers(self) -> dict[str, str]:
        """The headers of the page as stored: it varies by encoding when it has a gzip too."""
        compressible = bool(self.deflated) or self.gzipped is not None
        return {**self.headers, "Vary": "Accept-Encoding"} if compressible else self.headers

    @functools.cached_property
    def gzip_headers(self) -> dict[str, str]:
        return {**self.plain_headers, "Content-Encoding": "gzip"}

    def response(self, request: HttpRequest) -> HttpResponse:
        if self.parts is not None:
            values = fill_holes(request, self.parts)
            if self.deflated and accepts_gzip(request):
                encoded = [value.encode() for value in values]
                body = gzip_with_holes(self.texts, self.deflated, encoded)
                return HttpResponse(body, headers=self.gzip_headers)
            return HttpResponse(filled(self.parts, values), headers=self.plain_headers)
        if self.gzipped is not None and accepts_gzip(request):
            return HttpResponse(self.gzipped, headers=self.gzip_headers)
        return HttpResponse(self.content, headers=self.plain_headers)


def _page_with_holes(
    headers: dict[str, str], markers: list[str], stored: tuple[bytes, ...], deflated: bool
) -> CachedPage:
    texts = (
        tuple(zlib.decompressobj(wbits=-15).decompress(data) for data in stored)
        if deflated
        else stored
    )
    parts: list[str] = [""] * (2 * len(texts) - 1)
    parts[::2] = [text.decode() for text in texts]
    parts[1::2] = markers
    return CachedPage(headers, parts=parts, texts=texts, deflated=stored if deflated else ())


def _page_from_gzip(headers: dict[str, str], gzipped: bytes) -> CachedPage:
    return CachedPage(headers, content=gzip.decompress(gzipped), gzipped=gzipped)


class LocalCopies:
    """Values from the shared cache, also kept in this process: copies of one content version,
    checked against the shared version on every request, so that a change on any server shows
    here at once; the least recently used are dropped first beyond a budget of bytes. Reading the
    small version costs a fraction of fetching and decoding the values again."""

    def __init__(self, budget: int, size: Callable[[Any], int]) -> None:
        self.budget = budget  # bytes kept, at most, as `size` counts them
        self.size = size
        self.version = ""
        self.used = 0
        self.values: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get_many(self, version: str, keys: list[str]) -> dict[str, Any]:
        with self.lock:
            if version != self.version:
                self.version, self.used, self.values = version, 0, OrderedDict()
            found = {key: self.values[key] for key in keys if key in self.values}
            for key in found:
                self.values.move_to_end(key)
            return found

    def keep(self, version: str, values: dict[str, Any]) -> None:
        with self.lock:
            if version != self.version:
                return  # another version is the current one now
            for key, value in values.items():
                size = self.size(value)
                if key in self.values or size > self.budget:
                    continue
                while self.used + size > self.budget:
                    self.used -= self.size(self.values.popitem(last=False)[1])
                self.values[key] = value
                self.used += size


_local_copies = LocalCopies(LOCAL_COPIES_BYTES, CachedPage.size)
_local_values = LocalCopies(LOCAL_VALUES_BYTES, lambda value: len(pickle.dumps(value, -1)))


def cached_page(view: Callable) -> Callable:
    """Serve a page's anonymous GETs from the cache, per content version, language and URL."""
    # Visitors with a personal cookie (logged in, a remembered commenter) and responses that set
    # cookies always get a freshly rendered page.

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if (
            not settings.SPACES_PAGE_CACHE
            or request.method not in {"GET", "HEAD"}
            or not PERSONAL_COOKIES.isdisjoint(request.COOKIES)
        ):
            return view(request, *args, **kwargs)
        url = f"{request.get_host()}{request.get_full_path()}"
        digest = hashlib.sha256(url.encode()).hexdigest()
        key = f"spaces:page:{release()}:{get_language()}:{digest}"
        version = content_version()
        if (page := _local_copies.get_many(version, [key]).get(key)) is not None:
            return served(page.response(request), "hit")
        page = _shared(key, version)
        if page is not _MISSING:
            _local_copies.keep(version, {key: page})
            return served(page.response(request), "hit")
        request.spaces_holes = True
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        request.spaces_holes = False
        parts = split_holes(response.content.decode(response.charset))
        if parts is None:  # a stray NUL in the content: no cache, no holes
            return view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            page = CachedPage.of(response, parts)
            _store(key, version, page)
            _local_copies.keep(version, {key: page})
        if len(parts) > 1:
            response.content = filled(parts, fill_holes(request, parts))
        return served(response, "miss")

    return wrapper


def served(response: HttpResponse, how: str) -> HttpResponse:
    """Say whether the page came from the cache (`hit`) or was rendered for it (`miss`): for
    operators and for the benchmark's hit rate. Pages the cache never holds say nothing."""
    response[CACHE_HEADER] = how
    return response


def connect_signals() -> None:
    from blog.counting import fill_view_counts
    from blog.models import Category, Post, Tag

    started_signal.connect(request_started, dispatch_uid="spaces-content-state")
    finished_signal.connect(request_finished, dispatch_uid="spaces-content-state")
    register_hole("views", fill_view_counts)

    for model in (Post, Tag, Category):
        post_save.connect(content_changed, sender=model, dispatch_uid=f"content-saved-{model}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"content-gone-{model}")
    m2m_changed.connect(content_changed, sender=Post.tags.through, dispatch_uid="content-tags")
