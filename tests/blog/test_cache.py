import pytest
from django.core.cache import cache

from tests.factories import PostFactory, TagFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


@pytest.fixture
def redis_down(settings):
    """The production cache backend, pointed at a port where no Redis listens."""
    settings.CACHES = {
        "default": {
            "BACKEND": "blog.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_reads_miss_and_writes_are_dropped_while_redis_is_down(redis_down, caplog):
    cache.set("key", "value")
    assert cache.get("key", "default") == "default"
    assert cache.get_many(["key"]) == {}
    assert cache.add("key", "value") is False
    assert cache.delete("key") is False
    assert "The Redis cache is unavailable" in caplog.text


def test_pages_are_served_while_redis_is_down(redis_down, client):
    post = PostFactory(title="照常阅读", tags=[TagFactory(name="概率")], view_count=3)
    for url in ("/", "/tag/概率/", "/content.html", "/search/照常/", post.get_absolute_url()):
        response = client.get(url, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200, url
        assert "照常阅读" in response.content.decode()
    assert "4位读者" in client.get(post.get_absolute_url()).content.decode()


def test_the_cache_works_when_redis_is_up(redis_url, settings):
    settings.CACHES = {
        "default": {"BACKEND": "blog.cache.ResilientRedisCache", "LOCATION": redis_url}
    }
    cache.set("spaces-test-key", "value")
    assert cache.get("spaces-test-key") == "value"
    cache.delete("spaces-test-key")
