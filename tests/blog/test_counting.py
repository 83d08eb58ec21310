import contextlib
import datetime as dt
import fcntl
import io
import os
import time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import redis
from django.core.management import call_command
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.caching import version
from blog.counting import batches, buffer, postgresql, reads, recording
from blog.counting import sqlite as sqlite_recorder
from blog.models import ContentVersion, Post, PostDailyViews, PostViews, ViewFlushBatch
from tests.factories import AuthorFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


def read(client, post: Post, **headers):
    return client.get(post.get_absolute_url(), HTTP_USER_AGENT=BROWSER, **headers)


def views(post: Post) -> int:
    return Post.objects.with_views().get(pk=post.pk).view_count


def daily(post: Post) -> dict[dt.date, int]:
    return dict(PostDailyViews.objects.filter(post=post).values_list("day", "views"))


def test_a_read_counts_once_with_its_daily_row(client):
    post = PostFactory(view_count=41)
    response = read(client, post)
    assert response.status_code == 200
    assert views(post) == 42
    assert daily(post) == {timezone.localdate(): 1}
    assert reads.COOKIE_NAME in response.cookies


def test_count_shows_on_the_article_and_cards(client):
    post = PostFactory(view_count=1233)
    read(client, post)
    assert "1234位读者" in read(client, post).content.decode()
    assert "1234位读者" in client.get("/").content.decode()


def test_reload_within_window_counts_once(client):
    post = PostFactory()
    for _ in range(3):
        assert read(client, post).status_code == 200
    assert views(post) == 1
    assert daily(post) == {timezone.localdate(): 1}


@pytest.mark.parametrize(("minutes", "expected"), [(29, 1), (31, 2)])
def test_reload_counts_again_only_after_thirty_minutes(client, monkeypatch, minutes, expected):
    post = PostFactory()
    read(client, post)
    later = time.time() + minutes * 60
    monkeypatch.setattr(time, "time", lambda: later)
    read(client, post)
    assert views(post) == expected


def read_cookie_value(client) -> str:
    return client.cookies[reads.COOKIE_NAME].value


def test_other_posts_count_while_one_is_remembered(client):
    first, second = PostFactory(), PostFactory()
    read(client, first)
    read(client, second)
    read(client, first)
    assert (views(first), views(second)) == (1, 1)


def test_distinct_visitors_each_count():
    post = PostFactory()
    for _ in range(5):
        read(Client(), post)
    assert views(post) == 5


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0)",
        "curl/8.5.0",
        "python-requests/2.31.0",
        "",
        "   ",
    ],
)
def test_bots_and_agentless_requests_are_not_counted(client, agent):
    post = PostFactory()
    response = client.get(post.get_absolute_url(), HTTP_USER_AGENT=agent)
    assert response.status_code == 200
    assert views(post) == 0
    assert reads.COOKIE_NAME not in response.cookies


def test_million_character_user_agent_is_not_matched_or_counted(client, monkeypatch):
    def no_regex(agent: str) -> bool:
        raise AssertionError("the crawler patterns ran on an oversized user agent")

    monkeypatch.setattr(reads._crawlers, "is_crawler", no_regex)
    post = PostFactory()
    response = client.get(post.get_absolute_url(), HTTP_USER_AGENT="Mozilla/5.0 " * 100_000)
    assert response.status_code == 200
    assert views(post) == 0


def test_head_requests_are_not_counted(client):
    post = PostFactory()
    assert client.head(post.get_absolute_url(), HTTP_USER_AGENT=BROWSER).status_code == 200
    assert views(post) == 0


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_PURPOSE": "preview"},
        {"HTTP_X_MOZ": "prefetch"},
    ],
)
def test_prefetch_and_prerender_are_not_counted(client, header):
    post = PostFactory()
    assert read(client, post, **header).status_code == 200
    assert views(post) == 0


def test_absurd_purpose_header_is_harmless(client):
    post = PostFactory()
    assert read(client, post, HTTP_SEC_PURPOSE="x" * 100_000).status_code == 200
    assert views(post) == 1


