from urllib.parse import parse_qs

import httpx
import pytest
from django.test import RequestFactory

from comments import moderation
from comments.models import Comment
from comments.moderation import Refused, check_token, make_token, moderator
from comments.visitors import Origin, client_ip
from tests.comments.helpers import aged_token, form_data
from tests.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_comment(post=None, **fields) -> Comment:
    values = {
        "post": post or PostFactory(),
        "author_name": "张三",
        "author_email": "zhang@example.com",
        "body": "一个问题",
        "ip_address": "192.0.2.10",
        "user_agent": "Mozilla/5.0",
    }
    values.update(fields)
    return Comment(**values)


def status_of(comment: Comment) -> str:
    return moderator.status_for(comment, Origin(base_url="http://testserver"))


def test_policy_first_time_writer_is_pending():
    assert status_of(new_comment()) == Comment.Status.PENDING


def test_policy_email_with_approved_comment_is_approved():
    CommentFactory(author_email="zhang@example.com")
    assert status_of(new_comment()) == Comment.Status.APPROVED


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.SPAM])
def test_policy_email_with_only_unapproved_comments_is_pending(status):
    CommentFactory(author_email="zhang@example.com", status=status)
    assert status_of(new_comment()) == Comment.Status.PENDING


def test_policy_more_links_than_allowed_is_pending(settings):
    settings.SPACES_COMMENT_MAX_LINKS = 2
    CommentFactory(author_email="zhang@example.com")
    two = "see https://a.example and http://b.example"
    three = two + " and www.c.example"
    assert status_of(new_comment(body=two)) == Comment.Status.APPROVED
    assert status_of(new_comment(body=three)) == Comment.Status.PENDING


@pytest.mark.parametrize(
    ("entry", "fields"),
    [
        ("viagra", {"body": "Buy VIAGRA now"}),
        ("spam.example", {"author_url": "https://www.spam.example/"}),
        ("spam.example", {"author_email": "bot@spam.example"}),
        ("192.0.2.10", {}),
        ("192.0.2.0/24", {}),
        ("2001:db8::/32", {"ip_address": "2001:db8::1"}),
        ("badbot", {"user_agent": "BadBot/1.0"}),
    ],
)
def test_policy_blocklist_marks_spam(settings, entry, fields):
    settings.SPACES_COMMENT_BLOCKLIST = [entry]
    CommentFactory(author_email=fields.get("author_email", "zhang@example.com"))
    assert status_of(new_comment(**fields)) == Comment.Status.SPAM


def test_policy_blocklist_ignores_non_matching(settings):
    settings.SPACES_COMMENT_BLOCKLIST = ["198.51.100.0/24", "casino"]
    CommentFactory(author_email="zhang@example.com")
    assert status_of(new_comment()) == Comment.Status.APPROVED


def test_policy_trusts_post_authors_and_staff():
    post = PostFactory()
    author = post.authors.get().user
    staff = UserFactory(is_staff=True)
    linky = new_comment(post=post, user=author, body="https://a https://b https://c")
    assert status_of(linky) == Comment.Status.APPROVED
    assert status_of(new_comment(post=post, user=staff)) == Comment.Status.APPROVED
    assert status_of(new_comment(post=post, user=UserFactory())) == Comment.Status.PENDING


def akismet_answers(monkeypatch, handler) -> None:
    """Akismet's HTTP replies come from `handler(request)`: nothing leaves the test."""
    transport = httpx.MockTransport(handler)
    monkeypatch.setattr(
        moderation, "akismet_http_client", lambda: httpx.Client(transport=transport, timeout=3)
    )


def test_akismet_not_called_without_key(monkeypatch):
    def fail(request):
        raise AssertionError("Akismet must not be called without a key")

    akismet_answers(monkeypatch, fail)
    assert status_of(new_comment()) == Comment.Status.PENDING


@pytest.mark.parametrize(("answer", "status"), [("true", "spam"), ("false", "approved")])
def test_akismet_verdict_is_used(settings, monkeypatch, answer, status):
    settings.AKISMET_API_KEY = "k3y"
    CommentFactory(author_email="zhang@example.com")
    calls = []

    def handler(request):
        calls.append((str(request.url), parse_qs(request.content.decode()), request.extensions))
        return httpx.Response(200, text=answer)

    akismet_answers(monkeypatch, handler)
    assert status_of(new_comment()) == status
    url, data, extensions = calls[0]
    assert url.endswith("/1.1/comment-check")
    assert data["api_key"] == ["k3y"]
    assert data["comment_content"] == ["一个问题"]
    assert data["user_ip"] == ["192.0.2.10"]
    assert data["blog"] == ["http://testserver/"]
    assert extensions["timeout"]["read"] <= 5


def test_akismet_hears_the_posting_requests_referrer_and_site(settings, monkeypatch, client):
    settings.AKISMET_API_KEY = "k3y"
    calls = []

    def handler(request):
        calls.append(parse_qs(request.content.decode()))
        return httpx.Response(200, text="false")

    akismet_answers(monkeypatch, handler)
    post = PostFactory()
    page = f"http://testserver{post.get_absolute_url()}"
    client.post(f"/archives/{post.pk}/comment", form_data(post), HTTP_REFERER=page)
    assert calls[0]["referrer"] == [page]
    assert calls[0]["permalink"] == [page]


def test_akismet_failure_never_blocks(settings, monkeypatch, client):
    settings.AKISMET_API_KEY = "k3y"
    CommentFactory(author_email="zhang@example.com")

    def down(request):
        raise httpx.ConnectTimeout("timed out")

    akismet_answers(monkeypatch, down)
    post = PostFactory()
    response = client.post(f"/archives/{post.pk}/comment", form_data(post))
    assert response.status_code == 302
    assert Comment.objects.get(post=post).status == Comment.Status.APPROVED


def test_blocklisted_comment_is_stored_as_spam_and_looks_pending_to_writer(settings, client):
    settings.SPACES_COMMENT_BLOCKLIST = ["casino"]
    post = PostFactory()
    client.post(f"/archives/{post.pk}/comment", form_data(post, body="best casino"))
    assert Comment.objects.get().status == Comment.Status.SPAM
    html = client.get(post.get_absolute_url()).content.decode()
    assert "您的评论正在等待审核" in html


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "6.6.6.6", "192.0.2.1"),
        (1, "10.0.0.1", "6.6.6.6, 192.0.2.7", "192.0.2.7"),
        (2, "10.0.0.1", "192.0.2.8, 10.0.0.2", "192.0.2.8"),
        (2, "10.0.0.1", "10.0.0.2", None),
        (1, "10.0.0.1", "not-an-ip", None),
        (0, "2001:DB8::1", "", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_configured_proxies(settings, proxies, remote, forwarded, expected):
    settings.SPACES_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_form_sent_sooner_than_the_minimum_age_is_refused(settings):
    settings.SPACES_COMMENT_MIN_FORM_AGE = 3
    post = PostFactory()
    with pytest.raises(Refused, match="太快"):
        check_token(make_token(post.pk), post)
    check_token(aged_token(post, 4), post)
    settings.SPACES_COMMENT_MIN_FORM_AGE = 0
    check_token(make_token(post.pk), post)
