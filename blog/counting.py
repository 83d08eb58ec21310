"""Reader counts: which requests are reads, and recording each read exactly once.

Counted reads go straight to the database (one UPDATE of `Post.view_count` and one upsert of the
day's `PostDailyViews` row), or, with `SPACES_VIEW_BUFFER`, to a Redis hash that `flush_views`
moves into the database in idempotent batches.
"""

import datetime as dt
import logging
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache, wraps

import redis
from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.core.signing import BadSignature, TimestampSigner
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from blog import discovery, rawsql, signatures
from blog.discovery import ContentState
from blog.models import Post, PostAuthor, PostDailyViews, ViewFlushBatch

logger = logging.getLogger(__name__)

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

# Redis keys share one hash tag, so the Lua script below also works on a Redis Cluster.
PENDING_KEY = "{spaces:views}:pending"
BATCHES_KEY = "{spaces:views}:batches"
BATCH_KEY = "{spaces:views}:batch:%s"
# Seal the pending hits as a batch: rename the hash and register the batch, both or neither.
SEAL_BATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""
# Applied batches are remembered this long after their Redis keys are gone.
BATCH_MEMORY = dt.timedelta(days=1)

_crawlers = CrawlerDetect()

# Names for the plain SQL of the per-request paths (all of Django's backends quote with ").
POST_TABLE = f'"{Post._meta.db_table}"'
POST_ID, VIEW_COUNT, POST_STATUS, POST_PUBLISHED_AT = (
    f'"{Post._meta.get_field(name).column}"'
    for name in ("id", "view_count", "status", "published_at")
)

ViewCounts = dict[tuple[int, dt.date], int]


# --- Who counts ---------------------------------------------------------------------------------


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
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or PostAuthor.objects.filter(post_id=post_id, author__user=user).exists()


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


def count_read(request: HttpRequest, post_id: int) -> dict[int, int] | None:
    """Count `request` as one read of post `post_id` if it is one.

    Returns None if it did not count, else the reads to remember in the cookie. The post's new
    count, when known, is left in `request.spaces_view_counts` for the page to show.
    """
    if is_speculative(request) or is_crawler(request.META.get("HTTP_USER_AGENT", "")):
        return None
    recent = recently_read(request)
    if post_id in recent or is_insider(request, post_id):
        return None
    counted, views = add_view(post_id)
    if not counted:
        return None
    if views is not None:
        request.spaces_view_counts = {post_id: views}
    return recent


def record_view(request: HttpRequest, response: HttpResponse, post_id: int) -> bool:
    """Count `request` as one read of post `post_id` if it is one; says whether it counted."""
    recent = count_read(request, post_id)
    if recent is not None:
        remember_read(response, recent, post_id)
    return recent is not None


