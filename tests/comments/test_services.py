import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from blog.models import Post
from comments import services
from comments.models import Comment
from comments.moderation import Refused
from comments.notifications import unsubscribe_token
from comments.sidebar import recent_comments
from comments.visitors import Origin
from tests.comments.helpers import form_data
from tests.factories import AuthorFactory, CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = Origin(base_url="http://testserver")


def count_of(post) -> int:
    return Post.objects.get(pk=post.pk).comment_count


def test_set_status_keeps_counts_exact():
    post = PostFactory()
    a = CommentFactory(post=post)
    b = CommentFactory(post=post, status=Comment.Status.PENDING)
    assert count_of(post) == 1
    assert services.set_status([a.pk, b.pk], Comment.Status.APPROVED) == 1
    assert count_of(post) == 2
    assert services.set_status([a.pk, b.pk], Comment.Status.APPROVED) == 0
    assert count_of(post) == 2
    services.set_status([a.pk], Comment.Status.SPAM)
    services.set_status([b.pk], Comment.Status.REMOVED)
    assert count_of(post) == 0
    services.set_status([a.pk], Comment.Status.PENDING)
    assert count_of(post) == 0


def test_set_status_counts_per_post():
    one, two = PostFactory(), PostFactory()
    ids = [CommentFactory(post=p, status=Comment.Status.PENDING).pk for p in (one, one, two)]
    services.set_status(ids, Comment.Status.APPROVED)
    assert (count_of(one), count_of(two)) == (2, 1)


def test_delete_comments_removes_replies_and_counts():
    post = PostFactory()
    root = CommentFactory(post=post)
    reply = CommentFactory(parent=root)
    CommentFactory(parent=reply, status=Comment.Status.PENDING)
    other = CommentFactory(post=post)
    assert services.delete_comments([reply.pk, root.pk]) == 3
    assert list(Comment.objects.all()) == [other]
    assert count_of(post) == 1
    call_command("check_comment_trees")


def test_move_comment_reparents_subtree():
    post = PostFactory()
    a, b = CommentFactory(post=post), CommentFactory(post=post)
    a1 = CommentFactory(parent=a)
    CommentFactory(parent=a1)
    services.move_comment(a1, b)
    a1.refresh_from_db()
    b.refresh_from_db()
    assert a1.parent == b
    assert [c.level for c in b.get_descendants()] == [1, 2]
    call_command("check_comment_trees")
    services.move_comment(a1, None)
    a1.refresh_from_db()
    assert a1.is_root_node()
    call_command("check_comment_trees")


def test_move_comment_refuses_other_post_cycles_and_depth(settings):
    settings.SPACES_COMMENT_MAX_DEPTH = 3
    a = CommentFactory()
    a1 = CommentFactory(parent=a)
    a2 = CommentFactory(parent=a1)
    b = CommentFactory(post=a.post)
    b1 = CommentFactory(parent=b)
    with pytest.raises(Refused):
        services.move_comment(a, CommentFactory())
    with pytest.raises(Refused):
        services.move_comment(a, a2)
    with pytest.raises(Refused):
        services.move_comment(a1, b1)
    services.move_comment(a2, b1)
    assert Comment.objects.get(pk=a2.pk).parent_id == b1.pk


def test_reply_as_author_is_approved_in_the_repliers_own_name():
    author = AuthorFactory(display_name="苏剑林")
    post = PostFactory(authors=[author])
    question = CommentFactory(post=post, status=Comment.Status.PENDING)
    user = UserFactory(is_staff=True, username="mod", first_name="版主")
    reply = services.reply_as_author(question, "答：见式 $(3)$", user, ORIGIN)
    question.refresh_from_db()
    assert question.status == Comment.Status.APPROVED
    assert reply.parent == question
    assert reply.author_name == "版主"
    assert reply.user == user
    assert reply.author_email == "mod@example.com"
    assert reply.status == Comment.Status.APPROVED
    assert count_of(post) == 2


def test_reply_as_author_signs_with_the_repliers_profile():
    mine = AuthorFactory(display_name="合著者", website="https://example.org/me")
    post = PostFactory(authors=[AuthorFactory(display_name="第一作者"), mine])
    reply = services.reply_as_author(CommentFactory(post=post), "好问题", mine.user, ORIGIN)
    assert (reply.author_name, reply.user, reply.author_url) == (
        "合著者",
        mine.user,
        "https://example.org/me",
    )


