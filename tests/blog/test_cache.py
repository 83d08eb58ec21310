import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from blog.cache import DatabaseCache
from tests.factories import PostFactory, TagFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The circuit breaker's clock, moved by hand: `clock[0] += seconds`."""
    now = [1_000.0]
    monkeypatch.setattr("blog.cache.monotonic", lambda: now[0])
    return now


def test_reads_miss_and_writes_are_dropped_while_redis_is_down(use_redis_cache, clock, caplog):
    use_redis_cache(DEAD_REDIS)
    cache.set("key", "value")
    assert cache.get("key", "default") == "default"
    assert cache.get_many(["key"]) == {}
    assert cache.add("key", "value") is None  # neither taken nor refused: unknown
    assert cache.incr("key") is None
    cache.delete("key")
    assert "Redis failed" in caplog.text


def test_pages_are_served_while_redis_is_down(use_redis_cache, clock, client):
    use_redis_cache(DEAD_REDIS)
    post = PostFactory(title="照常阅读", tags=[TagFactory(name="概率")], view_count=3)
    for url in ("/", "/tag/概率/", "/content.html", "/search/照常/", post.get_absolute_url()):
        response = client.get(url, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200, url
        assert "照常阅读" in response.content.decode()
    assert "4位读者" in client.get(post.get_absolute_url()).content.decode()


def test_a_silent_redis_costs_one_timeout_per_pause(use_redis_cache, silent_redis, clock, client):
    """Each attempt is a connection to the listener; after one times out, pages skip Redis
    until the pause is over, then one call tries again."""
    use_redis_cache(silent_redis.url, pause=10)
    post = PostFactory(title="照常阅读")
    for url in ("/", "/content.html", post.get_absolute_url(), "/tag/x/", "/"):
        assert client.get(url, HTTP_USER_AGENT=BROWSER).status_code in {200, 404}, url
    assert len(silent_redis.accepted) == 1
    clock[0] += 9
    assert cache.get("key", "missed") == "missed"
    assert len(silent_redis.accepted) == 1
    clock[0] += 2
    assert cache.get_many(["key"]) == {}
    assert cache.get("key", "missed") == "missed"  # the trial failed: skipped again
    assert len(silent_redis.accepted) == 2


def test_the_cache_is_used_again_when_redis_answers(use_redis_cache, redis_url, clock, caplog):
    use_redis_cache(redis_url, pause=10)
    cache.set("spaces-test-key", "value")
    assert cache.get("spaces-test-key") == "value"
    breaker = cache.client.get_client().breaker
    breaker.failed(TimeoutError("as if Redis had hung"))
    assert cache.get("spaces-test-key") is None  # skipped, not asked
    clock[0] += 11
    assert cache.get("spaces-test-key") == "value"
    assert cache.get("spaces-test-key") == "value"
    assert "Redis answers again" in caplog.text
    assert cache.add("spaces-counter", 0) is True
    assert cache.add("spaces-counter", 0) is False
    assert cache.incr("spaces-counter") == 1


@pytest.fixture
def db_cache(settings) -> DatabaseCache:
    """Our database cache on the test database's table (made by migrations, with REDIS_URL set
    too), with room for 5 entries and no cull unless a test makes one due."""
    settings.CACHES = {
        "default": {"BACKEND": "blog.cache.DatabaseCache", "LOCATION": "spaces_cache"}
    }
    backend = DatabaseCache("spaces_cache", {"OPTIONS": {"MAX_ENTRIES": 5}})
    backend.cull_every = 1_000
    backend._writes = itertools.count(1)
    backend.clear()
    return backend


def test_migrate_alone_makes_the_cache_table():
    assert "spaces_cache" in connection.introspection.table_names()
    call_command("createcachetable", verbosity=0)  # the command finds it made and leaves it


def stored() -> list[str]:
    """The keys in the table, as callers named them, soonest to expire first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM spaces_cache ORDER BY expires, cache_key")
        return [key.removeprefix(":1:") for (key,) in cursor.fetchall()]


def backdate(*keys: str) -> None:
    """Make these rows expired, without waiting."""
    past = connection.ops.adapt_datetimefield_value(datetime(2000, 1, 1, tzinfo=UTC))
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute(
                "UPDATE spaces_cache SET expires = %s WHERE cache_key = %s", [past, f":1:{key}"]
            )


def test_database_cache_values_round_trip(db_cache):
    values = {"text": "文字", "dict": {"a": [1, 2]}, "bytes": b"\x00\xff", "none": None}
    for key, value in values.items():
        db_cache.set(key, value)
    assert {key: db_cache.get(key, "missing") for key in values} == values
    assert db_cache.get("absent", "missing") == "missing"
    assert db_cache.has_key("none")
    assert not db_cache.has_key("absent")


def test_database_cache_overwriting_keeps_one_row(db_cache):
    db_cache.set("key", "old", 60)
    db_cache.set("key", "new", None)
    assert db_cache.get("key") == "new"
    assert stored() == ["key"]


def test_database_cache_set_is_one_query(db_cache, django_assert_num_queries):
    db_cache.set("key", "old")
    with django_assert_num_queries(1):
        db_cache.set("key", "new")
    with django_assert_num_queries(1):
        db_cache.set("other", "value")


@pytest.mark.parametrize("timeout", [0, -5])
def test_database_cache_set_with_no_time_left_stores_nothing(db_cache, timeout):
    db_cache.set("old", "value")
    db_cache.set("old", "replaced", timeout)
    db_cache.set("new", "value", timeout)
    assert db_cache.get("old") is None
    assert stored() == []


def test_database_cache_values_expire(db_cache, monkeypatch):
    db_cache.set("minute", "value", 60)
    db_cache.set("forever", "value", None)
    now = timezone.now()
    for later, expected in [(58, "value"), (61, None), (100 * 366 * 86400, None)]:
        monkeypatch.setattr(
            "django.core.cache.backends.db.tz_now",
            lambda later=later: now + timedelta(seconds=later),
        )
        assert db_cache.get("minute") == expected, later
        assert db_cache.get("forever") == "value"
    assert stored() == ["forever"]  # Django's read deleted the expired row


def test_database_cache_set_many_is_one_query(db_cache, django_assert_num_queries):
    db_cache.set("b", "old")
    with django_assert_num_queries(1):
        assert db_cache.set_many({"a": 1, "b": 2, "c": 3}, 60) == []
    assert db_cache.get_many(["a", "b", "c", "d"]) == {"a": 1, "b": 2, "c": 3}
    db_cache.set_many({"a": 1, "b": 2}, 0)
    assert stored() == ["c"]


def test_database_cache_culls_expired_then_soonest_to_expire(db_cache, django_assert_num_queries):
    db_cache.set_many({"forever-1": 1, "forever-2": 2}, None)
    db_cache.set_many({"old-1": 1, "old-2": 2}, 60)
    for seconds in (100, 200, 300, 400):
        db_cache.set(f"in-{seconds}", seconds, seconds)
    backdate("old-1", "old-2")
    db_cache._writes = itertools.count(db_cache.cull_every)  # this write is the one that culls
    with django_assert_num_queries(4):  # upsert, delete the expired, count, delete the excess
        db_cache.set("in-500", 500, 500)
    assert stored() == ["in-300", "in-400", "in-500", "forever-1", "forever-2"]


def test_database_cache_culls_on_every_nth_write(db_cache, django_assert_num_queries):
    db_cache.cull_every = 3
    for number in range(1, 10):
        with django_assert_num_queries(3 if number % 3 == 0 else 1):  # under MAX_ENTRIES: no trim
            db_cache.set("key", number)


def test_database_cache_add_culls_by_expiry_not_by_name(db_cache):
    db_cache.set("a-forever", 1, None)
    for seconds in (100, 200, 300, 400, 500):
        db_cache.set(f"z-{seconds}", seconds, seconds)
    assert db_cache.add("m", 600, 600)  # Django's add counts 6 rows, culls one, then inserts
    assert stored() == ["z-200", "z-300", "z-400", "z-500", "m", "a-forever"]
    assert not db_cache.add("m", "again")
    assert db_cache.get("m") == 600


def test_database_cache_errors_raise():
    backend = DatabaseCache("no_such_table", {})
    with pytest.raises(DatabaseError), transaction.atomic():
        backend.set("key", "value")
