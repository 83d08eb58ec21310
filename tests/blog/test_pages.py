"""Standalone pages (`/<slug>.html`) and HTML bodies."""

import feedparser
import pytest
from django.core.exceptions import ValidationError

from blog.models import Post
from blog.rendering import render_html
from tests.factories import CommentFactory, PageFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_page_is_served_at_its_slug_with_comments(client):
    page = PageFactory(title="留言板", slug="guestbook", body="欢迎留言。")
    CommentFactory(post=page, body="第一条 $x$")
    response = client.get("/guestbook.html")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="post-title">留言板</h1>' in html
    assert "欢迎留言。" in html
    assert "第一条" in html
    assert 'class="citation' not in html  # no citation block or byline on a page
    assert page.get_absolute_url() == "/guestbook.html"


def test_page_with_a_chinese_slug(client):
    PageFactory(title="关于", slug="关于")
    assert client.get("/%E5%85%B3%E4%BA%8E.html").status_code == 200


def test_page_article_url_redirects_to_the_page(client):
    page = PageFactory(slug="about")
    response = client.get(f"/archives/{page.pk}")
    assert response.status_code == 301
    assert response["Location"] == "/about.html"


def test_draft_page_and_unknown_slug_are_404(client):
    PageFactory(slug="secret", status=Post.Status.DRAFT)
    assert client.get("/secret.html").status_code == 404
    assert client.get("/nothing.html").status_code == 404
    assert client.get("/content.html").status_code == 200  # the archive keeps its path


def test_pages_stay_out_of_listings_feeds_and_archives(client):
    tag = TagFactory(name="共同")
    post = PostFactory(title="普通文章", tags=[tag])
    page = PageFactory(title="关于本站的页面", slug="about", tags=[tag])
    year = page.published_at.year
    for url in ["/", "/content.html", f"/{year}/", "/feed", f"/tag/{tag.name}/"]:
        html = client.get(url).content.decode().split("</header>")[-1]  # the nav lists pages
        assert post.title in html, url
        assert page.title not in html, url
    assert (
        page.title
        not in client.get(post.get_absolute_url()).content.decode().split("</header>")[-1]
    )
    entries = feedparser.parse(client.get("/feed/atom").content).entries
    assert [entry.title for entry in entries] == [post.title]


def test_pages_are_in_the_sitemap_search_and_navigation(client):
    PageFactory(title="关于", slug="about", menu_order=2)
    PageFactory(title="留言板", slug="guestbook", menu_order=1)
    PageFactory(title="草稿页", slug="draft-page", status=Post.Status.DRAFT)
    assert "/about.html" in client.get("/sitemap.xml").content.decode()
    assert "/about.html" in client.get("/search/关于/").content.decode()
    html = client.get("/").content.decode()
    nav = html[html.index('class="site-nav"') : html.index("</nav>", html.index("site-nav"))]
    assert nav.index("/guestbook.html") < nav.index("/about.html")
    assert "draft-page" not in nav


def test_page_slug_must_be_unique_and_not_reserved():
    PageFactory(slug="about")
    with pytest.raises(ValidationError):
        Post(kind=Post.Kind.PAGE, title="x", slug="about").full_clean()
    with pytest.raises(ValidationError):
        Post(kind=Post.Kind.PAGE, title="x", slug="content").full_clean()
    # Articles may share slugs with pages: their address is their id.
    Post(title="x", slug="about").full_clean()


def test_editor_manages_pages_in_the_admin(client):
    from django.contrib.auth.models import Group

    editor = UserFactory(is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    response = client.post(
        "/admin/blog/page/add/",
        {
            "title": "关于",
            "slug": "about",
            "body": "本站写数学。$a^2$",
            "status": "published",
            "published_at_0": "2024-01-01",
            "published_at_1": "10:00:00",
            "comments_enabled": "on",
            "menu_order": "1",
            "format": "",
            "post_authors-TOTAL_FORMS": "0",
            "post_authors-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    page = Post.objects.get(slug="about")
    assert page.kind == Post.Kind.PAGE
    assert page.format == Post.Format.MARKDOWN
    assert "/admin/blog/page/" in client.get("/admin/").content.decode()
    assert "关于" not in client.get("/admin/blog/post/").content.decode()
    assert "关于" in client.get("/admin/blog/page/").content.decode()


def test_html_body_is_sanitised_and_its_tex_marked_for_mathjax():
    rendered = render_html(
        '<p onclick="x()">Let $a<b$ and $$\\sum_k k$$.</p><script>alert(1)</script>'
        "<pre>$code$</pre><p>\\begin{equation}x\\label{e1}\\end{equation}</p>"
        "<!--more--><p>after</p>"
    )
    assert "onclick" not in rendered.html
    assert "<script" not in rendered.html
    assert '<span class="arithmatex">\\(a&lt;b\\)</span>' in rendered.html
    assert '<span class="arithmatex">\\[\\sum_k k\\]</span>' in rendered.html
    assert "<pre>$code$</pre>" in rendered.html
    assert '<span class="arithmatex">\\begin{equation}x\\label{e1}\\end{equation}</span>' in (
        rendered.html
    )
    assert rendered.has_math
    assert "after" in rendered.html
    assert "after" not in rendered.excerpt_html


def test_html_body_is_never_read_as_markdown(client):
    post = PostFactory(format=Post.Format.HTML, body="<p>*not emphasis* and # not a heading</p>")
    assert "<em>" not in post.body_html
    assert "*not emphasis*" in post.body_html
    plain = PostFactory(body="*emphasis*")
    assert "<em>" in plain.body_html


def test_html_body_without_more_gets_an_excerpt_of_whole_blocks():
    rendered = render_html("<p>" + "字" * 400 + "</p><p>第二段</p><p>第三段</p>")
    assert rendered.excerpt_html.endswith("</p>")
    assert "第二段" not in rendered.excerpt_html


def test_html_article_loads_mathjax(client):
    post = PostFactory(format=Post.Format.HTML, body="<p>Euler: $e^{i\\pi}+1=0$</p>")
    html = client.get(post.get_absolute_url()).content.decode()
    assert post.has_math
    assert "js/math" in html


def test_preview_renders_html_format(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        "/preview/", {"profile": "post", "format": "html", "body": "<p>*x* $y$</p>"}
    )
    assert "*x*" in response.content.decode()
    assert 'class="arithmatex"' in response.content.decode()