def test_reply_as_author_past_max_depth_quotes(settings):
    settings.SPACES_COMMENT_MAX_DEPTH = 2
    root = CommentFactory()
    leaf = CommentFactory(parent=root, author_name="深")
    reply = services.reply_as_author(leaf, "好", root.post.authors.get().user, ORIGIN)
    assert reply.parent == root
    assert reply.body == f"[comment={leaf.pk}]深[/comment] 好"


def test_check_comment_trees_passes_and_reports_corruption():
    root = CommentFactory()
    reply = CommentFactory(parent=root)
    CommentFactory(post=root.post)
    call_command("check_comment_trees")
    Comment.objects.filter(pk=reply.pk).update(rght=99)
    with pytest.raises(CommandError):
        call_command("check_comment_trees")
    call_command("check_comment_trees", rebuild=True)
    assert Comment.objects.get(pk=reply.pk).rght == 3


def test_check_comment_trees_finds_colliding_roots():
    a, b = CommentFactory(), CommentFactory()
    Comment.objects.filter(pk=b.pk).update(tree_id=a.tree_id)
    with pytest.raises(CommandError):
        call_command("check_comment_trees")
    call_command("check_comment_trees", rebuild=True)
    assert Comment.objects.get(pk=a.pk).tree_id != Comment.objects.get(pk=b.pk).tree_id


def test_sidebar_lists_ten_newest_approved_with_excerpts(client):
    post = PostFactory()
    CommentFactory.create_batch(11, post=post, body="短评")
    newest = CommentFactory(post=post, author_name="王五", body="长" * 60)
    CommentFactory(post=post, status=Comment.Status.PENDING, body="待审")
    CommentFactory(post=PostFactory(status=Post.Status.DRAFT), body="草稿下的评论")
    entries = recent_comments()
    assert len(entries) == 10
    assert entries[0] == {
        "name": "王五",
        "excerpt": "长" * 47 + "…",
        "url": f"/comments/{newest.pk}",
    }
    assert entries[1]["excerpt"] == "短评"
    html = client.get("/").content.decode()
    assert f'<a href="/comments/{newest.pk}"><span class="name">王五</span>: {"长" * 47}…' in html
    assert "待审" not in html
    assert "草稿下的评论" not in html


