import re
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Post
from tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def local(*args) -> datetime:
    """An aware datetime in the site's time zone (Asia/Shanghai)."""
    return datetime(*args, tzinfo=timezone.get_current_timezone())


def titles(response) -> list[str]:
    return [post.title for post in response.context_data["posts"]]


# --- Date archives -------------------------------------------------------------------------------


@pytest.fixture
def dated_posts():
    return [
        PostFactory(title="2018", published_at=local(2018, 12, 31, 23, 30)),
        PostFactory(title="早上", published_at=local(2019, 5, 13, 0, 30)),  # 2019-05-12 in UTC
        PostFactory(title="晚上", published_at=local(2019, 5, 13, 22)),
        PostFactory(title="六月", published_at=local(2019, 6, 1, 8)),
    ]


def test_year_archive_lists_the_years_posts_and_links_its_months(client, dated_posts):
    response = client.get("/2019/")
    html = response.content.decode()
    assert titles(response) == ["六月", "晚上", "早上"]
    assert "<h1>2019年 发布的文章</h1>" in html
    assert 'href="/2019/05/">5月</a>' in html
    assert 'href="/2019/06/">6月</a>' in html


def test_month_archive_uses_the_site_time_zone_and_links_its_days(client, dated_posts):
    response = client.get("/2019/05/")
    assert titles(response) == ["晚上", "早上"]
    assert "<h1>2019年5月 发布的文章</h1>" in response.content.decode()
    assert 'href="/2019/05/13/">13日</a>' in response.content.decode()


def test_day_archive(client, dated_posts):
    response = client.get("/2019/05/13/")
    assert titles(response) == ["晚上", "早上"]
    assert "<h1>2019年5月13日 发布的文章</h1>" in response.content.decode()
    assert titles(client.get("/2018/12/31/")) == ["2018"]


def test_date_archives_hide_drafts_and_scheduled_posts(client):
    now = timezone.localtime()
    PostFactory(title="草稿", status=Post.Status.DRAFT, published_at=now)
    PostFactory(title="定时", published_at=now + timezone.timedelta(minutes=5))
    PostFactory(title="公开", published_at=now - timezone.timedelta(minutes=5))
    assert titles(client.get(f"/{now:%Y}/")) == ["公开"]


