import re
import time
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from blog.models import Post
from comments.models import Comment
from comments.visitors import COOKIE
from tests.comments.helpers import aged_token, form_data
from tests.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def comment_url(post) -> str:
    return f"/archives/{post.pk}/comment"


def test_post_comment_first_time_is_pending_and_redirects_to_its_anchor(client):
    post = PostFactory()
    response = client.post(comment_url(post), form_data(post))
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/archives/{post.pk}#comment-{comment.pk}"
    assert comment.status == Comment.Status.PENDING
    assert comment.author_email == "zhang@example.com"
    assert comment.ip_address == "127.0.0.1"
    assert 'class="arithmatex"' in comment.body_html
    post.refresh_from_db()
    assert post.comment_count == 0


def test_post_comment_pending_shows_only_to_its_writer(client):
    post = PostFactory()
    client.post(comment_url(post), form_data(post, body="我的待审核评论"))
    mine = client.get(post.get_absolute_url()).content.decode()
    theirs = Client().get(post.get_absolute_url()).content.decode()
    assert "我的待审核评论" in mine
    assert "您的评论正在等待审核" in mine
    assert "我的待审核评论" not in theirs
    assert "您的评论正在等待审核" not in theirs


def test_post_comment_known_email_is_approved_and_counted(client):
    post = PostFactory()
    CommentFactory(author_email="zhang@example.com")
    response = client.post(comment_url(post), form_data(post, author_email="Zhang@Example.com"))
    comment = Comment.objects.get(post=post)
    assert comment.status == Comment.Status.APPROVED
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    post.refresh_from_db()
    assert post.comment_count == 1


def test_post_comment_reply_nests_under_parent(client):
    parent = CommentFactory(author_email="zhang@example.com")
    post = parent.post
    client.post(comment_url(post), form_data(post, reply_to=parent.pk, body="回复"))
    reply = Comment.objects.get(body="回复")
    assert reply.parent == parent
    assert reply.level == 1
    assert reply.tree_id == parent.tree_id


def test_post_comment_double_submit_stores_one(client):
    post = PostFactory()
    first = client.post(comment_url(post), form_data(post))
    second = client.post(comment_url(post), form_data(post))
    assert Comment.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_post_comment_same_text_as_reply_elsewhere_is_not_a_duplicate(client):
    parent = CommentFactory(author_email="zhang@example.com")
    post = parent.post
    client.post(comment_url(post), form_data(post, body="谢谢"))
    client.post(comment_url(post), form_data(post, body="谢谢", reply_to=parent.pk))
    assert Comment.objects.filter(body="谢谢").count() == 2


def test_post_comment_remembers_anonymous_writer_in_cookie(client):
    post = PostFactory()
    response = client.post(
        comment_url(post), form_data(post, author_url="https://zhang.example.org/")
    )
    assert response.cookies[COOKIE]["httponly"]
    html = client.get(post.get_absolute_url()).content.decode()
    assert 'value="张三"' in html
    assert 'value="zhang@example.com"' in html
    assert 'value="https://zhang.example.org/"' in html


def test_comment_form_prefills_logged_in_user(client):
    user = UserFactory(username="lisi", first_name="四", last_name="李", email="li@example.com")
    client.force_login(user)
    html = client.get(PostFactory().get_absolute_url()).content.decode()
    assert 'value="四 李"' in html
    assert 'value="li@example.com"' in html


