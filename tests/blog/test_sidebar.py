import random
import re
from html import unescape
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import quote

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from blog.models import Post, Tag
from blog.templatetags import page_tags, sidebar_tags
from tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def days_ago(days: int):
    return timezone.now() - timezone.timedelta(days=days)


# --- 随机文章 ------------------------------------------------------------------------------------


class RandomPost(NamedTuple):
    url: str
    title: str


class Widgets(NamedTuple):
    random_posts: list[RandomPost]
    popular_tags: list[sidebar_tags.PopularTag]
    tag_cloud: str


RANDOM_LINK = re.compile(r'<li><a href="([^"]*)">([^<]*)</a></li>')


def widgets() -> Widgets:
    """随机文章 as one page gets them, and the cached 热门标签."""
    links = RANDOM_LINK.findall(sidebar_tags.random_posts_html())
    data = sidebar_tags.sidebar_data()
    posts = [RandomPost(unescape(url), unescape(title)) for url, title in links]
    return Widgets(posts, data.popular_tags, data.tag_cloud)


def test_random_posts_are_ten_distinct_published_posts():
    PostFactory.create_batch(30, authors=[AuthorFactory()])
    chosen = widgets().random_posts
    assert len(chosen) == 10
    assert len({post.url for post in chosen}) == 10
    assert {post.title for post in chosen} <= set(Post.objects.values_list("title", flat=True))


def test_random_posts_vary_between_requests():
    PostFactory.create_batch(30, authors=[AuthorFactory()])
    random.seed(5)
    seen = {post.url for _ in range(20) for post in widgets().random_posts}
    assert len(seen) > 10


def test_random_posts_pool_is_redrawn_with_each_content_version(monkeypatch):
    monkeypatch.setattr(sidebar_tags, "RANDOM_POOL", 12)
    posts = PostFactory.create_batch(40, authors=[AuthorFactory()])
    pools = set()
    for post in posts[:10]:
        post.save()  # a new content version
        widgets()
        pool = sidebar_tags.sidebar_data().pool
        pools.add(frozenset(pool))
    assert len(pools) > 1


def test_random_posts_never_order_the_table_randomly(django_assert_num_queries):
    PostFactory.create_batch(12, authors=[AuthorFactory()])
    with CaptureQueriesContext(connection) as captured:
        widgets()
    with django_assert_num_queries(0):
        widgets()
    post_queries = [q["sql"].upper() for q in captured if "BLOG_TAG" not in q["sql"].upper()]
    assert not [sql for sql in post_queries if "RANDOM()" in sql or "ORDER BY" in sql]
    assert len(post_queries) == 2  # the published ids, the pool's titles


def test_random_posts_never_show_drafts_or_scheduled_posts():
    PostFactory(title="草稿", status=Post.Status.DRAFT)
    PostFactory(title="定时", published_at=timezone.now() + timezone.timedelta(hours=1))
    PostFactory(title="公开")
    assert [post.title for post in widgets().random_posts] == ["公开"]


def test_random_posts_drop_a_post_as_soon_as_it_is_unpublished():
    posts = PostFactory.create_batch(3, authors=[AuthorFactory()])
    assert len(widgets().random_posts) == 3
    posts[0].status = Post.Status.DRAFT
    posts[0].save()
    assert posts[0].get_absolute_url() not in {post.url for post in widgets().random_posts}


def test_random_posts_on_an_empty_site():
    assert widgets().random_posts == []
    assert widgets().popular_tags == []


# --- 热门标签 ------------------------------------------------------------------------------------


def test_popular_tags_are_the_25_most_used_on_published_posts():
    author = AuthorFactory()
    tags = [TagFactory(name=f"t{n:02d}") for n in range(30)]
    for n in range(30):
        PostFactory(tags=tags[: n + 1], authors=[author])  # t00 on 30 posts … t29 on 1
    PostFactory.create_batch(5, tags=[tags[29]], status=Post.Status.DRAFT, authors=[author])
    popular = widgets().popular_tags
    assert [tag.name for tag in popular] == [f"t{n:02d}" for n in range(25)]
    counts = {tag.name: tag.post_count for tag in popular}
    assert counts["t00"] == 30
    assert counts["t24"] == 6
    weights = {tag.name: tag.weight for tag in popular}
    assert weights["t00"] == 5
    assert weights["t24"] == 1


