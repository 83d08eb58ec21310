import feedparser
import pytest

from blog.models import Post
from comments.models import Comment
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


@pytest.mark.parametrize(
    ("url", "version"), [("/feed/comments", "rss20"), ("/feed/comments/atom", "atom10")]
)
def test_site_comment_feeds_parse_and_hold_only_public_comments(client, url, version):
    post = PostFactory(title="矩阵")
    shown = CommentFactory(post=post, author_name="读者甲", body="公式 $a<b$ & <b>粗</b>")
    CommentFactory(post=post, status=Comment.Status.PENDING, body="待审核的")
    CommentFactory(post=post, status=Comment.Status.SPAM, body="垃圾的")
    CommentFactory(post=PostFactory(status=Post.Status.DRAFT), body="草稿的")
    response, feed = parse(client, url)
    assert feed.version == version
    assert [entry.link for entry in feed.entries] == [f"http://testserver/comments/{shown.pk}"]
    entry = feed.entries[0]
    assert entry.author == "读者甲"
    assert "矩阵" in entry.title
    assert "粗" in entry.summary
    body = response.content.decode()
    for hidden in ("待审核的", "垃圾的", "草稿的", shown.author_email, shown.ip_address):
        assert hidden not in body


def test_site_comment_feed_newest_first_and_capped(client):
    post = PostFactory()
    comments = CommentFactory.create_batch(35, post=post)
    _response, feed = parse(client, "/feed/comments")
    assert len(feed.entries) == 30
    assert feed.entries[0].link.endswith(f"/comments/{comments[-1].pk}")


def test_post_comment_feed(client):
    post, other = PostFactory(title="本文"), PostFactory()
    mine = CommentFactory(post=post)
    CommentFactory(post=other)
    _response, feed = parse(client, f"/archives/{post.pk}/feed")
    assert "本文" in feed.feed.title
    assert feed.feed.link == f"http://testserver/archives/{post.pk}"
    assert [e.link for e in feed.entries] == [f"http://testserver/comments/{mine.pk}"]


def test_post_comment_feed_uses_canonical_base_url(client, settings):
    settings.SPACES_BASE_URL = "https://example.org"
    comment = CommentFactory()
    _response, feed = parse(client, f"/archives/{comment.post_id}/feed")
    assert feed.entries[0].link == f"https://example.org/comments/{comment.pk}"


@pytest.mark.parametrize(
    "kwargs", [{"status": Post.Status.DRAFT}, {"published_at": "2999-01-01T00:00:00Z"}]
)
def test_post_comment_feed_of_unpublished_post_is_404(client, kwargs):
    post = PostFactory(**kwargs)
    CommentFactory(post=post)
    assert client.get(f"/archives/{post.pk}/feed").status_code == 404


def test_post_comment_feed_of_missing_post_is_404(client):
    assert client.get("/archives/424242/feed").status_code == 404


def test_article_links_its_comment_feed(client):
    post = PostFactory()
    assert (
        f'href="/archives/{post.pk}/feed"' in client.get(post.get_absolute_url()).content.decode()
    )