def test_sidebar_is_cached_and_refreshed_on_change(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    comment = CommentFactory(body="第一条")
    recent_comments()
    with django_assert_num_queries(0):
        assert recent_comments()[0]["excerpt"] == "第一条"
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status([comment.pk], Comment.Status.SPAM)
    with django_assert_num_queries(1):
        assert recent_comments() == []


def test_sidebar_refreshed_when_new_comment_is_approved(client, django_capture_on_commit_callbacks):
    post = PostFactory()
    CommentFactory(author_email="zhang@example.com", body="旧评论")
    assert recent_comments()[0]["excerpt"] == "旧评论"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/archives/{post.pk}/comment", form_data(post, body="新评论"))
    assert recent_comments()[0]["excerpt"] == "新评论"


def test_new_comment_mails_post_authors_after_commit(client, django_capture_on_commit_callbacks):
    author = AuthorFactory(user=UserFactory(email="author@example.com"))
    post = PostFactory(authors=[author], title="流形")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/archives/{post.pk}/comment", form_data(post, body="好文"))
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["author@example.com"]
    assert "流形" in message.subject
    assert "好文" in message.body
    assert "/admin/comments/comment/" in message.body


def test_spam_comment_mails_nobody(client, settings, django_capture_on_commit_callbacks):
    settings.SPACES_COMMENT_BLOCKLIST = ["casino"]
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/archives/{post.pk}/comment", form_data(post, body="casino"))
    assert mail.outbox == []


def test_author_replying_is_not_mailed_about_own_comment(
    client, django_capture_on_commit_callbacks
):
    post = PostFactory()
    user = post.authors.get().user
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/archives/{post.pk}/comment", form_data(post, author_email=user.email))
    assert mail.outbox == []


def reply_through_form(client, parent, body="回复你了", email="reply@example.com"):
    CommentFactory(author_email=email)  # a known writer: approved at once
    post = parent.post
    data = form_data(post, body=body, reply_to=parent.pk, author_email=email, author_name="回复者")
    return client.post(f"/archives/{post.pk}/comment", data)


def test_reply_mails_parent_writer_who_asked_with_unsubscribe_link(
    client, django_capture_on_commit_callbacks
):
    parent = CommentFactory(author_email="asker@example.com", notify_replies=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply_through_form(client, parent)
    to_asker = [m for m in mail.outbox if m.to == ["asker@example.com"]]
    assert len(to_asker) == 1
    message = to_asker[0]
    assert "回复者" in message.subject
    assert "回复你了" in message.body
    token = unsubscribe_token(parent)
    assert f"http://testserver/comments/unsubscribe/{token}" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_reply_does_not_mail_parent_who_did_not_ask(client, django_capture_on_commit_callbacks):
    parent = CommentFactory(author_email="quiet@example.com", notify_replies=False)
    with django_capture_on_commit_callbacks(execute=True):
        reply_through_form(client, parent)
    assert not [m for m in mail.outbox if "quiet@example.com" in m.to]


def test_pending_reply_mails_parent_once_when_approved(client, django_capture_on_commit_callbacks):
    parent = CommentFactory(author_email="asker@example.com", notify_replies=True)
    post = parent.post
    data = form_data(post, reply_to=parent.pk, author_email="new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/archives/{post.pk}/comment", data)
    assert not [m for m in mail.outbox if "asker@example.com" in m.to]
    reply = Comment.objects.get(author_email="new@example.com")
    for status in ["approved", "pending", "approved"]:
        with django_capture_on_commit_callbacks(execute=True):
            services.set_status([reply.pk], status)
    assert len([m for m in mail.outbox if "asker@example.com" in m.to]) == 1


def test_mail_failure_is_logged_and_comment_kept(
    client, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.comments.test_services.BrokenBackend"
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/archives/{post.pk}/comment", form_data(post))
    assert response.status_code == 302
    assert Comment.objects.count() == 1
    assert "Could not send" in caplog.text


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_unsubscribe_link_asks_first_and_a_get_changes_nothing(client):
    parent = CommentFactory(author_email="asker@example.com", notify_replies=True)
    url = f"/comments/unsubscribe/{unsubscribe_token(parent)}"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<form method="post" action="{url}"><button type="submit">确认退订</button>' in html
    assert "已退订" not in html
    assert Comment.objects.get(pk=parent.pk).notify_replies


@pytest.mark.parametrize("data", [{}, {"List-Unsubscribe": "One-Click"}])
def test_unsubscribe_post_stops_reply_mail(client, data, django_capture_on_commit_callbacks):
    """The page's button posts nothing; a mail client's RFC 8058 one-click POST posts
    `List-Unsubscribe=One-Click`, without cookies or a CSRF token."""
    parent = CommentFactory(author_email="asker@example.com", notify_replies=True)
    other = CommentFactory(author_email="asker@example.com", notify_replies=True)
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(f"/comments/unsubscribe/{unsubscribe_token(parent)}", data)
    assert response.status_code == 200
    assert "已退订" in response.content.decode()
    assert not Comment.objects.filter(pk__in=[parent.pk, other.pk], notify_replies=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        reply_through_form(client, parent)
    assert not [m for m in mail.outbox if "asker@example.com" in m.to]


def test_reply_mail_offers_one_click_unsubscribe(client, django_capture_on_commit_callbacks):
    parent = CommentFactory(author_email="asker@example.com", notify_replies=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply_through_form(client, parent)
    message = next(m for m in mail.outbox if "asker@example.com" in m.to)
    token = unsubscribe_token(parent)
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<http://testserver/comments/unsubscribe/{token}>"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("token", ["forged", "MTIz:1abc:xyz", "x" * 500])
def test_unsubscribe_forged_token_is_400(client, token):
    comment = CommentFactory(notify_replies=True)
    response = client.get(f"/comments/unsubscribe/{token}")
    assert response.status_code == 400
    assert Comment.objects.get(pk=comment.pk).notify_replies


def test_approving_a_comment_shows_its_count_on_the_archive_page_at_once(client):
    from comments.models import Comment
    from comments.services import set_status
    from tests.factories import CommentFactory, PostFactory

    post = PostFactory()
    comment = CommentFactory(post=post, status=Comment.Status.PENDING)
    assert "(0条评论)" in client.get("/content.html").content.decode()
    set_status([comment.pk], Comment.Status.APPROVED)
    assert "(1条评论)" in client.get("/content.html").content.decode()