def counts_views(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Count the read an article view serves (kwarg `pk`); wrap it around any page cache.

    The read is counted before the page is made, so that the page shows the count with it.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        recent = None
        if (
            settings.SPACES_VIEW_COUNTING
            and settings.SPACES_VIEW_COUNT_MODE == "server"
            and request.method == "GET"
        ):
            recent = count_read(request, kwargs["pk"])
        response = view(request, *args, **kwargs)
        if recent is not None and response.status_code == 200:
            remember_read(response, recent, kwargs["pk"])
        return response

    return wrapper


# --- Showing ------------------------------------------------------------------------------------


def view_count_html(post_id: int, views: int) -> SafeString:
    """The "N位读者" of a post's meta line (beacon mode's script updates it by `data-post`)."""
    text = readers_text(get_language(), views)
    return mark_safe(f'<span class="view-count" data-post="{int(post_id)}">{text}</span>')


@lru_cache(maxsize=4096)
def readers_text(language: str, views: int) -> str:
    """The "N位读者" text in `language`, the active one, escaped: listings show the same counts."""
    return escape(ngettext("%(n)s位读者", "%(n)s位读者", views) % {"n": views})


def fill_view_counts(request: HttpRequest, arguments: list[str]) -> list[str]:
    """Page-cache holes: the live counts of the posts a cached page shows, in one query."""
    ids = [int(argument) for argument in arguments]
    views = getattr(request, "spaces_view_counts", {})
    if missing := set(ids) - views.keys():
        rows = rawsql.query(
            f"SELECT {POST_ID}, {VIEW_COUNT} FROM {POST_TABLE} WHERE {POST_ID} IN "
            f"({', '.join(['%s'] * len(missing))})",
            sorted(missing),
        )
        views = {**views, **{int(pk): int(count) for pk, count in rows}}
    return [view_count_html(pk, views.get(pk, 0)) for pk in ids]


# --- Recording ------------------------------------------------------------------------------------


# The site's date, its zone and the Unix times the date starts and ends: worked out again only
# on another day (or in another zone, as tests set).
_day: tuple[dt.date, dt.tzinfo | None, float, float] = (dt.date.min, None, 0.0, 0.0)


def site_today() -> dt.date:
    """Today in the site's TIME_ZONE, which the day of a read is counted in."""
    global _day
    now, zone = timezone.now(), timezone.get_default_timezone()
    day, day_zone, starts, ends = _day
    if zone is not day_zone or not starts <= now.timestamp() < ends:
        day = timezone.localtime(now, zone).date()
        start = dt.datetime.combine(day, dt.time(), zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        _day = (day, zone, start.timestamp(), end.timestamp())
    return day


def add_view(post_id: int) -> tuple[bool, int | None]:
    """Record one read of a published post: whether it counted, and the new count when known."""
    day = site_today()
    try:
        if settings.SPACES_VIEW_BUFFER:
            if not Post.objects.published().filter(pk=post_id).exists():
                return False, None
            try:
                redis_client(settings.REDIS_URL).hincrby(PENDING_KEY, f"{post_id}:{day}", 1)
                return True, None
            except redis.RedisError:
                logger.warning("Redis is unavailable; writing a view to the database directly")
        views = write_view(post_id, day)
        return views is not None, views
    except DatabaseError:
        # A reader's page matters more than one count; the error is logged for the operator.
        logger.exception("could not record a view of post %s", post_id)
        return False, None


def write_view(post_id: int, day: dt.date) -> int | None:
    """One read straight to the database: the post's new count, or None if it is not published.

    This runs on every counted article request, so it skips the ORM: on PostgreSQL it is one
    call of the `spaces_read_post` function (migrations 0005 and 0006), which also answers the
    content version for the request; on SQLite the post's UPDATE … RETURNING and the day's
    upsert in one transaction on the driver's connection.
    """
    published = Post.Status.PUBLISHED.value
    if connection.vendor == "postgresql":
        views, token, valid_until = postgresql_read_post(post_id, published, day)
        # The page cache needs the content version next: it came with the count.
        discovery.remember_state(ContentState(token, valid_until) if token else None)
        return views
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    day_value = connection.ops.adapt_datefield_value(day)
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return sqlite_write_view(connection.connection, [post_id, published, now], day_value)


READ_POST = "SELECT * FROM spaces_read_post(%s::bigint, %s, %s::timestamptz, %s::date)"


def postgresql_read_post(
    post_id: int, published: str, day: dt.date
) -> tuple[int | None, str | None, float | None]:
    """`spaces_read_post` on PostgreSQL: the new count, the content version's token and expiry."""
    [(views, token, valid_until)] = rawsql.query(
        READ_POST, [post_id, published, timezone.now(), day]
    )
    return (
        None if views is None else int(views),
        None if token is None else str(token),
        None if valid_until is None else float(valid_until),
    )


def sqlite_write_view(db: sqlite3.Connection, post: list, day: str) -> int | None:
    """`write_view` on SQLite, on the driver's connection: Django's cursor costs as much again.

    In a caller's transaction (`atomic()`) it is a savepoint of it; otherwise a transaction
    of its own, IMMEDIATE like all of ours.
    """
    if connection.in_atomic_block:
        begin, end, undo = "SAVEPOINT count_view", "RELEASE count_view", "ROLLBACK TO count_view"
    else:
        begin, end, undo = "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"
    sqlite_run(db, begin)
    try:
        row = sqlite_run(db, sqlite_view_sql(), post)
        if row is not None:
            sqlite_run(db, daily_upsert("?"), (post[0], day, 1))
        sqlite_run(db, end)
    except BaseException:
        if db.in_transaction:
            sqlite_run(db, undo)
            if connection.in_atomic_block:
                sqlite_run(db, end)
        raise
    return None if row is None else row[0]


def sqlite_run(db: sqlite3.Connection, sql: str, params: tuple | list = ()) -> tuple | None:
    """One statement's first row; logged where Django logs queries (DEBUG, tests' pins)."""
    started = time.monotonic()
    row = db.execute(sql, params).fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row


@lru_cache(maxsize=1)
def sqlite_view_sql() -> str:
    return (
        f"UPDATE {POST_TABLE} SET {VIEW_COUNT} = {VIEW_COUNT} + 1 "
        f"WHERE {POST_ID} = ? AND {POST_STATUS} = ? AND {POST_PUBLISHED_AT} <= ? "
        f"RETURNING {VIEW_COUNT}"
    )


@lru_cache(maxsize=2)
def daily_upsert(placeholder: str = "%s") -> str:
    """INSERT of a (post, day, views) row that adds the views to an existing row instead."""
    table = connection.ops.quote_name(PostDailyViews._meta.db_table)
    columns = [
        connection.ops.quote_name(PostDailyViews._meta.get_field(name).column)
        for name in ("post", "day", "views")
    ]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * 3)}) "
        f"ON CONFLICT ({columns[0]}, {columns[1]}) "
        f"DO UPDATE SET {columns[2]} = {table}.{columns[2]} + excluded.{columns[2]}"
    )