def test_post_comment_by_logged_in_author_is_approved_and_marked(client):
    post = PostFactory()
    author_user = post.authors.get().user
    client.force_login(author_user)
    client.post(comment_url(post), form_data(post, author_email=author_user.email))
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.APPROVED
    assert comment.user == author_user
    html = Client().get(post.get_absolute_url()).content.decode()
    assert f'class="comment depth-0 by-author" id="comment-{comment.pk}"' in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": "x" * 100_000}, "body"),
        ({"author_name": ""}, "author_name"),
        ({"author_name": "名" * 65}, "author_name"),
        ({"author_name": "bad\nname"}, "author_name"),
        ({"author_email": "not-an-email"}, "author_email"),
        ({"author_email": None}, "author_email"),
        ({"author_url": "javascript:alert(1)"}, "author_url"),
        ({"author_url": "ftp://example.org/"}, "author_url"),
        ({"author_url": "http://"}, "author_url"),
        ({"reply_to": "abc"}, "reply_to"),
        ({"reply_to": "99999999999999999999999"}, "reply_to"),
    ],
)
def test_post_comment_bad_input_is_400_keeps_text_and_writes_nothing(client, overrides, field):
    post = PostFactory()
    data = form_data(post, **overrides)
    response = client.post(comment_url(post), data)
    assert response.status_code == 400
    assert field in response.context_data["form"].errors
    assert not Comment.objects.exists()
    html = response.content.decode()
    assert "评论未能提交" in html
    assert data["body"][:40] in html


def test_post_comment_website_is_normalised_to_https(client):
    post = PostFactory()
    client.post(comment_url(post), form_data(post, author_url="example.org"))
    assert Comment.objects.get().author_url == "https://example.org"


def test_post_comment_honeypot_refuses(client):
    post = PostFactory()
    response = client.post(comment_url(post), form_data(post, subject="cheap pills"))
    assert response.status_code == 400
    assert "subject" in response.context_data["form"].errors
    assert not Comment.objects.exists()


def test_post_comment_token_too_fresh_is_refused(client):
    post = PostFactory()
    response = client.post(comment_url(post), form_data(post, token=aged_token(post, 0)))
    assert response.status_code == 400
    assert "太快" in response.content.decode()
    assert not Comment.objects.exists()


def test_post_comment_token_older_than_a_day_is_refused(client):
    post = PostFactory()
    token = aged_token(post, 86_400 + 60)
    response = client.post(comment_url(post), form_data(post, token=token))
    assert response.status_code == 400
    assert "过期" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("token", ["", "forged", "1:abc:def", "x" * 300])
def test_post_comment_forged_token_is_refused(client, token):
    post = PostFactory()
    response = client.post(comment_url(post), form_data(post, token=token))
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_post_comment_token_of_another_post_is_refused(client):
    post, other = PostFactory(), PostFactory()
    response = client.post(comment_url(post), form_data(post, token=aged_token(other)))
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_post_comment_error_page_gives_a_fresh_token(client):
    post = PostFactory()
    old = aged_token(post, 2 * 86_400)
    response = client.post(comment_url(post), form_data(post, token=old))
    html = response.content.decode()
    assert 'name="token"' in html
    assert f'value="{old}"' not in html


def test_post_comment_without_csrf_gives_the_form_back_to_submit_again():
    post = PostFactory()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(comment_url(post), form_data(post, body="没有脚本的读者写的长评论"))
    assert response.status_code == 403
    assert not Comment.objects.exists()
    html = response.content.decode()
    assert "再提交一次" in html
    assert "没有脚本的读者写的长评论" in html  # nothing the reader wrote is lost
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    token = re.search(r'name="token" value="([^"]+)"', html)[1]
    assert "csrftoken" in response.cookies  # the cookie the second submission needs
    with mock.patch("time.time", return_value=time.time() + 5):  # a person takes a moment
        again = strict.post(
            comment_url(post),
            form_data(post, body="没有脚本的读者写的长评论", token=token, csrfmiddlewaretoken=csrf),
        )
    assert again.status_code == 302
    assert Comment.objects.get().body == "没有脚本的读者写的长评论"


