"""Remembered commenters and logged-in readers are served the cached article with their own
comment form; their page is rendered for them only while their threads differ from everyone's,
and their requests never store a page."""

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client

from comments.models import Comment
from comments.visitors import COOKIE, remember_commenter
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)  # pages are stored once changes commit

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def remembered(name: str, email: str) -> Client:
    """A browser that commented before: the signed cookie the site set then."""
    response = HttpResponse()
    remember_commenter(response, Comment(author_name=name, author_email=email, author_url=""))
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.cookies[COOKIE] = response.cookies[COOKIE].value
    return client


def form_value(html: str, name: str) -> str:
    field = html.split(f'name="{name}"')[1].split(">")[0]
    return field.split('value="')[1].split('"')[0] if 'value="' in field else ""


@pytest.fixture
def cached_article():
    post = PostFactory(title="缓存的文章")
    CommentFactory(post=post, author_name="旧读者")
    Client(HTTP_USER_AGENT=BROWSER).get(post.get_absolute_url())  # stored for everyone
    return post


def test_a_remembered_commenter_gets_the_cached_article_with_their_details(cached_article):
    response = remembered("老朋友", "old@example.com").get(cached_article.get_absolute_url())
    html = response.content.decode()
    assert response["X-Page-Cache"] == "hit"
    assert form_value(html, "author_name") == "老朋友"
    assert form_value(html, "author_email") == "old@example.com"
    assert "旧读者" in html
    again = Client(HTTP_USER_AGENT=BROWSER).get(cached_article.get_absolute_url())
    assert "老朋友" not in again.content.decode()  # nobody else gets their details
    assert form_value(again.content.decode(), "author_name") == ""


def test_a_logged_in_reader_gets_the_cached_article_with_their_name(cached_article):
    user = get_user_model().objects.create_user("reader", "reader@example.com", "pw-x-1234")
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.force_login(user)
    response = client.get(cached_article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert form_value(response.content.decode(), "author_email") == "reader@example.com"


def test_a_commenter_whose_comment_awaits_review_gets_their_page_rendered(cached_article):
    client = remembered("新读者", "new@example.com")
    client.get(cached_article.get_absolute_url())  # the form's page, with a session after …
    response = client.post(f"/archives/{cached_article.pk}/comment-tokens", HTTP_USER_AGENT=BROWSER)
    session = client.session
    held = CommentFactory(post=cached_article, status=Comment.Status.PENDING, body="待审的话")
    session["comments_mine"] = [held.pk]  # … as posting the comment leaves it
    session.save()
    client.cookies["sessionid"] = session.session_key
    response = client.get(cached_article.get_absolute_url())
    assert "X-Page-Cache" not in response  # rendered for them, not stored
    assert "待审的话" in response.content.decode()
    other = Client(HTTP_USER_AGENT=BROWSER).get(cached_article.get_absolute_url())
    assert other["X-Page-Cache"] == "hit"
    assert "待审的话" not in other.content.decode()


def test_a_remembered_commenters_request_never_stores_a_page():
    post = PostFactory()
    first = remembered("先到", "first@example.com").get(post.get_absolute_url())
    assert "X-Page-Cache" not in first  # nothing stored yet: rendered for them alone
    anonymous = Client(HTTP_USER_AGENT=BROWSER).get(post.get_absolute_url())
    assert anonymous["X-Page-Cache"] == "miss"
    assert "先到" not in anonymous.content.decode()


def test_a_remembered_commenters_cached_article_costs_few_queries(
    cached_article, django_assert_num_queries
):
    client = remembered("老朋友", "old@example.com")
    client.get(cached_article.get_absolute_url())  # their counted read, now in the read cookie
    # the content version, the reader count (their form is cached with stand-ins)
    with django_assert_num_queries(2):
        assert client.get(cached_article.get_absolute_url())["X-Page-Cache"] == "hit"


def test_a_remembered_commenter_gets_the_stored_listing_as_it_is(cached_article):
    Client(HTTP_USER_AGENT=BROWSER).get("/")
    response = remembered("老朋友", "old@example.com").get("/")
    assert response["X-Page-Cache"] == "hit"
    assert "缓存的文章" in response.content.decode()


def test_an_article_without_a_form_is_rendered_for_a_remembered_commenter():
    post = PostFactory(title="不能评论", comments_enabled=False)
    Client(HTTP_USER_AGENT=BROWSER).get(post.get_absolute_url())  # stored
    response = remembered("老朋友", "old@example.com").get(post.get_absolute_url())
    assert "X-Page-Cache" not in response  # no personal hole says what of it is theirs


def test_a_remembered_commenters_details_are_escaped_in_their_form(cached_article):
    client = remembered('"><script>alert(1)</script>', "x@example.com")
    html = client.get(cached_article.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "\ue000" not in html  # no stand-in left


def test_a_detail_that_looks_like_a_stand_in_is_not_filled_in_again(cached_article):
    client = remembered("\ue000author_email\ue000", "hidden@example.com")
    html = client.get(cached_article.get_absolute_url()).content.decode()
    assert form_value(html, "author_name") == "\ue000author_email\ue000"
    assert html.count("hidden@example.com") == 1  # in the e-mail field only
