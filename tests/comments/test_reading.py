import re
import time
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from blog.models import Post
from comments import visitors
from comments.models import Comment, is_shown, shown_to
from tests.comments.helpers import form_data
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db


def comment_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="comment[^"]*" id="comment-(\d+)"', html)]


def threads(post, count: int, replies: int = 0) -> list:
    """`count` threads on `post`, each with `replies` nested replies (a chain, then siblings)."""
    roots = []
    for _ in range(count):
        root = CommentFactory(post=post)
        roots.append(root)
        parent = root
        for n in range(replies):
            reply = CommentFactory(parent=parent)
            parent = reply if n < 3 else parent
    return roots


def test_article_shows_count_of_approved_comments(client):
    post = PostFactory()
    CommentFactory.create_batch(2, post=post)
    CommentFactory(post=post, status=Comment.Status.PENDING)
    CommentFactory(post=post, status=Comment.Status.SPAM)
    html = client.get(post.get_absolute_url()).content.decode()
    assert "2 评论" in html
    assert len(comment_ids(html)) == 2


def test_threads_render_flat_in_tree_order_indented_by_level(client):
    post = PostFactory()
    a = CommentFactory(post=post)
    b = CommentFactory(post=post)
    a1 = CommentFactory(parent=a)
    a1x = CommentFactory(parent=a1)
    a2 = CommentFactory(parent=a)
    html = client.get(post.get_absolute_url()).content.decode()
    assert comment_ids(html) == [a.pk, a1.pk, a1x.pk, a2.pk, b.pk]
    assert f'class="comment depth-2" id="comment-{a1x.pk}"' in html
    assert f'class="comment depth-1" id="comment-{a2.pk}"' in html
    assert f'id="comment-body-{a1x.pk}" data-math-scope' in html
    assert html.count('<ol class="comment-list">') == 1


def test_top_level_shows_linked_name_and_date_reply_shows_posted_on(client):
    when = datetime(2022, 4, 8, 12, tzinfo=UTC)
    root = CommentFactory(
        author_name="王五", author_url="https://wang.example.org/", created_at=when
    )
    CommentFactory(parent=root, author_name="赵六", created_at=when)
    html = client.get(root.post.get_absolute_url()).content.decode()
    assert (
        '<span class="comment-author"><a href="https://wang.example.org/" '
        'rel="nofollow ugc noopener">王五</a></span>' in html
    )
    assert re.search(r"赵六</span>\s*发表于 <a class=\"comment-date\"", html)
    assert (
        '<time datetime="2022-04-08T20:00:00+08:00" title="2022-04-08 20:00:00+08:00">'
        "2022年4月8日 20:00</time>"
    ) in html


