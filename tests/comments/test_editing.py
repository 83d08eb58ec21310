"""A comment's writer may change or delete it for a few minutes; moderators keep the old text."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from comments.models import Comment, CommentRevision
from tests.comments.helpers import form_data
from tests.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """A patched clock: `clock.advance(seconds)` moves Django's now() on."""

    class Clock:
        now = timezone.now()

        def advance(self, seconds: int) -> None:
            self.now += timedelta(seconds=seconds)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def writes(client: Client, post, body: str = "原来的评论") -> Comment:
    """A comment posted through the form, so the browser's session knows it as its own."""
    CommentFactory(author_email="known@example.com")  # an approved comment: a known writer
    response = client.post(
        f"/archives/{post.pk}/comment",
        form_data(post, author_email="known@example.com", body=body),
    )
    assert response.status_code == 302
    return Comment.objects.get(body=body)


def test_writer_sees_the_edit_link_and_changes_the_text(client, clock):
    post = PostFactory()
    comment = writes(client, post)
    assert comment.is_approved
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'href="/comments/{comment.pk}/edit"' in html
    assert (
        f'href="/comments/{comment.pk}/edit"'
        not in Client().get(post.get_absolute_url()).content.decode()
    )
    clock.advance(14 * 60)
    response = client.post(f"/comments/{comment.pk}/edit", {"body": "改过的评论 $x^2$"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "改过的评论 $x^2$"
    assert comment.is_approved
    assert comment.edited_at == clock.now
    assert list(CommentRevision.objects.values_list("body", "status")) == [
        ("原来的评论", "approved")
    ]
    html = client.get(post.get_absolute_url()).content.decode()
    assert "改过的评论" in html
    assert "（已修改）" in html


def test_after_the_window_the_link_is_gone_and_the_server_refuses(client, clock):
    post = PostFactory()
    comment = writes(client, post)
    clock.advance(settings.SPACES_COMMENT_EDIT_SECONDS)
    html = client.get(post.get_absolute_url()).content.decode()
    assert f"/comments/{comment.pk}/edit" not in html
    response = client.post(f"/comments/{comment.pk}/edit", {"body": "太晚了"})
    assert response.status_code == 403
    assert "分钟后就不能再修改或删除了" in response.content.decode()
    assert client.post(f"/comments/{comment.pk}/delete").status_code == 403
    comment.refresh_from_db()
    assert comment.body == "原来的评论"
    assert comment.is_approved
    assert not CommentRevision.objects.exists()


def test_another_browser_may_not_edit_or_delete(client, clock):
    comment = writes(client, PostFactory())
    other = Client()
    assert other.get(f"/comments/{comment.pk}/edit").status_code == 404
    assert other.post(f"/comments/{comment.pk}/edit", {"body": "冒充"}).status_code == 404
    assert other.post(f"/comments/{comment.pk}/delete").status_code == 404
    assert Comment.objects.get(pk=comment.pk).body == "原来的评论"


def test_writer_deletes_within_the_window(client, clock):
    post = PostFactory()
    comment = writes(client, post)
    post.refresh_from_db()
    assert post.comment_count == 2 - 1  # the known writer's comment is on another post
    clock.advance(60)
    response = client.post(f"/comments/{comment.pk}/delete")
    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.REMOVED
    post.refresh_from_db()
    assert post.comment_count == 0
    assert "原来的评论" not in client.get(post.get_absolute_url()).content.decode()


def test_an_edit_the_policy_would_hold_goes_back_to_moderation(client, clock, settings):
    settings.SPACES_COMMENT_MAX_LINKS = 1
    post = PostFactory()
    comment = writes(client, post)
    links = "见 https://a.example.org 和 https://b.example.org"
    assert client.post(f"/comments/{comment.pk}/edit", {"body": links}).status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    post.refresh_from_db()
    assert post.comment_count == 0
    html = client.get(post.get_absolute_url()).content.decode()
    assert "您的评论正在等待审核" in html
    assert "a.example.org" not in Client().get(post.get_absolute_url()).content.decode()


def test_logged_in_writer_edits_from_another_browser(client, clock):
    user = UserFactory()
    comment = CommentFactory(user=user, created_at=timezone.now())
    client.force_login(user)
    html = client.get(comment.post.get_absolute_url()).content.decode()
    assert f'href="/comments/{comment.pk}/edit"' in html
    assert client.get(f"/comments/{comment.pk}/edit").status_code == 200
    assert client.post(f"/comments/{comment.pk}/edit", {"body": "新的"}).status_code == 302
    assert Comment.objects.get(pk=comment.pk).body == "新的"


def test_an_empty_edit_is_refused_with_the_form(client, clock):
    comment = writes(client, PostFactory())
    response = client.post(f"/comments/{comment.pk}/edit", {"body": "  "})
    assert response.status_code == 400
    assert 'name="body"' in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).body == "原来的评论"


def test_moderators_see_earlier_versions_in_the_admin(client, clock):
    comment = writes(client, PostFactory())
    client.post(f"/comments/{comment.pk}/edit", {"body": "第二版"})
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = admin.get(f"/admin/comments/comment/{comment.pk}/change/").content.decode()
    assert "原来的评论" in html
    assert "第二版" in html
