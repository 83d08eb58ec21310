"""Rate limits: strangers per IP address, known commenters per e-mail address and gentler."""

from unittest import mock

import pytest
from django.utils import timezone

from comments.models import Comment
from tests.comments.helpers import form_data
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

# 2026-03-01 10:40:00 UTC = 18:40 in Asia/Shanghai; the next clock hour starts 20 minutes later.
NOW = 1772361600.0


@pytest.fixture(autouse=True)
def _clock(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with mock.patch("comments.moderation.clock", return_value=NOW):
        yield


def post_comment(client, post, email: str, body: str, ip: str = "192.0.2.1"):
    data = form_data(post, author_email=email, body=body)
    return client.post(f"/archives/{post.pk}/comment", data, REMOTE_ADDR=ip)


def test_strangers_share_their_ips_hourly_cap_and_are_told_when(client, settings):
    settings.SPACES_COMMENT_HOURLY_LIMIT = 2
    post = PostFactory()
    codes = [
        post_comment(client, post, f"s{n}@example.com", f"第{n}条").status_code for n in range(3)
    ]
    refused = post_comment(client, post, "s9@example.com", "再来")
    assert codes == [302, 302, 429]
    assert refused["Retry-After"] == str(20 * 60)
    assert "19:00 之后再试" in refused.content.decode()
    assert "再来" in refused.content.decode()  # the text is given back


def test_known_commenters_behind_a_full_ip_still_post(client, settings):
    settings.SPACES_COMMENT_HOURLY_LIMIT = 1
    settings.SPACES_COMMENT_KNOWN_HOURLY_LIMIT = 5
    post = PostFactory()
    for reader in ["a@campus.example", "b@campus.example"]:
        CommentFactory(author_email=reader)
    assert post_comment(client, post, "stranger@example.com", "一").status_code == 302
    assert post_comment(client, post, "other@example.com", "二").status_code == 429
    assert post_comment(client, post, "a@campus.example", "三").status_code == 302
    assert post_comment(client, post, "b@campus.example", "四").status_code == 302
    assert Comment.objects.filter(body__in=["三", "四"], status="approved").count() == 2


def test_known_commenter_is_limited_per_email_with_its_own_message(client, settings):
    settings.SPACES_COMMENT_KNOWN_HOURLY_LIMIT = 2
    post = PostFactory()
    CommentFactory(author_email="a@campus.example")
    codes = [
        post_comment(client, post, "a@campus.example", f"第{n}条", ip=f"192.0.2.{n}").status_code
        for n in range(3)
    ]
    refused = post_comment(client, post, "A@campus.example", "又一条", ip="192.0.2.99")
    assert codes == [302, 302, 429]
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "您一小时内的评论已达上限（2 条），请在 19:00 之后再试" in html
    assert post_comment(client, post, "b@example.com", "陌生人").status_code == 302


def test_known_commenters_interval_says_how_many_seconds_remain(client, settings):
    settings.SPACES_COMMENT_KNOWN_MIN_INTERVAL = 10
    post = PostFactory()
    CommentFactory(author_email="a@campus.example")
    assert post_comment(client, post, "a@campus.example", "一").status_code == 302
    with mock.patch("comments.moderation.clock", return_value=NOW + 4):
        refused = post_comment(client, post, "a@campus.example", "二")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "6"
    assert "6 秒后再试" in refused.content.decode()


def test_known_commenters_are_counted_per_email_in_the_database_while_redis_is_down(
    use_redis_cache, client, settings, monkeypatch
):
    monkeypatch.setattr("blog.cache.monotonic", lambda: 1_000.0)
    use_redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    settings.SPACES_COMMENT_HOURLY_LIMIT = 1
    settings.SPACES_COMMENT_KNOWN_HOURLY_LIMIT = 2
    post = PostFactory()
    earlier = timezone.now() - timezone.timedelta(hours=2)
    CommentFactory(author_email="a@campus.example", ip_address="198.51.100.1", created_at=earlier)
    assert post_comment(client, post, "stranger@example.com", "一").status_code == 302
    assert post_comment(client, post, "other@example.com", "二").status_code == 429
    codes = [post_comment(client, post, "a@campus.example", f"第{n}条").status_code for n in (1, 2)]
    refused = post_comment(client, post, "a@campus.example", "第3条")
    assert codes == [302, 302]
    assert refused.status_code == 429
    assert "您一小时内的评论已达上限（2 条）" in refused.content.decode()
    assert int(refused["Retry-After"]) > 3500