def test_comment_date_format_is_translatable(client, monkeypatch):
    comment = CommentFactory(created_at=datetime(2022, 4, 8, 12, tzinfo=UTC))
    # What the English catalogue does for the msgid "Y年n月j日" (context "comment date").
    monkeypatch.setattr("comments.threads.pgettext", lambda context, message: "F jS, Y")
    with translation.override("en"):
        html = client.get(comment.post.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content
    assert ">April 8th, 2022 20:00</time>" in html.decode()


def test_page_never_shows_email_or_ip(client):
    comment = CommentFactory(author_email="secret@example.com", ip_address="203.0.113.77")
    html = client.get(comment.post.get_absolute_url()).content.decode()
    assert "secret@example.com" not in html
    assert "203.0.113.77" not in html


def test_removed_comment_with_approved_reply_stays_as_placeholder(client):
    root = CommentFactory(body="被删除的内容")
    reply = CommentFactory(parent=root, body="留下的回复")
    Comment.objects.filter(pk=root.pk).update(status=Comment.Status.REMOVED)
    html = client.get(root.post.get_absolute_url()).content.decode()
    assert "此评论已删除" in html
    assert "被删除的内容" not in html
    assert "留下的回复" in html
    assert comment_ids(html) == [root.pk, reply.pk]


@pytest.mark.parametrize("status", [Comment.Status.REMOVED, Comment.Status.SPAM])
def test_hidden_comment_without_approved_replies_disappears(client, status):
    root = CommentFactory(status=status)
    CommentFactory(parent=root, status=Comment.Status.PENDING)
    html = client.get(root.post.get_absolute_url()).content.decode()
    assert comment_ids(html) == []
    assert "此评论已删除" not in html


def test_placeholder_in_the_middle_of_a_thread(client):
    root = CommentFactory()
    middle = CommentFactory(parent=root)
    leaf = CommentFactory(parent=middle)
    Comment.objects.filter(pk=middle.pk).update(status=Comment.Status.SPAM)
    html = client.get(root.post.get_absolute_url()).content.decode()
    assert comment_ids(html) == [root.pk, middle.pk, leaf.pk]
    assert f'class="comment depth-1 comment-removed" id="comment-{middle.pk}"' in html


def test_pagination_shows_last_page_by_default(client):
    post = PostFactory()
    roots = threads(post, 12)
    html = client.get(post.get_absolute_url()).content.decode()
    assert comment_ids(html) == [r.pk for r in roots[10:]]
    assert f'href="/archives/{post.pk}/comment-page-1#comments"' in html


def test_comment_page_urls_show_their_threads(client):
    post = PostFactory()
    roots = threads(post, 12, replies=1)
    first = client.get(f"/archives/{post.pk}/comment-page-1").content.decode()
    second = client.get(f"/archives/{post.pk}/comment-page-2").content.decode()
    assert [pk for pk in comment_ids(first) if pk in {r.pk for r in roots}] == [
        r.pk for r in roots[:10]
    ]
    assert len(comment_ids(first)) == 20
    assert comment_ids(second)[0] == roots[10].pk
    assert post.title in first
    assert f'href="/archives/{post.pk}#comments"' in first


@pytest.mark.parametrize("page", [3, 999])
def test_comment_page_past_the_end_is_404(client, page):
    post = PostFactory()
    threads(post, 12)
    assert client.get(f"/archives/{post.pk}/comment-page-{page}").status_code == 404


@pytest.mark.parametrize("path", ["comment-page-0", "comment-page-x", "comment-page-"])
def test_comment_page_bad_numbers_are_404(client, path):
    post = PostFactory()
    assert client.get(f"/archives/{post.pk}/{path}").status_code == 404


def test_comment_page_of_draft_is_404(client):
    post = PostFactory(status=Post.Status.DRAFT)
    assert client.get(f"/archives/{post.pk}/comment-page-1").status_code == 404


def test_default_page_setting_first(client, settings):
    settings.SPACES_COMMENT_DEFAULT_PAGE = "first"
    post = PostFactory()
    roots = threads(post, 12)
    html = client.get(post.get_absolute_url()).content.decode()
    assert comment_ids(html) == [r.pk for r in roots[:10]]
    assert f'href="/archives/{post.pk}/comment-page-2#comments"' in html


def test_threads_per_page_setting(client, settings):
    settings.SPACES_COMMENT_THREADS_PER_PAGE = 3
    post = PostFactory()
    roots = threads(post, 7)
    html = client.get(post.get_absolute_url()).content.decode()
    assert comment_ids(html) == [roots[6].pk]


def test_permalink_redirects_to_page_and_anchor(client):
    post = PostFactory()
    roots = threads(post, 12)
    reply = CommentFactory(parent=roots[0])
    old = client.get(f"/comments/{reply.pk}")
    new = client.get(f"/comments/{roots[11].pk}")
    assert old.status_code == 302
    assert old["Location"] == f"/archives/{post.pk}/comment-page-1#comment-{reply.pk}"
    assert new["Location"] == f"/archives/{post.pk}#comment-{roots[11].pk}"


def test_permalink_of_placeholder_redirects(client):
    root = CommentFactory()
    CommentFactory(parent=root)
    Comment.objects.filter(pk=root.pk).update(status=Comment.Status.REMOVED)
    response = client.get(f"/comments/{root.pk}")
    assert response["Location"].endswith(f"#comment-{root.pk}")


@pytest.mark.parametrize(
    "status", [Comment.Status.PENDING, Comment.Status.SPAM, Comment.Status.REMOVED]
)
def test_permalink_of_hidden_comment_is_404(client, status):
    comment = CommentFactory(status=status)
    assert client.get(f"/comments/{comment.pk}").status_code == 404


def test_permalink_on_draft_post_is_404(client):
    comment = CommentFactory(post=PostFactory(status=Post.Status.DRAFT))
    assert client.get(f"/comments/{comment.pk}").status_code == 404


@pytest.mark.parametrize("path", ["/comments/424242", "/comments/abc", "/comments/" + "9" * 30])
def test_permalink_missing_is_404(client, path):
    assert client.get(path).status_code == 404


def test_permalink_of_own_pending_comment_redirects_for_its_writer(client):
    post = PostFactory()
    client.post(f"/archives/{post.pk}/comment", form_data(post))
    comment = Comment.objects.get()
    assert client.get(f"/comments/{comment.pk}").status_code == 302
    assert Client().get(f"/comments/{comment.pk}").status_code == 404


def test_quote_markup_renders_as_at_link_to_permalink(client):
    quoted = CommentFactory(author_name="苏剑林")
    CommentFactory(post=quoted.post, body=f"[comment={quoted.pk}]苏剑林[/comment] 说得对")
    html = client.get(quoted.post.get_absolute_url()).content.decode()
    assert (
        f'<a class="comment-quote" href="/comments/{quoted.pk}" rel="nofollow ugc noopener">'
        "@苏剑林</a> 说得对" in html
    )


def test_deepest_comment_offers_quote_instead_of_reply(client, settings):
    settings.SPACES_COMMENT_MAX_DEPTH = 2
    root = CommentFactory()
    leaf = CommentFactory(parent=root, author_name="深处[1]")
    html = client.get(root.post.get_absolute_url()).content.decode()
    assert f'href="?replyTo={root.pk}#respond"' in html
    assert f'href="?replyTo={leaf.pk}#respond"' not in html
    assert f'href="?quote={leaf.pk}#respond"' in html
    assert f'data-quote="[comment={leaf.pk}]深处1[/comment]"' in html


def test_quote_parameter_prefills_body(client):
    quoted = CommentFactory(author_name="甲")
    html = client.get(f"{quoted.post.get_absolute_url()}?quote={quoted.pk}").content.decode()
    assert f"[comment={quoted.pk}]甲[/comment] </textarea>" in html


def test_reply_to_parameter_sets_target_without_javascript(client):
    parent = CommentFactory(author_name="乙")
    html = client.get(f"{parent.post.get_absolute_url()}?replyTo={parent.pk}").content.decode()
    assert f'name="reply_to" value="{parent.pk}"' in html
    assert "回复给 乙" in html


def test_reply_and_quote_parameters_work_on_an_older_comment_page(client):
    post = PostFactory()
    roots = threads(post, 12)
    url = f"/archives/{post.pk}/comment-page-1?replyTo={roots[0].pk}&quote={roots[1].pk}"
    html = client.get(url).content.decode()
    assert f'name="reply_to" value="{roots[0].pk}"' in html
    assert f"[comment={roots[1].pk}]{roots[1].author_name}[/comment] </textarea>" in html


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999999", "１２"])
def test_reply_to_parameter_garbage_is_ignored(client, value):
    post = PostFactory()
    response = client.get(f"{post.get_absolute_url()}?replyTo={value}")
    assert response.status_code == 200
    assert 'name="reply_to" value=' not in response.content.decode()


def test_reply_to_parameter_pending_comment_is_refused_politely(client):
    parent = CommentFactory(status=Comment.Status.PENDING)
    html = client.get(f"{parent.post.get_absolute_url()}?replyTo={parent.pk}").content.decode()
    assert "这条评论现在不能回复" in html
    assert 'name="reply_to" value=' not in html


def test_post_author_comment_is_marked(client):
    post = PostFactory()
    mine = CommentFactory(post=post, user=post.authors.get().user)
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'class="comment depth-0 by-author" id="comment-{mine.pk}"' in html
    assert '<span class="author-badge">作者</span>' in html


def query_count(client, url: str) -> int:
    client.get(url)  # warm the cached sidebars
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_article_queries_do_not_grow_with_comments(client, django_assert_num_queries):
    one, many = PostFactory(), PostFactory()
    CommentFactory(post=one)
    threads(many, 30, replies=9)
    assert Comment.objects.filter(post=many).count() == 300
    expected = query_count(client, one.get_absolute_url())
    client.get(many.get_absolute_url())  # first visits may differ (sidebars, reader counting)
    with django_assert_num_queries(expected):
        html = client.get(many.get_absolute_url()).content.decode()
    assert len(comment_ids(html)) == 100


def test_comment_page_queries_do_not_grow_with_comments(client, django_assert_num_queries):
    one, many = PostFactory(), PostFactory()
    CommentFactory(post=one)
    threads(many, 30, replies=9)
    expected = query_count(client, f"/archives/{one.pk}/comment-page-1")
    client.get(f"/archives/{many.pk}/comment-page-2")
    with django_assert_num_queries(expected):
        html = client.get(f"/archives/{many.pk}/comment-page-2").content.decode()
    assert len(comment_ids(html)) == 100


def test_comment_section_takes_two_queries(client, settings):
    post = PostFactory()
    threads(post, 12, replies=4)
    url = post.get_absolute_url()
    client.get(url)
    settings.SPACES_PAGE_CACHE = False  # rendered afresh, not from the cache
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    touching = [q["sql"] for q in queries if "comments_comment" in q["sql"]]
    assert len(touching) == 2  # the shown threads' ids, then one page of them


def form_fields(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<input type="hidden" name="(csrfmiddlewaretoken|token)" value="([^"]*)"', html)
    )