def test_popular_tags_are_cached_until_tags_change(django_assert_num_queries):
    post = PostFactory(tags=[TagFactory(name="旧")])
    widgets()
    with django_assert_num_queries(0):
        assert [tag.name for tag in widgets().popular_tags] == ["旧"]
    post.tags.add(TagFactory(name="新"))
    assert [tag.name for tag in widgets().popular_tags] == ["新", "旧"]
    Tag.objects.filter(name="新").get().delete()
    assert [tag.name for tag in widgets().popular_tags] == ["旧"]
    tag = Tag.objects.get()
    tag.name = "改名"
    tag.save()
    assert [tag.name for tag in widgets().popular_tags] == ["改名"]


def test_popular_tags_cloud_is_rendered_in_each_language():
    PostFactory(tags=[TagFactory(name="流模型")])
    with translation.override("en"):
        assert 'title="1 post">流模型</a>' in widgets().tag_cloud
    assert 'title="1 篇文章">流模型</a>' in widgets().tag_cloud


def test_popular_tags_weights_when_all_equal():
    PostFactory(tags=[TagFactory(), TagFactory()])
    assert {tag.weight for tag in widgets().popular_tags} == {1}


def test_sidebar_shows_search_box_random_posts_and_popular_tags(client):
    PostFactory(title="随便一篇", tags=[TagFactory(name="流模型")])
    html = client.get("/").content.decode()
    aside = html[html.index('<aside class="sidebar">') :]
    assert '<form class="search-form" action="/search/" method="get">' in aside
    assert 'name="q"' in aside
    assert "<h2>随机文章</h2>" in aside
    assert ">随便一篇</a>" in aside
    assert "<h2>热门标签</h2>" in aside
    assert re.search(r'href="/tag/%E6%B5%81%E6%A8%A1%E5%9E%8B/" title="1 篇文章">流模型</a>', aside)


def test_sidebar_search_box_keeps_the_query(client):
    html = client.get("/search/流模型/").content.decode()
    assert 'name="q" value="流模型"' in html


def test_sidebar_escapes_titles_and_tag_names(client):
    PostFactory(title="<img src=x onerror=alert(1)>", tags=[TagFactory(name="<b>tag</b>")])
    aside = client.get("/").content.decode().split('<aside class="sidebar">')[1]
    assert "<img src=x" not in aside
    assert "<b>tag</b>" not in aside


@pytest.mark.parametrize("count", [1, 200])
def test_sidebar_widgets_query_count_is_constant(django_assert_num_queries, count):
    PostFactory.create_batch(count, tags=[TagFactory()], authors=[AuthorFactory()])
    template = Template("{% load sidebar_tags %}{% random_posts %}{% sidebar_widgets %}")
    # published ids, the random pool's titles, popular tags, recent comments; then none (the
    # content version: the one this test's writes started)
    with django_assert_num_queries(4):
        template.render(Context())
    with django_assert_num_queries(0):
        template.render(Context())


# --- 内容速览 -------------------------------------------------------------------------------------

TOC_BODY = """## 引言

正文。

### 细节 & <符号>

#### 更深

## 流模型

## 引言

## Flow $x^2$
"""


class HeadingIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.ids.append(dict(attrs)["id"])


def test_toc_anchors_match_the_heading_ids_of_the_body():
    post = PostFactory(body=TOC_BODY)
    parser = HeadingIds()
    parser.feed(post.body_html)
    assert [anchor for _, anchor, _ in post.toc] == parser.ids
    assert len(set(parser.ids)) == 6  # the second 引言 gets its own id