def test_the_posts_own_author_is_not_counted(client):
    author = AuthorFactory()
    post = PostFactory(authors=[AuthorFactory(), author])
    client.force_login(author.user)
    assert read(client, post).status_code == 200
    assert views(post) == 0


def test_staff_are_not_counted(client):
    post = PostFactory()
    client.force_login(UserFactory(is_staff=True))
    read(client, post)
    assert views(post) == 0


def test_other_signed_in_readers_are_counted(client):
    post = PostFactory()
    client.force_login(UserFactory())
    read(client, post)
    assert views(post) == 1


def test_draft_previews_are_never_counted(client):
    author = AuthorFactory()
    draft = PostFactory(status=Post.Status.DRAFT, authors=[author])
    client.force_login(UserFactory(is_superuser=True))
    assert read(client, draft).status_code == 200
    assert views(draft) == 0


@pytest.mark.parametrize("read_before", [False, True])
def test_only_published_posts_are_counted_with_or_without_a_total_yet(read_before):
    post = PostFactory(view_count=5 if read_before else None, status=Post.Status.DRAFT)
    assert recording.record_read(post.pk, timezone.localdate()).counted is False
    assert views(post) == (5 if read_before else 0)
    assert PostViews.objects.filter(post=post).exists() is read_before
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHED)
    assert recording.record_read(post.pk, timezone.localdate()).views == (6 if read_before else 1)
    assert daily(post) == {timezone.localdate(): 1}


def test_missing_posts_count_nothing(client):
    assert client.get("/archives/424242", HTTP_USER_AGENT=BROWSER).status_code == 404
    assert not PostDailyViews.objects.exists()


@pytest.mark.parametrize(
    "cookie",
    ["garbage", "1-1:forged:signature", "", "x" * 3000, "\xe4\xb8\xad", "=;,"],
)
def test_tampered_cookies_are_ignored_and_count_once(client, cookie):
    post = PostFactory()
    client.cookies[reads.COOKIE_NAME] = cookie
    assert read(client, post).status_code == 200
    assert read(client, post).status_code == 200
    assert views(post) == 1


def test_a_cookie_signed_for_another_post_does_not_hide_this_one(client):
    first, second = PostFactory(), PostFactory()
    read(client, first)
    value = read_cookie_value(client)
    client.cookies[reads.COOKIE_NAME] = value.replace(f"{first.pk}-", f"{second.pk}-", 1)
    read(client, second)
    assert views(second) == 1


def test_the_cookie_stays_small(client):
    posts = PostFactory.create_batch(40)
    for post in posts:
        read(client, post)
    assert PostViews.objects.filter(views=1).count() == 40
    request = RequestFactory().get("/")
    request.COOKIES[reads.COOKIE_NAME] = read_cookie_value(client)
    remembered = reads.recently_read(request)
    assert len(remembered) == reads.COOKIE_MAX_POSTS
    assert posts[-1].pk in remembered
    assert posts[0].pk not in remembered
    assert len(read_cookie_value(client)) < 1000


def test_cookie_is_private_to_articles(client):
    post = PostFactory()
    morsel = read(client, post).cookies[reads.COOKIE_NAME]
    assert morsel["path"] == "/archives/"
    assert morsel["httponly"]
    assert morsel["samesite"] == "Lax"
    assert morsel["max-age"] == reads.READ_WINDOW


def test_counting_can_be_switched_off(client, settings):
    settings.SPACES_VIEW_COUNTING = False
    post = PostFactory()
    read(client, post)
    assert views(post) == 0


