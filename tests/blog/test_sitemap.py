import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap(client) -> dict[str, str | None]:
    """{location: lastmod} of /sitemap.xml."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in root.findall("sm:url", NS)
    }


def test_sitemap_lists_pages_posts_categories_tags_and_authors(client):
    post = PostFactory(
        categories=[CategoryFactory(slug="maths")],
        tags=[TagFactory(name="流模型")],
        authors=[AuthorFactory(slug="su")],
    )
    urls = sitemap(client)
    assert set(urls) == {
        "http://testserver/",
        "http://testserver/content.html",
        f"http://testserver/archives/{post.pk}",
        "http://testserver/category/maths",
        "http://testserver/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/",
        "http://testserver/author/su/",
    }
    edited = timezone.localdate(post.updated_at).isoformat()  # the site's date, as the sitemap
    assert urls[f"http://testserver/archives/{post.pk}"] == edited


def test_sitemap_never_lists_drafts_scheduled_posts_or_their_only_tags(client):
    draft = PostFactory(status=Post.Status.DRAFT, tags=[TagFactory(name="秘密")])
    scheduled = PostFactory(
        published_at=timezone.now() + timezone.timedelta(days=1),
        categories=[CategoryFactory(slug="soon")],
        authors=[AuthorFactory(slug="newcomer")],
    )
    urls = " ".join(sitemap(client))
    assert f"/archives/{draft.pk}" not in urls
    assert f"/archives/{scheduled.pk}" not in urls
    assert "%E7%A7%98%E5%AF%86" not in urls
    assert "/category/soon" not in urls
    assert "/author/newcomer/" not in urls


def test_sitemap_listing_lastmod_ignores_drafts(client):
    tag = TagFactory(name="概率")
    post = PostFactory(tags=[tag])
    PostFactory(tags=[tag], status=Post.Status.DRAFT)
    Post.objects.filter(status=Post.Status.DRAFT).update(
        updated_at=timezone.now() + timezone.timedelta(days=400)
    )
    assert sitemap(client)["http://testserver/tag/%E6%A6%82%E7%8E%87/"] == (
        timezone.localdate(post.updated_at).isoformat()
    )


def test_sitemap_uses_the_canonical_base_url(client, settings):
    settings.SPACES_BASE_URL = "https://example.org"
    post = PostFactory()
    assert f"https://example.org/archives/{post.pk}" in sitemap(client)


@pytest.mark.parametrize("count", [1, 200])
def test_sitemap_query_count_is_constant(client, django_assert_num_queries, count):
    PostFactory.create_batch(
        count, tags=[TagFactory()], categories=[CategoryFactory()], authors=[AuthorFactory()]
    )
    # the paginator's count and the page for each of posts, categories, tags and authors (the
    # content version: the one this test's writes started)
    with django_assert_num_queries(8):
        assert client.get("/sitemap.xml").status_code == 200


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /admin/" in body


def test_robots_txt_with_base_url(client, settings):
    settings.SPACES_BASE_URL = "https://example.org"
    assert "Sitemap: https://example.org/sitemap.xml" in client.get("/robots.txt").content.decode()


# --- Canonical links and sharing metadata --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/", "http://testserver/"),
        ("/?utm_source=x", "http://testserver/"),
        ("/tag/流模型/", "http://testserver/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/"),
        ("/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/", "http://testserver/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/"),
        ("/content.html", "http://testserver/content.html"),
        ("/search/流模型/", "http://testserver/search/%E6%B5%81%E6%A8%A1%E5%9E%8B/"),
    ],
)
def test_every_page_has_a_canonical_link(client, url, canonical):
    PostFactory(tags=[TagFactory(name="流模型")])
    html = client.get(url).content.decode()
    assert f'<link rel="canonical" href="{canonical}">' in html


def test_canonical_link_uses_the_base_url(client, settings):
    settings.SPACES_BASE_URL = "https://example.org"
    post = PostFactory()
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'<link rel="canonical" href="https://example.org/archives/{post.pk}">' in html


def test_article_has_open_graph_and_twitter_tags(client):
    post = PostFactory(
        title='公式 "引号" & <符号>',
        body="第一段，含公式 $E=mc^2$ 与 **粗体**。\n\n<!--more-->\n\n第二段。",
        authors=[AuthorFactory(display_name="苏剑林")],
        tags=[TagFactory(name="流模型")],
    )
    html = client.get(post.get_absolute_url()).content.decode()
    title = "公式 &quot;引号&quot; &amp; &lt;符号&gt;"
    description = r"第一段，含公式 \(E=mc^2\) 与 粗体。"
    assert f'<meta property="og:title" content="{title}">' in html
    assert f'<meta property="og:description" content="{description}">' in html
    assert f'<meta name="description" content="{description}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert f'<meta property="og:url" content="http://testserver/archives/{post.pk}">' in html
    published = timezone.localtime(post.published_at).isoformat()
    assert f'<meta property="article:published_time" content="{published}">' in html
    assert '<meta property="article:modified_time" content="' in html
    assert '<meta property="article:author" content="苏剑林">' in html
    assert '<meta property="article:tag" content="流模型">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert f'<meta name="twitter:title" content="{title}">' in html
    assert '<meta name="robots"' not in html


def test_article_description_is_truncated(client):
    post = PostFactory(body="长" * 1000)
    html = client.get(post.get_absolute_url()).content.decode()
    start = html.index('<meta name="description" content="') + len(
        '<meta name="description" content="'
    )
    description = html[start : html.index('"', start)]
    assert len(description) == 200
    assert description.startswith("长" * 190)
    assert not description.endswith("长")


def test_draft_preview_is_not_indexed(client):
    author = AuthorFactory()
    draft = PostFactory(status=Post.Status.DRAFT, authors=[author])
    client.force_login(author.user)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert '<meta name="robots" content="noindex">' in html
