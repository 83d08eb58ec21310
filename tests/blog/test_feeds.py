import feedparser
import pytest
from django.utils import timezone

from blog.caching.version import content_changed
from blog.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def parse(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_site_feed_is_rss2_with_the_newest_posts(client):
    PostFactory(title="旧", published_at=timezone.now() - timezone.timedelta(days=2))
    PostFactory(title="新")
    response = client.get("/feed")
    assert response["Content-Type"].startswith("application/rss+xml")
    feed = parse(client, "/feed")
    assert feed.version == "rss20"
    assert feed.feed.title == "Spaces"
    assert feed.feed.link == "http://testserver/"
    assert [entry.title for entry in feed.entries] == ["新", "旧"]


def test_site_feed_slash_redirects(client):
    assert client.get("/feed/")["Location"] == "/feed"


def test_site_feed_has_ten_items_by_default_and_follows_the_setting(client, settings):
    PostFactory.create_batch(12, authors=[AuthorFactory()])
    assert len(parse(client, "/feed").entries) == 10
    settings.SPACES_FEED_ITEMS = 3
    content_changed()  # the cached feed has ten
    assert len(parse(client, "/feed").entries) == 3


def test_feed_excludes_drafts_and_scheduled_posts(client):
    PostFactory(title="草稿", status=Post.Status.DRAFT)
    PostFactory(title="定时", published_at=timezone.now() + timezone.timedelta(hours=1))
    PostFactory(title="公开")
    assert [entry.title for entry in parse(client, "/feed").entries] == ["公开"]
    assert [entry.title for entry in parse(client, "/feed/atom").entries] == ["公开"]


def test_feed_item_carries_link_guid_authors_categories_and_dates(client):
    post = PostFactory(
        title="文章",
        authors=[AuthorFactory(display_name="甲"), AuthorFactory(display_name="乙")],
        categories=[CategoryFactory(name="数学")],
        tags=[TagFactory(name="流模型")],
    )
    entry = parse(client, "/feed").entries[0]
    assert entry.link == f"http://testserver/archives/{post.pk}"
    assert entry.id == entry.link
    assert '<guid isPermaLink="true">' in client.get("/feed").content.decode()
    assert entry.author == "甲, 乙"
    assert [tag.term for tag in entry.tags] == ["数学", "流模型"]
    assert entry.published_parsed[:6] == post.published_at.utctimetuple()[:6]


def test_feed_guid_is_stable_across_edits(client):
    post = PostFactory(title="第一版")
    before = parse(client, "/feed").entries[0].id
    post.title, post.body = "第二版", "全新的正文"
    post.save()
    after = parse(client, "/feed").entries[0]
    assert after.title == "第二版"
    assert after.id == before


def test_feed_gives_the_excerpt_with_a_link_and_tex_untouched(client):
    post = PostFactory(body="第一段，含公式 $E=mc^2$ 与 $a<b$。\n\n<!--more-->\n\n第二段秘密。")
    entry = parse(client, "/feed").entries[0]
    assert r"\(E=mc^2\)" in entry.summary
    assert r"\(a&lt;b\)" in entry.summary or r"\(a<b\)" in entry.summary
    assert "第二段秘密" not in entry.summary
    assert f'href="http://testserver/archives/{post.pk}"' in entry.summary
    assert "点击阅读全文" in entry.summary


def test_feed_full_text_setting(client, settings):
    settings.SPACES_FEED_FULL_TEXT = True
    PostFactory(body="第一段。\n\n<!--more-->\n\n第二段全文。")
    assert "第二段全文" in parse(client, "/feed").entries[0].summary


def test_feed_makes_root_relative_links_absolute(client, settings):
    settings.SPACES_BASE_URL = "https://example.org"
    PostFactory(body="![图](/media/a.png) 见 [上文](/archives/1) 与 [外链](//cdn.example/x)")
    settings.SPACES_FEED_FULL_TEXT = True
    summary = parse(client, "/feed").entries[0].summary
    assert 'src="https://example.org/media/a.png"' in summary
    assert 'href="https://example.org/archives/1"' in summary
    assert 'href="//cdn.example/x"' in summary


def test_feed_uses_the_canonical_base_url(client, settings):
    settings.SPACES_BASE_URL = "https://example.org"
    post = PostFactory()
    feed = parse(client, "/feed")
    assert feed.entries[0].link == f"https://example.org/archives/{post.pk}"
    assert feed.feed.link == "https://example.org/"


def test_atom_feed_parses_with_authors_and_updated_dates(client):
    post = PostFactory(title="文章", authors=[AuthorFactory(display_name="甲")])
    response = client.get("/feed/atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = parse(client, "/feed/atom")
    assert feed.version == "atom10"
    entry = feed.entries[0]
    assert entry.title == "文章"
    assert entry.author == "甲"
    assert entry.id == f"http://testserver/archives/{post.pk}"
    assert entry.updated_parsed[:6] == post.updated_at.utctimetuple()[:6]


def test_category_tag_and_author_feeds_list_only_their_posts(client):
    category = CategoryFactory(slug="maths", name="数学")
    tag = TagFactory(name="流模型")
    author = AuthorFactory(slug="su", display_name="苏")
    PostFactory(title="都有", categories=[category], tags=[tag], authors=[author])
    PostFactory(title="都没有")
    for url, title in [
        ("/category/maths/feed", "Spaces | 分类 数学 下的文章"),
        ("/tag/流模型/feed", "Spaces | 标签 流模型 下的文章"),
        ("/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/feed", "Spaces | 标签 流模型 下的文章"),
        ("/author/su/feed", "Spaces | 苏 发布的文章"),
    ]:
        feed = parse(client, url)
        assert feed.feed.title == title
        assert [entry.title for entry in feed.entries] == ["都有"]


def test_subject_feed_links_to_its_listing(client):
    PostFactory(tags=[TagFactory(name="流模型")])
    feed = parse(client, "/tag/流模型/feed")
    assert feed.feed.link == "http://testserver/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/"


@pytest.mark.parametrize(
    "url", ["/category/none/feed", "/tag/none/feed", "/author/none/feed", "/tag/secret/feed"]
)
def test_unknown_or_unpublished_subject_feeds_are_404(client, url):
    PostFactory(tags=[TagFactory(name="secret")], status=Post.Status.DRAFT)
    assert client.get(url).status_code == 404


def test_feed_escapes_hostile_titles(client):
    PostFactory(title="<script>alert(1)</script> & ]]>")
    entry = parse(client, "/feed").entries[0]
    assert entry.title == "<script>alert(1)</script> & ]]>"


def test_empty_site_feed_still_parses(client):
    assert parse(client, "/feed").entries == []


def test_pages_link_the_site_feeds(client):
    PostFactory()
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/rss+xml" title="Spaces" href="/feed">' in html
    assert 'type="application/atom+xml" title="Spaces (Atom)" href="/feed/atom">' in html


@pytest.mark.parametrize("count", [1, 200])
@pytest.mark.parametrize("url", ["/feed", "/feed/atom", "/tag/%E6%A6%82%E7%8E%87/feed"])
def test_feed_query_count_is_constant(client, django_assert_num_queries, count, url):
    PostFactory.create_batch(
        count,
        tags=[TagFactory(name="概率")],
        categories=[CategoryFactory()],
        authors=[AuthorFactory()],
    )
    # (the tag,) posts, their authors, their categories, their tags (the content version: the
    # one this test's writes started)
    with django_assert_num_queries(5 if "/tag/" in url else 4):
        assert client.get(url).status_code == 200
