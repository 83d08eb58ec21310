import re

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return [post.title for post in response.context_data["posts"]]


def test_category_lists_its_published_posts_newest_first(client):
    category = CategoryFactory(name="信息时代", slug="big-data")
    old = PostFactory(title="旧", categories=[category])
    new = PostFactory(title="新", categories=[category], published_at=timezone.now())
    PostFactory(title="别的分类", categories=[CategoryFactory()])
    PostFactory(title="草稿", categories=[category], status=Post.Status.DRAFT)
    response = client.get("/category/big-data")
    assert response.status_code == 200
    assert titles(response) == [new.title, old.title]
    assert "<title>分类 信息时代 下的文章 | " in response.content.decode()
    assert "<h1>分类 信息时代 下的文章</h1>" in response.content.decode()


def test_category_with_trailing_slash_redirects(client):
    PostFactory(categories=[CategoryFactory(slug="big-data")])
    response = client.get("/category/big-data/")
    assert response.status_code == 301
    assert response["Location"] == "/category/big-data"


def test_category_paginates(client):
    category = CategoryFactory(slug="maths")
    PostFactory.create_batch(9, categories=[category], authors=[AuthorFactory()])
    first = client.get("/category/maths")
    second = client.get("/category/maths/2/")
    assert len(first.context_data["posts"]) == 8
    assert len(second.context_data["posts"]) == 1
    assert 'href="/category/maths/2/"' in first.content.decode()
    assert 'href="/category/maths"' in second.content.decode()
    assert "第 2 页" in second.content.decode()


@pytest.mark.parametrize(
    "url", ["/category/maths/3/", "/category/maths/0/", "/category/maths/999999999/"]
)
def test_category_out_of_range_pages_are_404(client, url):
    PostFactory.create_batch(9, categories=[CategoryFactory(slug="maths")])
    assert client.get(url).status_code == 404


def test_category_unknown_slug_is_404(client):
    assert client.get("/category/no-such-thing").status_code == 404


def test_category_with_only_drafts_is_404(client):
    category = CategoryFactory(slug="secret")
    PostFactory(categories=[category], status=Post.Status.DRAFT)
    PostFactory(categories=[category], published_at=timezone.now() + timezone.timedelta(days=1))
    assert client.get("/category/secret").status_code == 404


def test_category_with_unicode_slug(client):
    PostFactory(title="文", categories=[CategoryFactory(slug="数学")])
    raw = client.get("/category/数学")
    assert titles(raw) == ["文"]
    assert client.get("/category/%E6%95%B0%E5%AD%A6").content == raw.content


def test_tag_lists_its_posts_under_a_unicode_name_raw_or_encoded(client):
    tag = TagFactory(name="流模型")
    PostFactory(title="NICE", tags=[tag])
    PostFactory(title="无关", tags=[TagFactory()])
    raw = client.get("/tag/流模型/")
    encoded = client.get("/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/")
    assert titles(raw) == ["NICE"]
    random_posts = re.compile(r'<section class="widget random-posts">.*?</section>', re.S)
    # The same page, but for 随机文章, drawn for each response
    assert random_posts.sub("", encoded.content.decode()) == random_posts.sub(
        "", raw.content.decode()
    )
    assert "<h1>标签 流模型 下的文章</h1>" in raw.content.decode()
    assert tag.get_absolute_url() == "/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/"


def test_tag_name_with_a_slash_and_spaces_round_trips(client):
    tag = TagFactory(name="CNN/RNN 模型")
    PostFactory(title="卷积", tags=[tag])
    assert tag.get_absolute_url() == "/tag/CNN/RNN%20%E6%A8%A1%E5%9E%8B/"
    assert titles(client.get(tag.get_absolute_url())) == ["卷积"]
    assert client.get("/tag/CNN/RNN 模型/feed").status_code == 200


def test_tag_without_trailing_slash_redirects(client):
    PostFactory(tags=[TagFactory(name="GAN")])
    response = client.get("/tag/GAN")
    assert response.status_code == 301
    assert response["Location"] == "/tag/GAN/"


def test_tag_paginates_and_404s_past_the_end(client):
    tag = TagFactory(name="概率")
    PostFactory.create_batch(9, tags=[tag], authors=[AuthorFactory()])
    assert len(client.get("/tag/概率/2/").context_data["posts"]) == 1
    assert client.get("/tag/概率/3/").status_code == 404


def test_tag_unknown_or_only_on_drafts_is_404(client):
    PostFactory(tags=[TagFactory(name="未公开")], status=Post.Status.DRAFT)
    assert client.get("/tag/未公开/").status_code == 404
    assert client.get("/tag/不存在/").status_code == 404


def test_tag_names_match_exactly(client):
    PostFactory(tags=[TagFactory(name="GAN")])
    assert client.get("/tag/gan/").status_code == 404


def test_author_page_shows_bio_title_and_posts(client):
    author = AuthorFactory(display_name="苏剑林", slug="su", bio="科学空间的博主。\n第二行")
    PostFactory(title="合写", authors=[AuthorFactory(), author])
    PostFactory(title="别人的")
    response = client.get("/author/su/")
    html = response.content.decode()
    assert titles(response) == ["合写"]
    assert "<h1>苏剑林 发布的文章</h1>" in html
    assert "科学空间的博主。<br>第二行" in html


def test_author_bio_is_escaped(client):
    PostFactory(authors=[AuthorFactory(slug="x", bio="<script>alert(1)</script>")])
    html = client.get("/author/x/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_author_paginates_and_unknown_is_404(client):
    author = AuthorFactory(slug="su")
    PostFactory.create_batch(9, authors=[author])
    assert len(client.get("/author/su/2/").context_data["posts"]) == 1
    assert client.get("/author/su/3/").status_code == 404
    assert client.get("/author/nobody/").status_code == 404


def test_author_without_published_posts_is_404(client):
    author = AuthorFactory(slug="new")
    PostFactory(authors=[author], status=Post.Status.DRAFT)
    assert client.get("/author/new/").status_code == 404


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        ("/category/maths", "/category/maths/feed"),
        ("/tag/%E6%A6%82%E7%8E%87/", "/tag/%E6%A6%82%E7%8E%87/feed"),
        ("/author/su/", "/author/su/feed"),
    ],
)
def test_listings_link_their_feed(client, url, feed):
    PostFactory(
        categories=[CategoryFactory(slug="maths")],
        tags=[TagFactory(name="概率")],
        authors=[AuthorFactory(slug="su")],
    )
    html = client.get(url).content.decode()
    assert '<link rel="alternate" type="application/rss+xml" title="' in html
    assert f'href="{feed}">' in html