def test_post_comment_with_a_wrong_csrf_token_saves_nothing():
    post = PostFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/archives/{post.pk}/comment-tokens")
    response = strict.post(comment_url(post), form_data(post, csrfmiddlewaretoken="x" * 64))
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_the_form_tokens_come_with_the_csrf_cookie_and_are_never_cached(client):
    post = PostFactory()
    url = f"/archives/{post.pk}/comment-tokens"
    response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["csrf"]) == 64
    assert response.json()["token"].startswith(f"{post.pk}:")
    assert "csrftoken" in response.cookies
    assert "no-store" in response["Cache-Control"]
    assert client.post(url).status_code == 405
    draft = PostFactory(status=Post.Status.DRAFT)
    assert client.get(f"/archives/{draft.pk}/comment-tokens").status_code == 404


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/archives/abc/comment-tokens", "get", 404),
        ("/archives/99999999999999999999/comment-tokens", "get", 404),
        ("/archives/%ff/comment-tokens", "get", 404),
        ("/archives/0/comment-tokens", "get", 404),
        ("/archives/{pk}/comment-tokens/", "get", 404),
        ("/archives/{pk}/comment-tokens?x=%00%ff", "get", 200),
        ("/archives/{pk}/comment-tokens", "head", 405),
        ("/archives/{pk}/comment-tokens", "put", 405),
        ("/archives/{pk}/comment-tokens", "delete", 405),
    ],
)
def test_the_form_tokens_url_answers_bad_requests_without_error(client, path, method, status):
    post = PostFactory()
    response = getattr(client, method)(path.format(pk=post.pk))
    assert response.status_code == status


def test_the_form_tokens_survive_a_garbage_csrf_cookie_and_a_bad_host(client):
    post = PostFactory()
    client.cookies["csrftoken"] = "\x00<script>" + "z" * 5000
    response = client.get(f"/archives/{post.pk}/comment-tokens")
    assert response.status_code == 200
    assert len(response.json()["csrf"]) == 64  # a fresh secret replaces the garbage
    assert (
        client.get(f"/archives/{post.pk}/comment-tokens", HTTP_HOST="evil.example").status_code
        == 400
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"body": "x" * 100_000},
        {"body": ""},
        {"author_name": "<script>", "body": "\x00"},
        {"token": "x"},
    ],
)
def test_post_comment_without_csrf_and_with_bad_fields_saves_nothing(overrides):
    post = PostFactory()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(comment_url(post), form_data(post, **overrides))
    assert response.status_code == 403
    assert "再提交一次" in response.content.decode()
    assert not Comment.objects.exists()


def test_post_comment_larger_than_the_upload_limit_is_400_and_writes_nothing(client, settings):
    post = PostFactory()
    body = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(comment_url(post), form_data(post, body=body))
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_post_comment_get_is_405(client):
    post = PostFactory()
    assert client.get(comment_url(post)).status_code == 405


