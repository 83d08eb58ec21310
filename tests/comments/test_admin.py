import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from blog.models import Post
from comments.models import Comment
from comments.sidebar import recent_comments
from tests.factories import AuthorFactory, CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"


@pytest.fixture
def moderator(client):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(user)
    return user


def action(client, name: str, *comments):
    return client.post(
        CHANGELIST, {"action": name, "_selected_action": [c.pk for c in comments]}, follow=True
    )


def test_moderators_group_can_view_and_change_comments_only():
    group = Group.objects.get(name="Moderators")
    assert sorted(group.permissions.values_list("codename", flat=True)) == [
        "add_blocklistentry",
        "change_blocklistentry",
        "change_comment",
        "delete_blocklistentry",
        "moderate_any_comment",
        "view_blocklistentry",
        "view_comment",
    ]


def test_moderator_cannot_touch_posts(client, moderator):
    post = PostFactory()
    assert client.get("/admin/blog/post/").status_code == 403
    assert client.get(f"/admin/blog/post/{post.pk}/change/").status_code == 403
    response = client.post(f"/admin/blog/post/{post.pk}/change/", {"title": "改了"})
    assert response.status_code == 403
    assert client.post(f"/admin/blog/post/{post.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Post.objects.get(pk=post.pk).title == post.title


def test_moderator_cannot_add_or_delete_comments(client, moderator):
    comment = CommentFactory()
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{comment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_queue_lists_pending_first_and_shows_private_fields(client, moderator):
    old_pending = CommentFactory(status=Comment.Status.PENDING, ip_address="203.0.113.5")
    approved = CommentFactory(post=old_pending.post)
    new_pending = CommentFactory(post=old_pending.post, status=Comment.Status.PENDING)
    html = client.get(CHANGELIST).content.decode()
    order = [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', html)]
    assert order == [new_pending.pk, old_pending.pk, approved.pk]
    assert "203.0.113.5" in html
    assert old_pending.author_email in html


@pytest.mark.parametrize(
    ("query", "found"),
    [("q=独特的名字", True), ("q=unique@example.com", True), ("q=198.51.100.23", True)],
)
def test_queue_search_by_name_email_ip_text(client, moderator, query, found):
    target = CommentFactory(
        author_name="独特的名字", author_email="unique@example.com", ip_address="198.51.100.23"
    )
    other = CommentFactory()
    html = client.get(f"{CHANGELIST}?{query}").content.decode()
    assert (f'value="{target.pk}"' in html) is found
    assert f'name="_selected_action" value="{other.pk}"' not in html


def test_queue_search_by_text_and_filter_by_status(client, moderator):
    target = CommentFactory(body="关于黎曼猜想的疑问", status=Comment.Status.SPAM)
    other = CommentFactory()
    by_text = client.get(f"{CHANGELIST}?q=黎曼猜想").content.decode()
    by_status = client.get(f"{CHANGELIST}?status__exact=spam").content.decode()
    for html in (by_text, by_status):
        assert f'name="_selected_action" value="{target.pk}"' in html
        assert f'name="_selected_action" value="{other.pk}"' not in html


def test_bulk_approve_updates_count_and_sidebar_at_once(
    client, moderator, django_capture_on_commit_callbacks
):
    post = PostFactory()
    pending = CommentFactory.create_batch(2, post=post, status=Comment.Status.PENDING)
    assert recent_comments() == []
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, "approve", *pending)
    assert "2 条评论已改为“已批准”" in response.content.decode()
    assert Post.objects.get(pk=post.pk).comment_count == 2
    assert len(recent_comments()) == 2


@pytest.mark.parametrize(("name", "status"), [("mark_spam", "spam"), ("remove", "removed")])
def test_bulk_spam_and_remove(client, moderator, django_capture_on_commit_callbacks, name, status):
    comment = CommentFactory()
    recent_comments()
    with django_capture_on_commit_callbacks(execute=True):
        action(client, name, comment)
    assert Comment.objects.get(pk=comment.pk).status == status
    assert Post.objects.get(pk=comment.post_id).comment_count == 0
    assert recent_comments() == []


def test_bulk_restore_only_touches_removed_and_spam(client, moderator):
    removed = CommentFactory(status=Comment.Status.REMOVED)
    pending = CommentFactory(post=removed.post, status=Comment.Status.PENDING)
    action(client, "restore", removed, pending)
    assert Comment.objects.get(pk=removed.pk).status == Comment.Status.APPROVED
    assert Comment.objects.get(pk=pending.pk).status == Comment.Status.PENDING
    assert Post.objects.get(pk=removed.post_id).comment_count == 1


def change_data(comment, **overrides) -> dict:
    data = {
        "parent": comment.parent_id or "",
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "body": comment.body,
        "status": comment.status,
    }
    data.update(overrides)
    return data


def test_edit_text_rerenders_and_keeps_tree(client, moderator):
    root = CommentFactory()
    reply = CommentFactory(parent=root)
    url = f"{CHANGELIST}{reply.pk}/change/"
    response = client.post(url, change_data(reply, body="改成 $y$ <script>x</script>"))
    assert response.status_code == 302
    reply.refresh_from_db()
    assert 'class="arithmatex"' in reply.body_html
    assert "<script>" not in reply.body_html
    assert (reply.parent_id, reply.level) == (root.pk, 1)


def test_edits_and_moves_show_on_the_cached_article_at_once(client, moderator):
    root = CommentFactory(body="原来的话")
    reply = CommentFactory(parent=root, body="一条回复")
    other = CommentFactory(post=root.post)
    article = root.post.get_absolute_url()
    reader = Client()
    assert "原来的话" in reader.get(article).content.decode()  # now in the page cache
    client.post(f"{CHANGELIST}{root.pk}/change/", change_data(root, body="改过的话"))
    assert "改过的话" in reader.get(article).content.decode()
    client.post(f"{CHANGELIST}{reply.pk}/change/", change_data(reply, parent=other.pk))
    html = reader.get(article).content.decode()
    assert html.index(f'id="comment-{other.pk}"') < html.index(f'id="comment-{reply.pk}"')


def test_edit_status_goes_through_counts(client, moderator):
    comment = CommentFactory(status=Comment.Status.PENDING)
    client.post(f"{CHANGELIST}{comment.pk}/change/", change_data(comment, status="approved"))
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED
    assert Post.objects.get(pk=comment.post_id).comment_count == 1


def test_edit_parent_moves_and_refuses_cycles(client, moderator):
    root = CommentFactory()
    reply = CommentFactory(parent=root)
    other = CommentFactory(post=root.post)
    refused = client.post(f"{CHANGELIST}{root.pk}/change/", change_data(root, parent=reply.pk))
    assert refused.status_code == 200
    assert "不能移到自己或自己的回复下面" in refused.content.decode()
    moved = client.post(f"{CHANGELIST}{reply.pk}/change/", change_data(reply, parent=other.pk))
    assert moved.status_code == 302
    assert Comment.objects.get(pk=reply.pk).parent_id == other.pk


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.example"])
def test_edit_rejects_bad_website(client, moderator, url):
    comment = CommentFactory()
    response = client.post(
        f"{CHANGELIST}{comment.pk}/change/", change_data(comment, author_url=url)
    )
    assert response.status_code == 200
    assert Comment.objects.get(pk=comment.pk).author_url == ""


def test_reply_as_author_from_admin(client, moderator):
    author = AuthorFactory(display_name="博主")
    question = CommentFactory(post=PostFactory(authors=[author]), status=Comment.Status.PENDING)
    page = client.get(f"{CHANGELIST}{question.pk}/reply/")
    assert page.status_code == 200
    assert f"{question.author_name} 在《" in page.content.decode()
    change = client.get(f"{CHANGELIST}{question.pk}/change/").content.decode()
    assert f"{CHANGELIST}{question.pk}/reply/" in change
    response = client.post(f"{CHANGELIST}{question.pk}/reply/", {"body": "谢谢 $\\alpha$"})
    assert response.status_code == 302
    reply = Comment.objects.get(parent=question)
    assert (reply.author_name, reply.user) == (moderator.username, moderator)
    assert reply.status == Comment.Status.APPROVED
    assert Comment.objects.get(pk=question.pk).status == Comment.Status.APPROVED


@pytest.mark.parametrize("body", ["", "x" * 30_000])
def test_reply_as_author_bad_body_writes_nothing(client, moderator, body):
    question = CommentFactory()
    response = client.post(f"{CHANGELIST}{question.pk}/reply/", {"body": body})
    assert response.status_code == 200
    assert Comment.objects.count() == 1


def test_reply_as_author_needs_change_permission(client):
    viewer = UserFactory(is_staff=True)
    client.force_login(viewer)
    question = CommentFactory()
    assert client.post(f"{CHANGELIST}{question.pk}/reply/", {"body": "x"}).status_code == 403
    assert client.get(f"{CHANGELIST}424242/reply/").status_code in {302, 403, 404}


def test_superuser_delete_keeps_counts_and_tree(admin_client):
    root = CommentFactory()
    CommentFactory(parent=root)
    keep = CommentFactory(post=root.post)
    response = admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [root.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(Comment.objects.all()) == [keep]
    assert Post.objects.get(pk=root.post_id).comment_count == 1
