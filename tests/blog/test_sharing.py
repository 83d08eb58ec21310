"""What search engines and sharing see: descriptions, OpenGraph images, icons, one h1."""

import re

import pytest
from django.urls import reverse

from tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db


def meta(html: str, key: str) -> list[str]:
    return re.findall(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', html)


def test_article_og_image_is_its_first_figure_made_absolute(client):
    post = PostFactory(
        body="文字\n\n![图一](/media/a.png)\n\n![图二](https://cdn.example.org/b.png)"
    )
    html = client.get(post.get_absolute_url()).content.decode()
    assert meta(html, "og:image") == ["http://testserver/media/a.png"]


def test_article_og_image_is_on_the_canonical_base_url(client, settings):
    settings.SPACES_BASE_URL = "https://blog.example.org"
    post = PostFactory(body="![图一](/media/a.png)")
    html = client.get(post.get_absolute_url()).content.decode()
    assert meta(html, "og:image") == ["https://blog.example.org/media/a.png"]


def test_article_without_figure_shares_the_default_image(client, settings):
    post = PostFactory(body="没有图。")
    html = client.get(post.get_absolute_url()).content.decode()
    assert meta(html, "og:image") == ["http://testserver/static/img/share.png"]
    settings.SPACES_DEFAULT_IMAGE = "https://img.example.org/site.png"
    html = client.get(PostFactory(body="也没有图。").get_absolute_url()).content.decode()
    assert meta(html, "og:image") == ["https://img.example.org/site.png"]


def test_home_page_has_the_tagline_as_description_and_opengraph(client, settings):
    settings.SPACES_TAGLINE = "数学与代码的小站"
    PostFactory()
    html = client.get("/").content.decode()
    assert meta(html, "description") == ["数学与代码的小站"]
    assert meta(html, "og:description") == ["数学与代码的小站"]
    assert meta(html, "og:type") == ["website"]
    assert meta(html, "og:url") == ["http://testserver/"]
    assert meta(html, "og:image") == ["http://testserver/static/img/share.png"]


def test_category_page_describes_the_category(client):
    category = CategoryFactory(description="关于 $\\alpha$ 的一切")
    PostFactory(categories=[category])
    html = client.get(category.get_absolute_url()).content.decode()
    assert meta(html, "description") == ["关于 $\\alpha$ 的一切"]
    assert len(meta(html, "og:title")) == 1


@pytest.mark.parametrize("path", ["/", "/page/2/", "/content.html"])
def test_pages_have_exactly_one_h1(client, path):
    PostFactory.create_batch(10)
    html = client.get(path).content.decode()
    assert html.count("<h1") == 1


def test_every_page_links_the_icons_and_favicon_ico_resolves(client, settings):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in html
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="apple-touch-icon" href="/static/img/apple-touch-icon.png">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.ico"
    settings.SPACES_FAVICON_ICO = "https://example.org/mine.ico"
    assert client.get("/favicon.ico")["Location"] == "https://example.org/mine.ico"


def test_the_icons_ship_with_spaces():
    from django.contrib.staticfiles import finders

    for name in ["img/favicon.svg", "img/favicon.ico", "img/apple-touch-icon.png", "img/share.png"]:
        assert finders.find(name), name


def test_a_replaced_favicon_is_linked(client, settings):
    settings.SPACES_FAVICON = "https://example.org/logo.png"
    html = client.get(reverse("blog:post_list")).content.decode()
    assert '<link rel="icon" href="https://example.org/logo.png">' in html