def test_post_comment_on_closed_post_is_403_and_keeps_text(client):
    post = PostFactory(comments_enabled=False)
    response = client.post(comment_url(post), form_data(post, body="我的长篇大论"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "本文已关闭评论" in html
    assert "我的长篇大论" in html
    assert not Comment.objects.exists()


def test_closed_post_shows_no_form(client):
    post = PostFactory(comments_enabled=False)
    html = client.get(post.get_absolute_url()).content.decode()
    assert "评论已关闭" in html
    assert 'id="respond"' not in html


@pytest.mark.parametrize(
    "post_kwargs",
    [
        {"status": Post.Status.DRAFT},
        {"published_at": timezone.now() + timezone.timedelta(days=1)},
    ],
)
def test_post_comment_on_unpublished_post_is_404(client, post_kwargs):
    post = PostFactory(**post_kwargs)
    response = client.post(comment_url(post), form_data(post))
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_post_comment_on_missing_post_is_404(client):
    post = PostFactory()
    assert client.post("/archives/999999/comment", form_data(post)).status_code == 404


def test_reply_to_comment_of_another_post_is_refused(client):
    post = PostFactory()
    elsewhere = CommentFactory()
    response = client.post(comment_url(post), form_data(post, reply_to=elsewhere.pk))
    assert response.status_code == 400
    assert "不存在" in response.content.decode()
    assert Comment.objects.count() == 1


def test_reply_to_missing_comment_is_refused(client):
    post = PostFactory()
    response = client.post(comment_url(post), form_data(post, reply_to=424242))
    assert response.status_code == 400
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "status", [Comment.Status.PENDING, Comment.Status.SPAM, Comment.Status.REMOVED]
)
def test_reply_to_unapproved_comment_is_refused(client, status):
    parent = CommentFactory(status=status)
    post = parent.post
    response = client.post(comment_url(post), form_data(post, reply_to=parent.pk))
    assert response.status_code == 400
    assert Comment.objects.count() == 1


def test_reply_beyond_max_depth_is_refused(client, settings):
    settings.SPACES_COMMENT_MAX_DEPTH = 3
    first = CommentFactory()
    second = CommentFactory(parent=first)
    third = CommentFactory(parent=second)
    post = first.post
    ok = client.post(comment_url(post), form_data(post, reply_to=second.pk, body="二楼"))
    refused = client.post(comment_url(post), form_data(post, reply_to=third.pk, body="三楼"))
    assert ok.status_code == 302
    assert refused.status_code == 400
    assert "引用" in refused.content.decode()
    assert not Comment.objects.filter(body="三楼").exists()


def test_post_comment_min_interval_per_ip(client, settings):
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    post = PostFactory()
    first = client.post(comment_url(post), form_data(post, body="一"))
    second = client.post(comment_url(post), form_data(post, body="二"))
    other_ip = client.post(comment_url(post), form_data(post, body="三"), REMOTE_ADDR="192.0.2.9")
    assert first.status_code == 302
    assert second.status_code == 429
    assert second["Retry-After"] == "60"
    assert "60 秒" in second.content.decode()
    assert "二" in second.content.decode()
    assert other_ip.status_code == 302
    assert sorted(Comment.objects.values_list("body", flat=True)) == ["一", "三"]


def test_post_comment_hourly_cap_per_ip(client, settings):
    settings.SPACES_COMMENT_HOURLY_LIMIT = 2
    post = PostFactory()
    codes = [
        client.post(comment_url(post), form_data(post, body=f"第{n}条")).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    assert Comment.objects.count() == 2


def test_post_comment_double_submit_is_not_rate_limited(client, settings):
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    post = PostFactory()
    client.post(comment_url(post), form_data(post))
    again = client.post(comment_url(post), form_data(post))
    assert again.status_code == 302
    assert Comment.objects.count() == 1


def test_post_comment_refused_reply_does_not_use_up_rate_limit(client, settings):
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    post = PostFactory()
    client.post(comment_url(post), form_data(post, reply_to=424242))
    assert client.post(comment_url(post), form_data(post)).status_code == 302


def test_post_comment_staff_is_not_rate_limited(client, settings):
    settings.SPACES_COMMENT_MIN_INTERVAL = 60
    client.force_login(UserFactory(is_staff=True))
    post = PostFactory()
    client.post(comment_url(post), form_data(post, body="一"))
    assert client.post(comment_url(post), form_data(post, body="二")).status_code == 302


def test_post_comment_control_characters_are_dropped(client):
    post = PostFactory()
    client.post(comment_url(post), form_data(post, body="a\x0bb\x1fc"))
    assert Comment.objects.get().body == "abc"


def test_post_comment_script_in_body_is_inert(client):
    CommentFactory(author_email="zhang@example.com")
    post = PostFactory()
    body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    client.post(comment_url(post), form_data(post, body=body))
    html = client.get(post.get_absolute_url()).content.decode()
    section = html[html.index('id="comments"') :]
    assert "<script>alert" not in section
    assert "javascript:" not in section
    assert "<img" not in section


def test_token_check_uses_real_clock(client):
    post = PostFactory()
    token = aged_token(post, 0)
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 5):
        response = client.post(comment_url(post), form_data(post, token=token))
    assert response.status_code == 302