def test_toc_renders_nested_lists_linking_the_anchors(client):
    post = PostFactory(body=TOC_BODY)
    html = client.get(post.get_absolute_url()).content.decode()
    assert '<h2 id="toc-body">内容速览</h2>' in html
    for _, anchor, _ in post.toc:
        assert f'href="#{anchor}"' in html
        assert f'id="{anchor}"' in html
    assert "细节 &amp; &lt;符号&gt;" in html
    toc = html[
        html.index('<nav class="toc toc-body"') : html.index("</nav>", html.index("toc-body"))
    ]
    assert toc.count("<ol>") == 3


def test_toc_nests_skipped_and_shallower_levels():
    entries = [[3, "a", "A"], [2, "b", "B"], [4, "c", "C"], [3, "d", "D"], [2, "e", "E"]]
    assert page_tags.table_of_contents(entries) == (
        '<ol><li><a href="#a">A</a></li><li><a href="#b">B</a>'
        '<ol><li><a href="#c">C</a></li><li><a href="#d">D</a></li></ol></li>'
        '<li><a href="#e">E</a></li></ol>'
    )


def test_toc_of_nothing_is_empty():
    assert page_tags.table_of_contents([]) == ""


def test_toc_appears_in_the_sidebar_of_articles_only(client):
    post = PostFactory(body=TOC_BODY)
    article = client.get(post.get_absolute_url()).content.decode()
    assert article.split('<aside class="sidebar">')[1].count('class="toc toc-sidebar"') == 1
    assert 'class="toc' not in client.get("/").content.decode()


def test_toc_is_left_out_for_a_single_heading(client):
    post = PostFactory(body="## 唯一\n\n正文。")
    assert "内容速览" not in client.get(post.get_absolute_url()).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "visible"), [(1280, ".toc-sidebar"), (600, ".toc-body")])
def test_toc_sits_in_the_sidebar_on_wide_screens(live_server, page, width, visible):
    post = PostFactory(body=TOC_BODY)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + post.get_absolute_url())
    hidden = ".toc-body" if visible == ".toc-sidebar" else ".toc-sidebar"
    assert page.locator(visible).is_visible()
    assert not page.locator(hidden).is_visible()
    page.locator(f"{visible} a", has_text="流模型").click()
    assert page.url.endswith("#" + quote(post.toc[3][1]))


# --- 你也许还对下面的内容感兴趣 -----------------------------------------------------------------


def test_related_posts_share_the_most_tags_first_then_newest(client):
    a, b, c = TagFactory(), TagFactory(), TagFactory()
    author = AuthorFactory()
    post = PostFactory(tags=[a, b, c], authors=[author])
    one_old = PostFactory(title="一个旧", tags=[a], published_at=days_ago(9), authors=[author])
    one_new = PostFactory(title="一个新", tags=[b], published_at=days_ago(2), authors=[author])
    two = PostFactory(title="两个", tags=[a, c], published_at=days_ago(20), authors=[author])
    PostFactory(title="无关", tags=[TagFactory()], authors=[author])
    PostFactory(title="草稿", tags=[a, b, c], status=Post.Status.DRAFT, authors=[author])
    related = Post.objects.related_to(post)
    assert related == [two, one_new, one_old]


def test_related_posts_at_most_ten_in_one_query(django_assert_num_queries):
    tag = TagFactory()
    author = AuthorFactory()
    post = PostFactory(tags=[tag], authors=[author])
    PostFactory.create_batch(15, tags=[tag], authors=[author])
    post = Post.objects.prefetch_related("tags").get(pk=post.pk)
    with django_assert_num_queries(1):
        assert len(Post.objects.related_to(post)) == 10


def test_related_posts_without_tags_cost_nothing(django_assert_num_queries):
    post = Post.objects.prefetch_related("tags").get(pk=PostFactory().pk)
    with django_assert_num_queries(0):
        assert Post.objects.related_to(post) == []


def test_article_shows_related_posts(client):
    tag = TagFactory()
    post = PostFactory(tags=[tag])
    other = PostFactory(title="相关的一篇", tags=[tag])
    html = client.get(post.get_absolute_url()).content.decode()
    assert "<h2>你也许还对下面的内容感兴趣</h2>" in html
    assert f'<a href="{other.get_absolute_url()}">相关的一篇</a>' in html