def test_a_database_error_while_counting_still_serves_the_page(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setitem(recording.RECORDERS, connection.vendor, broken)
    post = PostFactory()
    assert read(client, post).status_code == 200
    assert views(post) == 0


def test_write_views_adds_per_post_and_day_and_skips_missing_posts():
    post = PostFactory(view_count=10)
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    PostDailyViews.objects.create(post=post, day=today, views=5)
    added = batches.write_views({(post.pk, today): 3, (post.pk, yesterday): 2, (999999, today): 7})
    assert added == 5
    assert views(post) == 15
    assert daily(post) == {today: 8, yesterday: 2}


@pytest.mark.django_db(transaction=True)
def test_write_view_commits_in_a_transaction_of_its_own():
    post = PostFactory(view_count=7)
    today = timezone.localdate()
    assert recording.record_read(post.pk, today).views == 8
    assert recording.record_read(post.pk, today).views == 9
    assert views(post) == 9
    assert daily(post) == {today: 2}
    if connection.vendor == "sqlite":
        assert not connection.connection.in_transaction


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_write_view_counts_only_published_posts(status):
    if status == "draft":
        post = PostFactory(status=Post.Status.DRAFT)
    else:
        post = PostFactory(published_at=timezone.now() + dt.timedelta(hours=1))
    assert recording.record_read(post.pk, timezone.localdate()).views is None
    assert views(post) == 0
    assert daily(post) == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_atomic", [False, True])
def test_write_view_on_postgresql_answers_the_content_version_in_and_out_of_transactions(
    postgres, in_atomic
):
    post = PostFactory(view_count=4)
    today = timezone.localdate()
    with transaction.atomic() if in_atomic else contextlib.nullcontext():
        read_ = postgresql.record_read(post.pk, today)
        assert read_.views == 5
        site = ContentVersion.objects.get(scope=version.SITE)
        assert read_.version.tokens[version.SITE] == site.token
        assert read_.version.valid_until == site.valid_until
        assert read_.version.tokens[version.post_scope(post.pk)] == ""  # never renewed yet
    assert views(post) == 5
    assert daily(post) == {today: 1}
    renewed = version.renew([version.post_scope(post.pk)])  # a comment on it, say
    assert postgresql.record_read(post.pk, today).version.tokens == {
        **read_.version.tokens,
        **renewed,
    }
    assert postgresql.record_read(999999, today).views is None


@pytest.mark.django_db(transaction=True)
def test_a_failing_counted_read_raises_djangos_error_and_leaves_the_connection_usable(
    postgres, monkeypatch, client, caplog
):
    post = PostFactory(view_count=2)
    monkeypatch.setattr(
        postgresql, "READ_POST", postgresql.READ_POST.replace("read_post", "nothing")
    )
    with pytest.raises(ProgrammingError, match="spaces_nothing"):
        recording.record_read(post.pk, timezone.localdate())
    assert read(client, post).status_code == 200  # the page is served, the error logged
    assert "could not record a view" in caplog.text
    assert views(post) == 2
    monkeypatch.undo()
    assert recording.record_read(post.pk, timezone.localdate()).views == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_atomic", [False, True])
def test_write_view_failing_halfway_leaves_nothing_behind(sqlite, monkeypatch, in_atomic):
    # PostgreSQL's count is one statement, atomic alone.
    post = PostFactory(view_count=3)
    other = PostFactory()
    monkeypatch.setattr(sqlite_recorder, "daily_upsert", lambda placeholder: "INSERT INTO nowhere")
    with transaction.atomic() if in_atomic else contextlib.nullcontext():
        if in_atomic:
            PostViews.objects.create(post=other, views=100)
        with pytest.raises(DatabaseError):
            recording.record_read(post.pk, timezone.localdate())
        assert views(post) == 3  # the UPDATE before the failure is undone
    assert views(post) == 3
    assert daily(post) == {}
    assert views(other) == (100 if in_atomic else 0)  # the caller's own work is kept
    assert not connection.connection.in_transaction


def hold(path) -> int:
    """Another holder of a turn file: a descriptor of its own that tries the lock at once."""
    return os.open(path, os.O_RDONLY)


def is_taken(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_atomic", [False, True])
def test_a_counted_read_on_sqlite_writes_in_its_turn(sqlite, monkeypatch, tmp_path, in_atomic):
    # The test database is in memory, which needs no turns: give it a turn file to watch.
    path = tmp_path / "db.sqlite3-counting.lock"
    turn = os.open(path, os.O_RDONLY | os.O_CREAT)
    monkeypatch.setattr(sqlite_recorder, "turn_file", lambda db: turn)
    other = hold(path)
    seen = []
    run = sqlite_recorder.Statements.run

    def watch(statements, sql, params=()):
        seen.append((sql.split()[0], is_taken(other)))
        return run(statements, sql, params)

    monkeypatch.setattr(sqlite_recorder.Statements, "run", watch)
    post = PostFactory(view_count=1)
    with transaction.atomic() if in_atomic else contextlib.nullcontext():
        assert recording.record_read(post.pk, timezone.localdate()).views == 2
    # Its own transaction holds the turn throughout; inside a caller's transaction, which may
    # hold SQLite's lock already, it takes none (waiting could deadlock).
    assert [held for _, held in seen] == [not in_atomic] * (4 if in_atomic else 5)
    assert seen[0][0] == ("SAVEPOINT" if in_atomic else "BEGIN")
    assert not is_taken(other)  # given back
    assert views(post) == 2


@pytest.mark.django_db(transaction=True)
def test_a_counted_read_on_sqlite_answers_the_content_version_from_its_transaction(sqlite):
    post = PostFactory(view_count=4)
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as captured:
        read_ = recording.record_read(post.pk, today)
    assert read_.views == 5
    site = ContentVersion.objects.get(scope=version.SITE)
    assert read_.version.tokens[version.SITE] == site.token
    assert read_.version.valid_until == site.valid_until
    assert read_.version.tokens[version.post_scope(post.pk)] == ""  # never renewed yet
    # Read before the commit, with the write lock held: no other writer comes between.
    assert [query["sql"].split()[0] for query in captured] == [
        "BEGIN",
        "INSERT",  # the total's upsert
        "INSERT",  # the day's
        "SELECT",
        "COMMIT",
    ]
    renewed = version.renew([version.post_scope(post.pk)])
    assert recording.record_read(post.pk, today).version.tokens == {
        **read_.version.tokens,
        **renewed,
    }
    missing = recording.record_read(999999, today)
    assert missing.views is None
    assert missing.version.tokens[version.SITE] == site.token
    # In a caller's transaction, its own changes decide the version.
    with transaction.atomic():
        assert recording.record_read(post.pk, today).version is None
    assert views(post) == 7


def test_sqlite_turn_files_are_one_per_database_and_process(sqlite, monkeypatch, tmp_path):
    db = SimpleNamespace(
        settings_dict={"NAME": str(tmp_path / "site.sqlite3")}, creation=connection.creation
    )
    first = sqlite_recorder.turn_file(db)
    assert first is not None
    assert (tmp_path / "site.sqlite3-counting.lock").exists()
    assert sqlite_recorder.turn_file(db) == first
    # A worker forked from this process takes turns with its own descriptor: flock's locks
    # belong to the open file, which a fork shares.
    monkeypatch.setattr(os, "getpid", lambda: -1)
    forked = sqlite_recorder.turn_file(db)
    assert forked not in (None, first)
    with sqlite_recorder.write_turn(db):
        assert is_taken(hold(tmp_path / "site.sqlite3-counting.lock"))
    assert not is_taken(hold(tmp_path / "site.sqlite3-counting.lock"))
    assert sqlite_recorder.turn_file(connection) is None  # the test database is in memory


@pytest.mark.django_db(transaction=True)
def test_only_the_counted_reads_commit_without_waiting_for_the_wal_on_postgresql(postgres):
    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit')")
            return cursor.fetchone()[0]

    post = PostFactory()
    with transaction.atomic():
        assert synchronous_commit() == "on"
        assert postgresql.record_read(post.pk, timezone.localdate()).views == 1
        # The count's own transaction (here the caller's) commits asynchronously …
        assert synchronous_commit() == "off"
    # … and the next one, a comment's say, waits for its WAL again.
    assert synchronous_commit() == "on"
    assert postgresql.record_read(post.pk, timezone.localdate()).views == 2
    assert synchronous_commit() == "on"


# --- Beacon mode --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_cached_article_costs_one_round_trip_on_postgresql(django_assert_num_queries):
    post = PostFactory(view_count=9)
    assert read(Client(), post).status_code == 200  # renders the page into the cache
    # PostgreSQL: the counting function, which answers the content version too. SQLite (in
    # process, no round trips): BEGIN, UPDATE … RETURNING, the day's upsert, COMMIT, the version.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 5):
        response = read(Client(), post)
    assert response.status_code == 200
    assert "11位读者" in response.content.decode()


@pytest.fixture
def beacon(settings):
    settings.SPACES_VIEW_COUNT_MODE = "beacon"


def hit(client, post: Post, **headers):
    return client.post(f"/archives/{post.pk}/hit", **{"HTTP_USER_AGENT": BROWSER, **headers})


def test_beacon_mode_counts_the_hit_not_the_page(client, beacon):
    post = PostFactory()
    html = read(client, post).content.decode()
    assert views(post) == 0
    assert f'data-hit-url="/archives/{post.pk}/hit"' in html
    assert "js/counter.js" in html
    response = hit(client, post)
    assert response.status_code == 204
    assert views(post) == 1
    hit(client, post)
    assert views(post) == 1
    assert daily(post) == {timezone.localdate(): 1}


def test_server_mode_has_no_beacon_and_ignores_hits(client):
    post = PostFactory()
    assert "counter.js" not in read(client, post).content.decode()
    assert views(post) == 1
    assert hit(client, PostFactory()).status_code == 204
    assert PostViews.objects.filter(views=1).count() == 1


def test_beacon_applies_the_same_rules(client, beacon):
    post = PostFactory()
    hit(client, post, HTTP_USER_AGENT="Googlebot/2.1")
    hit(client, post, HTTP_SEC_FETCH_SITE="cross-site")
    client.force_login(post.ordered_authors[0].user)
    hit(client, post)
    assert views(post) == 0


def test_beacon_for_drafts_or_missing_posts_counts_nothing(client, beacon):
    draft = PostFactory(status=Post.Status.DRAFT)
    assert hit(client, draft).status_code == 204
    assert client.post("/archives/77777/hit", HTTP_USER_AGENT=BROWSER).status_code == 204
    assert views(draft) == 0
    assert not PostDailyViews.objects.exists()


def test_beacon_needs_post_and_is_never_cached(client, beacon):
    post = PostFactory()
    assert client.get(f"/archives/{post.pk}/hit").status_code == 405
    assert "no-cache" in hit(client, post)["Cache-Control"]


def test_draft_preview_has_no_beacon(client, beacon):
    author = AuthorFactory()
    draft = PostFactory(status=Post.Status.DRAFT, authors=[author])
    client.force_login(author.user)
    assert "counter.js" not in read(client, draft).content.decode()


# --- The Redis buffer ---------------------------------------------------------------------------


@pytest.fixture
def buffered(settings, redis_url, use_redis_cache):
    """The buffer on, in the cache's Redis as in production (REDIS_URL is both)."""
    settings.SPACES_VIEW_BUFFER = True
    settings.REDIS_URL = redis_url
    use_redis_cache(redis_url)
    return redis.Redis.from_url(redis_url)


def buffer_keys(client: redis.Redis) -> list[bytes]:
    """The buffer's keys (the page cache shares the Redis database)."""
    return client.keys("{spaces:views}*")


def test_buffered_views_reach_the_database_at_flush(buffered):
    post = PostFactory(view_count=100)
    for _ in range(3):
        read(Client(), post)
    assert views(post) == 100
    call_command("flush_views")
    assert views(post) == 103
    assert daily(post) == {timezone.localdate(): 3}
    call_command("flush_views")
    assert views(post) == 103
    assert buffer_keys(buffered) == []


def test_buffer_keeps_the_day_of_the_read(client, buffered, monkeypatch):
    post = PostFactory()
    monkeypatch.setattr(recording, "site_today", lambda: dt.date(2024, 5, 31))
    read(client, post)
    monkeypatch.undo()
    call_command("flush_views")
    assert daily(post) == {dt.date(2024, 5, 31): 1}


def test_buffer_skips_unpublished_and_flush_skips_deleted_posts(buffered):
    draft = PostFactory(status=Post.Status.DRAFT)
    gone = PostFactory()
    read(Client(), draft)
    read(Client(), gone)
    gone.delete()
    call_command("flush_views")
    assert views(draft) == 0
    assert not PostDailyViews.objects.exists()
    assert buffer_keys(buffered) == []


def test_flush_after_crash_past_commit_does_not_count_twice(buffered, monkeypatch):
    post = PostFactory()
    for _ in range(4):
        read(Client(), post)

    def crash(client, batch):
        raise RuntimeError("killed before cleaning up Redis")

    monkeypatch.setattr(buffer, "forget_batch", crash)
    with pytest.raises(RuntimeError):
        call_command("flush_views")
    assert views(post) == 4
    assert len(buffered.smembers(buffer.BATCHES_KEY)) == 1
    monkeypatch.undo()
    read(Client(), post)
    call_command("flush_views")
    assert views(post) == 5
    assert daily(post) == {timezone.localdate(): 5}
    assert buffer_keys(buffered) == []


def test_flush_after_crash_before_commit_counts_once(buffered, monkeypatch):
    post = PostFactory()
    for _ in range(2):
        read(Client(), post)

    def crash(counts, **kwargs):
        raise RuntimeError("killed mid-transaction")

    monkeypatch.setattr(batches, "write_views", crash)
    with pytest.raises(RuntimeError):
        call_command("flush_views")
    assert views(post) == 0
    assert not ViewFlushBatch.objects.exists()
    monkeypatch.undo()
    call_command("flush_views")
    assert views(post) == 2


def test_flush_forgets_old_batches(buffered):
    old = ViewFlushBatch.objects.create(batch="old")
    ViewFlushBatch.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    recent = ViewFlushBatch.objects.create(batch="recent")
    call_command("flush_views")
    assert list(ViewFlushBatch.objects.all()) == [recent]


def test_unreachable_redis_falls_back_to_the_database(client, settings, use_redis_cache):
    settings.SPACES_VIEW_BUFFER = True
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    use_redis_cache(settings.REDIS_URL)
    post = PostFactory()
    assert read(client, post).status_code == 200
    assert views(post) == 1


def test_a_silent_redis_costs_the_buffer_one_timeout_per_pause(
    settings, use_redis_cache, silent_redis, monkeypatch
):
    """The buffer shares the cache's circuit breaker: after one timeout, reads go straight to
    the database without trying Redis again until the pause is over."""
    monkeypatch.setattr("blog.cache.monotonic", lambda: 1_000.0)
    settings.SPACES_VIEW_BUFFER = True
    settings.REDIS_URL = silent_redis.url
    use_redis_cache(silent_redis.url, pause=10)
    post = PostFactory()
    for _ in range(3):
        assert read(Client(), post).status_code == 200
    assert views(post) == 3
    assert len(silent_redis.accepted) == 1


def test_flush_views_without_the_redis_buffer_flushes_the_journal_alone(settings, tmp_path):
    settings.SPACES_VIEW_BUFFER = False
    settings.SPACES_VIEW_JOURNAL = str(tmp_path)
    out = io.StringIO()
    call_command("flush_views", stdout=out)
    assert out.getvalue() == "Flushed 0 views from 0 journal batches.\n"


# --- Admin --------------------------------------------------------------------------------------


def test_admin_list_shows_views_and_links_top_posts(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    PostFactory(view_count=98765)
    html = client.get("/admin/blog/post/").content.decode()
    assert "98765" in html
    assert 'href="/admin/blog/post/top/"' in html


def test_admin_top_posts_ranks_each_period(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    today = timezone.localdate()
    hot_today = PostFactory(title="今日最热", view_count=5)
    hot_week = PostFactory(title="本周最热", view_count=50)
    classic = PostFactory(title="经典", view_count=5000)
    for post, age, count in [
        (hot_today, 0, 30),
        (hot_week, 0, 10),
        (hot_week, 6, 40),
        (classic, 20, 100),
        (classic, 40, 4900),
    ]:
        PostDailyViews.objects.create(post=post, day=today - dt.timedelta(days=age), views=count)
    response = client.get("/admin/blog/post/top/")
    assert response.status_code == 200
    ranked = {
        label: [(p.title, p.period_views) for p in posts]
        for label, posts in response.context["periods"]
    }
    assert ranked == {
        "今天": [("今日最热", 30), ("本周最热", 10)],
        "最近 7 天": [("本周最热", 50), ("今日最热", 30)],
        "最近 30 天": [("经典", 100), ("本周最热", 50), ("今日最热", 30)],
        "全部": [("经典", 5000), ("本周最热", 50), ("今日最热", 5)],
    }


def test_admin_top_posts_shows_authors_only_their_own(client):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    PostFactory(title="我的", authors=[AuthorFactory(user=user)], view_count=3)
    PostFactory(title="别人的", view_count=9)
    client.force_login(user)
    html = client.get("/admin/blog/post/top/").content.decode()
    assert "我的" in html
    assert "别人的" not in html


def test_admin_top_posts_needs_staff(client):
    client.force_login(UserFactory())
    assert client.get("/admin/blog/post/top/").status_code == 302


@pytest.mark.parametrize("count", [1, 40])
def test_admin_top_posts_query_count_is_constant(client, django_assert_num_queries, count):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for post in PostFactory.create_batch(count, view_count=3):
        PostDailyViews.objects.create(post=post, day=timezone.localdate(), views=3)
    # session, user, one ranking each for today, 7 days, 30 days and all time
    with django_assert_num_queries(6):
        assert client.get("/admin/blog/post/top/").status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_beacon_counts_a_shown_article_once(live_server, browser, settings):
    settings.SPACES_VIEW_COUNT_MODE = "beacon"
    post = PostFactory()
    context = browser.new_context(user_agent=BROWSER)  # headless Chromium names itself a bot
    try:
        page = context.new_page()
        for _ in range(2):
            with page.expect_response(lambda response: response.url.endswith("/hit")) as hit:
                page.goto(live_server.url + post.get_absolute_url())
            assert hit.value.status == 204
        assert views(post) == 1
        assert daily(post) == {timezone.localdate(): 1}
    finally:
        context.close()


def test_postgresql_post_pages_leave_room_for_count_updates(postgres):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'blog_post'")
        assert "fillfactor=70" in cursor.fetchone()[0]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_the_day_of_a_read_is_the_sites_and_turns_at_its_midnight(settings, monkeypatch, zone):
    settings.TIME_ZONE = zone
    tz = ZoneInfo(zone)
    # Around midnight, and across the autumn clock change in New York (25 hours that day).
    for local in [
        dt.datetime(2026, 11, 1, 0, 0, tzinfo=tz) - dt.timedelta(microseconds=1),
        dt.datetime(2026, 11, 1, 0, 0, tzinfo=tz),
        dt.datetime(2026, 11, 1, 23, 59, 59, tzinfo=tz),
        dt.datetime(2026, 11, 2, 0, 0, 1, tzinfo=tz),
        dt.datetime(2026, 10, 31, 12, 0, tzinfo=tz),  # and back again
    ]:
        moment = local.astimezone(dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        assert recording.site_today() == local.date()
