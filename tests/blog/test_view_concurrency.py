"""Exact view counts under real concurrent traffic (PostgreSQL, pytest-django's live server)."""

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from blog.counting import buffer
from blog.models import Post, PostDailyViews
from tests.factories import PostFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 2000
THREADS = 16
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


def read_as_new_visitors(base_url: str, path: str, count: int) -> list[int]:
    """GET `path` `count` times from THREADS threads, each time a new cookie-less visitor."""
    address = urlsplit(base_url)

    def visit(_number: int) -> int:
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            conn.request("GET", path, headers={"User-Agent": BROWSER, "Accept": "text/html"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(visit, range(count)))


def totals(post: Post) -> tuple[int, int]:
    daily = PostDailyViews.objects.filter(post=post).aggregate(n=Sum("views"))["n"] or 0
    return Post.objects.with_views().get(pk=post.pk).view_count, daily


def test_concurrent_reads_count_exactly(postgres, live_server):
    post = PostFactory(view_count=500)
    statuses = read_as_new_visitors(live_server.url, post.get_absolute_url(), REQUESTS)
    assert statuses == [200] * REQUESTS
    assert totals(post) == (500 + REQUESTS, REQUESTS)


def test_concurrent_journaled_reads_count_exactly_with_flushes_racing_them(
    postgres, live_server, settings, tmp_path
):
    """The live server's threads share one journal file; every read also tries to flush, so
    batches are sealed and applied while other threads append."""
    settings.SPACES_VIEW_JOURNAL = str(tmp_path / "reads")
    settings.SPACES_VIEW_FLUSH_SECONDS = 0
    post = PostFactory(view_count=500)
    statuses = read_as_new_visitors(live_server.url, post.get_absolute_url(), REQUESTS)
    assert statuses == [200] * REQUESTS
    call_command("flush_views")
    assert totals(post) == (500 + REQUESTS, REQUESTS)
    assert list((tmp_path / "reads").glob("sealed-*")) == []


def test_concurrent_buffered_reads_count_exactly_after_flush(
    postgres, live_server, settings, redis_url, use_redis_cache
):
    settings.SPACES_VIEW_BUFFER = True
    settings.REDIS_URL = redis_url
    use_redis_cache(redis_url)  # the buffer is in the cache's Redis, as in production
    post = PostFactory(view_count=500)
    statuses = read_as_new_visitors(live_server.url, post.get_absolute_url(), REQUESTS)
    assert statuses == [200] * REQUESTS
    assert totals(post) == (500, 0)
    call_command("flush_views")
    assert totals(post) == (500 + REQUESTS, REQUESTS)


def test_flushes_racing_each_other_and_readers_stay_exact(
    postgres, live_server, settings, redis_url, use_redis_cache
):
    settings.SPACES_VIEW_BUFFER = True
    settings.REDIS_URL = redis_url
    use_redis_cache(redis_url)  # the buffer is in the cache's Redis, as in production
    post = PostFactory()
    reading = threading.Event()
    reading.set()
    errors: list[BaseException] = []

    def flush_while_reading() -> None:
        try:
            while reading.is_set():
                buffer.flush_buffered_views()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    flushers = [threading.Thread(target=flush_while_reading) for _ in range(2)]
    for flusher in flushers:
        flusher.start()
    try:
        statuses = read_as_new_visitors(live_server.url, post.get_absolute_url(), REQUESTS // 2)
    finally:
        reading.clear()
        for flusher in flushers:
            flusher.join()
    assert errors == []
    assert statuses == [200] * (REQUESTS // 2)
    call_command("flush_views")
    assert totals(post) == (REQUESTS // 2, REQUESTS // 2)
