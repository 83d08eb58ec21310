"""Comments while the shared cache (Redis) is down or silent: taken, with the rate limits
counted in the database."""

import pytest

from comments.models import Comment
from tests.comments.helpers import form_data
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def comment_url(post) -> str:
    return f"/archives/{post.pk}/comment"


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [1_000.0]
    monkeypatch.setattr("blog.cache.monotonic", lambda: now[0])
    return now


def test_comments_are_taken_while_redis_is_down(use_redis_cache, clock, client, settings, caplog):
    use_redis_cache(DEAD_REDIS)
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    post = PostFactory()
    first = client.post(comment_url(post), form_data(post, body="一"))
    other_ip = client.post(comment_url(post), form_data(post, body="二"), REMOTE_ADDR="192.0.2.9")
    assert (first.status_code, other_ip.status_code) == (302, 302)
    assert "counting comments per IP in the database" in caplog.text
    # The minimum interval still holds, counted from the stored comments.
    again = client.post(comment_url(post), form_data(post, body="三"))
    assert again.status_code == 429
    assert again["Retry-After"] == "60"
    assert sorted(Comment.objects.values_list("body", flat=True)) == ["一", "二"]


def test_the_hourly_cap_is_counted_in_the_database_while_redis_is_down(
    use_redis_cache, clock, client, settings
):
    use_redis_cache(DEAD_REDIS)
    settings.SPACES_COMMENT_HOURLY_LIMIT = 2
    post = PostFactory()
    codes = [
        client.post(comment_url(post), form_data(post, body=f"第{n}条")).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]


def test_comments_are_taken_while_redis_is_silent(
    use_redis_cache, silent_redis, clock, client, settings
):
    use_redis_cache(silent_redis.url)
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    settings.SPACES_COMMENT_HOURLY_LIMIT = 20
    post = PostFactory()
    for n, address in enumerate(["192.0.2.1", "192.0.2.2", "192.0.2.3"]):
        response = client.post(
            comment_url(post), form_data(post, body=f"第{n}条"), REMOTE_ADDR=address
        )
        assert response.status_code == 302
    assert Comment.objects.count() == 3
    assert len(silent_redis.accepted) == 1  # one timeout, then Redis was skipped


def test_rate_limits_count_in_redis_when_it_is_up(use_redis_cache, redis_url, client, settings):
    use_redis_cache(redis_url)
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    post = PostFactory()
    assert client.post(comment_url(post), form_data(post, body="一")).status_code == 302
    Comment.objects.all().delete()  # the refusal below comes from Redis, not the table
    assert client.post(comment_url(post), form_data(post, body="二")).status_code == 429