def test_cached_article_gives_every_reader_fresh_form_tokens(monkeypatch):
    post = PostFactory()
    CommentFactory(post=post)
    url = post.get_absolute_url()
    first = Client(enforce_csrf_checks=True)
    first.get(url)  # renders the page for the cache
    earlier = time.time() - 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: earlier)
    second = Client(enforce_csrf_checks=True)
    html = second.get(url).content.decode()
    assert "\x00" not in html
    # The form's script asks for both tokens when the reader uses the form.
    assert form_fields(html) == {"csrfmiddlewaretoken": ""}
    assert '<input type="hidden" name="token" id="id_token">' in html
    tokens_url = reverse("comments:form_tokens", args=[post.pk])
    tokens = second.get(tokens_url)
    monkeypatch.undo()
    assert "no-store" in tokens["Cache-Control"]
    assert tokens.json()["token"] != first.get(tokens_url).json()["token"]  # its own time
    response = second.post(
        reverse("comments:post_comment", args=[post.pk]),
        {**form_data(post), "token": tokens.json()["token"]},
        HTTP_X_CSRFTOKEN=tokens.json()["csrf"],
    )
    assert response.status_code == 302
    assert Comment.objects.filter(post=post, author_name="张三").exists()


def test_a_remembered_commenter_gets_the_form_filled_in_not_the_cached_page(client):
    post = PostFactory()
    url = post.get_absolute_url()
    client.get(url)
    client.post(reverse("comments:post_comment", args=[post.pk]), form_data(post))
    returning = Client()
    returning.cookies[visitors.COOKIE] = client.cookies[visitors.COOKIE].value
    assert 'value="张三"' in returning.get(url).content.decode()
    assert 'value="张三"' not in Client().get(url).content.decode()


@pytest.mark.parametrize("status", Comment.Status.values)
@pytest.mark.parametrize("own", [True, False])
def test_shown_to_and_is_shown_are_one_rule(status, own):
    comment = CommentFactory(status=status)
    own_ids = [comment.pk] if own else []
    in_database = Comment.objects.filter(shown_to(own_ids), pk=comment.pk).exists()
    assert in_database == is_shown(comment.pk, status, own_ids)
