from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog import articles
from blog.caching.version import content_changed
from blog.context_processors import navigation
from blog.models import Post, PostAuthor
from blog.views.posts import article_links
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory
from tests.pins import assert_same_for_1_and_200

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rendered_whole(settings):
    """Pages rendered whole on every request: the page cache would hide what they cost."""
    settings.SPACES_PAGE_CACHE = False


@pytest.fixture
def subjects():
    return {
        "category": CategoryFactory(slug="maths"),
        "tag": TagFactory(name="概率"),
        "author": AuthorFactory(slug="su"),
    }


def grow_posts(subjects):
    """Add published posts in the three subjects, in bulk (factories would take minutes)."""

    def grow(count: int) -> None:
        posts = Post.objects.bulk_create(
            Post(title=f"文章 {n}", body="正文", body_html="<p>正文</p>", published_at=now)
            for n, now in enumerate([timezone.now()] * count)
        )
        for post in posts:
            post.status = Post.Status.PUBLISHED
        Post.objects.bulk_update(posts, ["status"])
        Post.categories.through.objects.bulk_create(
            Post.categories.through(post=post, category=subjects["category"]) for post in posts
        )
        Post.tags.through.objects.bulk_create(
            Post.tags.through(post=post, tag=subjects["tag"]) for post in posts
        )
        PostAuthor.objects.bulk_create(
            PostAuthor(post=post, author=subjects["author"]) for post in posts
        )
        content_changed()  # bulk writes send no signals

    return grow


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/page/2/",
        "/category/maths",
        "/tag/%E6%A6%82%E7%8E%87/",
        "/author/su/",
        "/feed",
        "/feed/atom",
        "/category/maths/feed",
        "/tag/%E6%A6%82%E7%8E%87/feed",
        "/author/su/feed",
        "/content.html",
        "/sitemap.xml",
    ],
)
def test_listing_pages_cost_the_same_for_1_and_200_posts(client, subjects, url):
    PostFactory.create_batch(8, categories=[subjects["category"]])  # a second page on the home
    assert_same_for_1_and_200(client, lambda: url, grow_posts(subjects))


def test_the_article_costs_the_same_for_1_and_200_related_posts(client, subjects):
    post = PostFactory(tags=[subjects["tag"]], categories=[subjects["category"]])
    assert_same_for_1_and_200(client, post.get_absolute_url, grow_posts(subjects))


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_citation_downloads_cost_the_same_for_1_and_200_authors(client, fmt):
    post = PostFactory(authors=[])

    def grow(count: int) -> None:
        for author in AuthorFactory.create_batch(count):
            post.post_authors.create(author=author, order=post.post_authors.count())

    assert_same_for_1_and_200(client, lambda: f"/archives/{post.pk}/cite.{fmt}", grow)


# --- Components ---------------------------------------------------------------------------------


def test_navigation_is_one_query_then_cached():
    PostFactory(categories=CategoryFactory.create_batch(3))
    with CaptureQueriesContext(connection) as cold:
        assert len(navigation()) == 3
    assert len([q for q in cold if "blog_category" in q["sql"]]) == 1
    with CaptureQueriesContext(connection) as warm:
        navigation()
    assert not [q for q in warm if "blog_category" in q["sql"]]


def test_the_sidebar_is_four_queries_then_cached(django_assert_num_queries):
    PostFactory.create_batch(5, tags=[TagFactory()])
    template = Template("{% load sidebar_tags %}{% random_posts %}{% sidebar_widgets %}")
    # published ids for the random posts, their titles, the popular tags, the recent comments
    with django_assert_num_queries(4):
        template.render(Context())
    with django_assert_num_queries(0):
        template.render(Context())


def test_article_links_are_five_queries_then_cached_until_the_site_changes():
    tag, category = TagFactory(), CategoryFactory()
    older, post, newer = (
        PostFactory(
            tags=[tag], categories=[category], published_at=timezone.now() - timedelta(days=n)
        )
        for n in (3, 2, 1)
    )

    def link_queries() -> int:
        article = articles.article(pk=post.pk)  # as each request reads it
        with CaptureQueriesContext(connection) as captured:
            links = article_links(article)
        assert links.categories == [(category.get_absolute_url(), category.name)]
        assert links.tags == [(tag.get_absolute_url(), tag.name)]
        assert (links.previous.title, links.next.title) == (older.title, newer.title)
        assert [link.url for link in links.related] == [
            newer.get_absolute_url(),
            older.get_absolute_url(),
        ]
        caching = ("blog_contentversion", "spaces_cache")
        return len([q for q in captured if not any(table in q["sql"] for table in caching)])

    # categories, tags, previous, next, related
    assert link_queries() == 5
    assert link_queries() == 0
    content_changed()
    assert link_queries() == 5
