"""Moderation at a glance: the pending count, the queue's one-click buttons, the blocklist."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from blog.models import Post
from comments import blocklist
from comments.models import BlocklistEntry, Comment
from tests.factories import AuthorFactory, CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"


def staff_in(client: Client, group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def moderate(client: Client, comment: Comment, status: str, **extra):
    url = f"{CHANGELIST}{comment.pk}/moderate/"
    return client.post(url, {"status": status, **extra})


def test_index_shows_pending_count_linked_to_the_queue(client):
    staff_in(client, "Moderators")
    CommentFactory.create_batch(3, status=Comment.Status.PENDING)
    CommentFactory()
    html = client.get("/admin/").content.decode()
    assert f'href="{CHANGELIST}?status__exact=pending"' in html
    assert "3 条评论等待审核" in html


def test_index_counts_only_the_authors_own_posts(client):
    user = staff_in(client, "Authors")
    mine = PostFactory(authors=[AuthorFactory(user=user)])
    CommentFactory(post=mine, status=Comment.Status.PENDING)
    CommentFactory.create_batch(2, status=Comment.Status.PENDING)
    assert "1 条评论等待审核" in client.get("/admin/").content.decode()


def test_index_has_no_comment_notice_for_contributors(client):
    staff_in(client, "Contributors")
    CommentFactory(status=Comment.Status.PENDING)
    assert 'id="pending-comments"' not in client.get("/admin/").content.decode()


def test_index_pending_count_is_one_query(client, django_assert_num_queries):
    from comments.templatetags.comments_admin import pending_comments_notice

    user = UserFactory(is_superuser=True, is_staff=True)
    CommentFactory.create_batch(5, status=Comment.Status.PENDING)
    with django_assert_num_queries(1):
        assert pending_comments_notice(user) == {"count": 5}


def test_queue_row_shows_math_commenter_post_and_buttons_without_script(client):
    staff_in(client, "Moderators")
    comment = CommentFactory(
        status=Comment.Status.PENDING, body="由 $\\sum_k a_k$ 可得", ip_address="203.0.113.7"
    )
    html = client.get(CHANGELIST).content.decode()
    row = html.split(f'id="queue-{comment.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="arithmatex"' in row
    for shown in [comment.author_name, comment.author_email, "203.0.113.7", comment.post.title]:
        assert shown in row
    buttons = re.findall(r'<button type="submit" form="queue-actions"[^>]*value="(\w+)"', row)
    assert buttons == ["approved", "spam", "removed"]
    assert f'formaction="{CHANGELIST}{comment.pk}/moderate/"' in row
    form = html.split('<form id="queue-actions"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'name="next" value="/admin/comments/comment/"' in form
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " onclick=" not in html


def test_queue_one_click_approve_counts_and_offers_undo(client):
    staff_in(client, "Moderators")
    comment = CommentFactory(status=Comment.Status.PENDING)
    response = moderate(client, comment, "approved", next=f"{CHANGELIST}?status__exact=pending")
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?status__exact=pending"
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED
    assert Post.objects.get(pk=comment.post_id).comment_count == 1
    html = client.get(response["Location"]).content.decode()
    undo = re.search(r'<button[^>]*class="queue-undo"[^>]*>', html).group(0)
    assert f'formaction="{CHANGELIST}{comment.pk}/moderate/"' in undo
    assert 'value="pending"' in undo
    moderate(client, comment, "pending")
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING
    assert Post.objects.get(pk=comment.post_id).comment_count == 0


@pytest.mark.parametrize("status", ["spam", "removed"])
def test_queue_one_click_spam_and_remove(client, status):
    staff_in(client, "Moderators")
    comment = CommentFactory()
    moderate(client, comment, status)
    assert Comment.objects.get(pk=comment.pk).status == status
    assert Post.objects.get(pk=comment.post_id).comment_count == 0


def test_queue_button_refuses_get_bad_status_and_foreign_next(client):
    staff_in(client, "Moderators")
    comment = CommentFactory(status=Comment.Status.PENDING)
    assert client.get(f"{CHANGELIST}{comment.pk}/moderate/").status_code == 405
    assert moderate(client, comment, "deleted").status_code == 400
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING
    response = moderate(client, comment, "approved", next="https://evil.example/")
    assert response["Location"] == CHANGELIST


def test_queue_button_needs_csrf_token():
    client = Client(enforce_csrf_checks=True)
    staff_in(client, "Moderators")
    comment = CommentFactory(status=Comment.Status.PENDING)
    assert moderate(client, comment, "approved").status_code == 403
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING


def test_queue_button_of_another_authors_comment_is_not_found(client):
    staff_in(client, "Authors")
    comment = CommentFactory(status=Comment.Status.PENDING)
    assert moderate(client, comment, "approved").status_code in {302, 404}
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING


def test_queue_page_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    staff_in(client, "Moderators")
    CommentFactory(status=Comment.Status.PENDING)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    CommentFactory.create_batch(30, status=Comment.Status.PENDING)
    with django_assert_max_num_queries(len(one)):
        client.get(CHANGELIST)


# The blocklist


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("ip", "203.0.113.9/24", "203.0.113.0/24"),
        ("ip", "2001:DB8::1", "2001:db8::1/128"),
        ("email", "Bot@Spam.Example", "bot@spam.example"),
        ("domain", "@Spam.Example.", "spam.example"),
        ("word", " Casino ", "casino"),
    ],
)
def test_blocklist_admin_normalises_entries(client, kind, value, stored):
    user = staff_in(client, "Moderators")
    url = "/admin/comments/blocklistentry/add/"
    response = client.post(url, {"kind": kind, "value": value, "note": ""})
    assert response.status_code == 302
    entry = BlocklistEntry.objects.get()
    assert (entry.value, entry.created_by) == (stored, user)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("ip", "999.1.1.1"), ("email", "not-an-address"), ("domain", "a b.example"), ("word", "  ")],
)
def test_blocklist_admin_refuses_bad_entries(client, kind, value):
    staff_in(client, "Moderators")
    url = "/admin/comments/blocklistentry/add/"
    response = client.post(url, {"kind": kind, "value": value, "note": ""})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not BlocklistEntry.objects.exists()


def test_blocklist_admin_refuses_duplicates_after_normalising(client):
    staff_in(client, "Moderators")
    BlocklistEntry.objects.create(kind="email", value="bot@spam.example")
    url = "/admin/comments/blocklistentry/add/"
    response = client.post(url, {"kind": "email", "value": "BOT@spam.example", "note": ""})
    assert response.status_code == 200
    assert BlocklistEntry.objects.count() == 1


def comment_like(**fields) -> Comment:
    values = {
        "post": PostFactory(),
        "author_name": "读者",
        "author_email": "reader@example.com",
        "author_url": "",
        "body": "一个问题",
        "ip_address": "192.0.2.10",
        "user_agent": "Mozilla/5.0",
    }
    return Comment(**{**values, **fields})


@pytest.mark.parametrize(
    ("kind", "value", "fields", "blocked"),
    [
        ("email", "bot@spam.example", {"author_email": "BOT@spam.example"}, True),
        ("email", "bot@spam.example", {"author_email": "bot2@spam.example"}, False),
        ("domain", "spam.example", {"author_email": "x@mail.spam.example"}, True),
        ("domain", "spam.example", {"author_url": "https://www.spam.example/a"}, True),
        ("domain", "spam.example", {"body": "see www.spam.example/x"}, True),
        ("domain", "spam.example", {"author_email": "x@notspam.example"}, False),
        ("ip", "192.0.2.0/24", {}, True),
        ("ip", "2001:db8::/32", {"ip_address": "2001:db8::5"}, True),
        ("ip", "198.51.100.0/24", {}, False),
        ("word", "casino", {"body": "Best CASINO"}, True),
        ("word", "casino", {}, False),
    ],
)
def test_blocklist_matches(kind, value, fields, blocked):
    BlocklistEntry.objects.create(kind=kind, value=value)
    assert blocklist.current().matches(comment_like(**fields)) is blocked


def test_blocklist_keeps_the_environment_setting_as_a_source(settings):
    settings.SPACES_COMMENT_BLOCKLIST = ["192.0.2.0/24", "casino"]
    assert blocklist.current().matches(comment_like())
    assert blocklist.current().matches(comment_like(ip_address="198.51.100.1", body="casino"))
    assert not blocklist.current().matches(comment_like(ip_address="198.51.100.1"))


def test_blocklist_is_cached_and_forgotten_on_admin_change(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    staff_in(client, "Moderators")
    comment = comment_like()
    with django_assert_num_queries(1):
        blocklist.current()
    with django_assert_num_queries(0):
        assert not blocklist.current().matches(comment)
    url = "/admin/comments/blocklistentry/add/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"kind": "ip", "value": "192.0.2.10", "note": ""})
    assert blocklist.current().matches(comment_like())
    entry = BlocklistEntry.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/comments/blocklistentry/{entry.pk}/delete/", {"post": "yes"})
    assert not blocklist.current().matches(comment_like())


def test_blocked_comment_from_the_admins_list_is_spam(client, django_capture_on_commit_callbacks):
    from tests.comments.helpers import form_data

    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        blocklist.add("email", ["zhang@example.com"])
    client.post(f"/archives/{post.pk}/comment", form_data(post))
    assert Comment.objects.get().status == Comment.Status.SPAM


@pytest.mark.parametrize(
    ("action", "kind", "value"),
    [("block_ip", "ip", "203.0.113.5/32"), ("block_email", "email", "pest@example.com")],
)
def test_block_action_adds_the_commenters_ip_or_email(
    client, django_capture_on_commit_callbacks, action, kind, value
):
    staff_in(client, "Moderators")
    pest = CommentFactory(author_email="pest@example.com", ip_address="203.0.113.5")
    twin = CommentFactory(author_email="pest@example.com", ip_address="203.0.113.5")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST, {"action": action, "_selected_action": [pest.pk, twin.pk]}, follow=True
        )
    assert "已加入屏蔽列表 1 项" in response.content.decode()
    assert list(BlocklistEntry.objects.values_list("kind", "value")) == [(kind, value)]
    pest_again = comment_like(author_email="pest@example.com", ip_address="203.0.113.5")
    assert blocklist.current().matches(pest_again)
    assert not blocklist.current().matches(comment_like())


def test_block_actions_are_not_offered_to_authors(client):
    user = staff_in(client, "Authors")
    CommentFactory(post=PostFactory(authors=[AuthorFactory(user=user)]))
    html = client.get(CHANGELIST).content.decode()
    assert 'value="approve"' in html
    assert 'value="block_ip"' not in html
    assert client.get("/admin/comments/blocklistentry/").status_code == 403