def test_date_archives_paginate(client):
    PostFactory.create_batch(9, published_at=local(2019, 5, 13, 12), authors=[AuthorFactory()])
    for url in ("/2019/", "/2019/05/", "/2019/05/13/"):
        first = client.get(url)
        assert len(first.context_data["posts"]) == 8
        assert f'href="{url}page/2/"' in first.content.decode()
        assert len(client.get(f"{url}page/2/").context_data["posts"]) == 1
        assert client.get(f"{url}page/3/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/2020/",  # no posts that year
        "/2019/07/",
        "/2019/05/14/",
        "/2019/13/",
        "/2019/00/",
        "/2019/02/30/",
        "/0001/",
        "/9999/12/31/",
        "/2999/12/31/",
        "/1000/01/01/",
        "/219/",
        "/2019/5/",
    ],
)
def test_date_archives_empty_or_impossible_dates_are_404(client, dated_posts, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("count", [1, 200])
@pytest.mark.parametrize(("url", "queries"), [("/2019/", 9), ("/2019/05/", 9), ("/2019/05/13/", 8)])
def test_date_archive_query_count_is_constant(
    client, django_assert_num_queries, count, url, queries
):
    PostFactory.create_batch(count, published_at=local(2019, 5, 13, 12), authors=[AuthorFactory()])
    # count, posts with their authors (one query: blog/listings.py), the year's months or
    # month's days (none on a day page), navigation categories; sidebar: published ids for
    # random posts, their titles, recent comments, popular tags; the cards' live reader counts
    # (the content version: the one this test's transaction started with its writes)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context_data["posts"]) == min(count, 8)


# --- The archive page ----------------------------------------------------------------------------


def archive_html(client, **params) -> str:
    """The page's main column: the sidebar's random posts would mention any post."""
    response = client.get("/content.html", params)
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_archive_page_groups_posts_by_year_month_and_day(client, dated_posts):
    Post.objects.filter(title="晚上").update(comment_count=3)
    html = archive_html(client)
    assert "2019年 (共3篇)" in html
    assert "2018年 (共1篇)" in html
    assert html.index("2019年 (共3篇)") < html.index("6月") < html.index("5月")
    assert html.index("5月") < html.index("2018年 (共1篇)")
    evening = dated_posts[2]
    assert re.search(
        rf'13日</span> <a href="/archives/{evening.pk}">晚上</a> <small>\(3条评论\)', html
    )
    assert re.search(r'13日</span> <a href="[^"]+">早上</a> <small>\(0条评论\)', html)
    assert "共 4 篇文章" in html


def test_archive_page_hides_drafts_and_scheduled_posts(client):
    PostFactory(title="草稿", status=Post.Status.DRAFT)
    PostFactory(title="定时", published_at=timezone.now() + timezone.timedelta(hours=1))
    PostFactory(title="公开")
    html = archive_html(client)
    assert "公开" in html
    assert "草稿" not in html
    assert "定时" not in html


def test_archive_page_filters_by_tag(client):
    tag = TagFactory(name="流模型")
    PostFactory(title="NICE", tags=[tag])
    PostFactory(title="无关")
    html = archive_html(client, tag="流模型")
    assert "NICE" in html
    assert "无关" not in html
    assert "<h1>标签 流模型 下的文章</h1>" in html
    assert "共 1 篇文章" in html


def test_archive_page_unknown_or_unpublished_tag_is_404(client):
    PostFactory(tags=[TagFactory(name="秘密")], status=Post.Status.DRAFT)
    assert client.get("/content.html", {"tag": "秘密"}).status_code == 404
    assert client.get("/content.html", {"tag": "没有"}).status_code == 404
    assert client.get("/content.html", {"tag": "x" * 10_000}).status_code == 404


def test_archive_page_empty_site(client):
    assert "还没有文章" in archive_html(client)


def test_archive_page_escapes_titles(client):
    PostFactory(title="<script>alert(1)</script>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in archive_html(client)


def test_archive_page_is_cached_until_a_post_changes(client):
    post = PostFactory(title="第一版")
    archive_html(client)
    with CaptureQueriesContext(connection) as captured:
        archive_html(client)
    assert not [q for q in captured if '"blog_post"."comment_count" FROM' in q["sql"]]
    post.title = "第二版"
    post.save()
    assert "第二版" in archive_html(client)
    PostFactory(title="新文章")
    assert "新文章" in archive_html(client)
    post.status = Post.Status.DRAFT
    post.save()
    assert "第二版" not in archive_html(client)


def test_archive_page_shows_bulk_updates_once_the_version_expires(client, monkeypatch, settings):
    post = PostFactory(title="文章")
    assert "(0条评论)" in archive_html(client)
    Post.objects.filter(pk=post.pk).update(comment_count=7)  # no signal: shows after expiry
    assert "(0条评论)" in archive_html(client)
    later = timezone.now() + timezone.timedelta(seconds=settings.SPACES_DISCOVERY_CACHE_SECONDS)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the token expires
    assert "(7条评论)" in archive_html(client)


def test_archive_page_shows_a_scheduled_post_once_due(client, monkeypatch):
    now = timezone.now()
    PostFactory(title="定时", published_at=now + timezone.timedelta(hours=1))
    PostFactory(title="更晚", published_at=now + timezone.timedelta(hours=3))
    assert "定时" not in archive_html(client)
    monkeypatch.setattr(timezone, "now", lambda: now + timezone.timedelta(hours=2))
    html = archive_html(client)
    assert "定时" in html
    assert "更晚" not in html


@pytest.mark.parametrize("count", [1, 200])
def test_archive_page_query_count_is_constant(client, django_assert_num_queries, count):
    tag = TagFactory(name="概率")
    PostFactory.create_batch(count, tags=[tag], authors=[AuthorFactory()])
    # the archive's posts, navigation categories; sidebar: published ids for random posts,
    # their titles, recent comments, popular tags (the content version: the one this test's
    # transaction started with its writes)
    with django_assert_num_queries(6):
        assert client.get("/content.html").status_code == 200
    # the page is cached
    with django_assert_num_queries(0):
        assert client.get("/content.html").status_code == 200
    # by tag, with the sidebar and navigation cached: the tag, its posts
    with django_assert_num_queries(2):
        assert client.get("/content.html", {"tag": "概率"}).status_code == 200