def write_views(counts: ViewCounts, *, published_only: bool = False) -> int:
    """Add views per (post, day) to the posts and their daily rows atomically; returns views added.

    Posts that no longer exist (or, with `published_only`, are not published) are skipped.
    """
    per_post: dict[int, int] = defaultdict(int)
    for (post_id, _day), views in counts.items():
        per_post[post_id] += views
    posts = Post.objects.published() if published_only else Post.objects.all()
    # Rows are locked in id order, so concurrent writers cannot deadlock each other.
    with transaction.atomic():
        counted = {
            post_id
            for post_id, views in sorted(per_post.items())
            if posts.filter(pk=post_id).update(view_count=F("view_count") + views)
        }
        rows = [
            (post_id, connection.ops.adapt_datefield_value(day), views)
            for (post_id, day), views in sorted(counts.items())
            if post_id in counted
        ]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(daily_upsert(), rows)
    return sum(per_post[post_id] for post_id in counted)


# --- The Redis buffer -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=0.5)


def parse_batch(fields: dict[bytes, bytes]) -> ViewCounts:
    counts: ViewCounts = {}
    for field, value in fields.items():
        try:
            post_id, day = field.decode().split(":")
            counts[(int(post_id), dt.date.fromisoformat(day))] = int(value)
        except (UnicodeDecodeError, ValueError):
            logger.warning("ignoring a malformed buffered view %r", field)
    return counts


def forget_batch(client: redis.Redis, batch: str) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(BATCH_KEY % batch)
        pipe.srem(BATCHES_KEY, batch)
        pipe.execute()


def apply_batch(client: redis.Redis, batch: str) -> int:
    """Move one sealed batch into the database once, then delete it; returns views added."""
    counts = parse_batch(client.hgetall(BATCH_KEY % batch))
    added = 0
    if counts and not ViewFlushBatch.objects.filter(batch=batch).exists():
        try:
            with transaction.atomic():
                ViewFlushBatch.objects.create(batch=batch)
                added = write_views(counts)
        except IntegrityError:
            if not ViewFlushBatch.objects.filter(batch=batch).exists():
                raise
            # A concurrent flush applied this batch first.
    forget_batch(client, batch)
    return added


def flush_buffered_views() -> tuple[int, int]:
    """Move every buffered view into the database; returns (views added, batches handled).

    A batch's row in ViewFlushBatch commits with its counts, so a batch left in Redis by a crash
    (after the commit, before the cleanup) is deleted on the next run without being added again.
    """
    client = redis_client(settings.REDIS_URL)
    batch = uuid.uuid4().hex
    client.eval(SEAL_BATCH, 3, PENDING_KEY, BATCH_KEY % batch, BATCHES_KEY, batch)
    batches = sorted(name.decode() for name in client.smembers(BATCHES_KEY))
    added = sum(apply_batch(client, name) for name in batches)
    still_registered = [name.decode() for name in client.smembers(BATCHES_KEY)]
    ViewFlushBatch.objects.filter(created_at__lt=timezone.now() - BATCH_MEMORY).exclude(
        batch__in=still_registered
    ).delete()
    return added, len(batches)


# --- Reporting ------------------------------------------------------------------------------------


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
        posts.filter(view_count__gt=0)
        .annotate(period_views=F("view_count"))
        .order_by("-view_count", "-id")
        .only(*fields)[:limit]
    )
    return [*ranked, (_("全部"), list(all_time))]
