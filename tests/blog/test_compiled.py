"""Queries compiled once (blog/compiled.py) and the listings built on them (blog/listings.py)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.models import DateTimeField, IntegerField
from django.test.utils import CaptureQueriesContext, override_script_prefix
from django.urls import reverse
from django.utils import timezone

from blog.compiled import Compiled
from blog.listings import Listing, url_maker
from blog.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db


def test_a_compiled_query_is_built_once_and_runs_with_new_values():
    posts = [PostFactory(published_at=timezone.now() - timedelta(days=n)) for n in range(5)]
    built = []

    def build(p):
        built.append(p)
        return (
            Post.objects.filter(published_at__lte=p.now, menu_order__gte=p.views)
            .order_by("-published_at")
            .values_list("id", "published_at")[p.page]
        )

    query = Compiled(build, now=DateTimeField(), views=IntegerField())
    for days, offset in [(0, 0), (2, 1), (10, 0)]:
        now = timezone.now() - timedelta(days=days, hours=1)
        expected = list(
            Post.objects.filter(published_at__lte=now, menu_order__gte=0)
            .order_by("-published_at")
            .values_list("id", "published_at")[offset : offset + 2]
        )
        rows = query.rows(now=now, views=0, offset=offset, limit=2)
        assert [tuple(row) for row in rows] == expected
    assert len(built) == 1
    assert query.rows(now=timezone.now(), views=1, offset=0, limit=9) == []
    assert len(posts) == 5


def test_a_slice_the_backend_writes_otherwise_is_refused_not_run(monkeypatch):
    """The slice's marks must never reach the database as numbers (900,000,001 rows)."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    def fetch_first(self, low_mark, high_mark):
        return f"OFFSET {low_mark} ROWS FETCH FIRST {high_mark - low_mark} ROWS ONLY"

    monkeypatch.setattr(type(connection.ops), "limit_offset_sql", fetch_first)
    assert BaseDatabaseOperations.limit_offset_sql is not fetch_first
    query = Compiled(lambda p: Post.objects.values_list("id")[p.page])
    with pytest.raises(NotImplementedError):
        query.rows(offset=0, limit=2)


def test_a_listing_shows_posts_as_they_come_due_without_compiling_again():
    now = timezone.now()
    PostFactory(title="已发布", published_at=now - timedelta(hours=1))
    PostFactory(title="定时", published_at=now + timedelta(hours=1))
    PostFactory(title="草稿", status=Post.Status.DRAFT, published_at=now - timedelta(hours=1))
    PostFactory(title="页面", kind=Post.Kind.PAGE, slug="about")
    titles = [card.title for card in Listing(now)[0:8]]
    assert (titles, Listing(now).count()) == (["已发布"], 1)
    later = now + timedelta(hours=2)  # the clock as a value: the scheduled post is due
    assert [card.title for card in Listing(later)[0:8]] == ["定时", "已发布"]
    assert Listing(later).count() == 2


def test_a_listing_page_is_its_posts_with_their_authors_in_one_query():
    first, second = AuthorFactory(display_name="甲"), AuthorFactory(display_name="乙")
    category = CategoryFactory()
    now = timezone.now()
    PostFactory(authors=[second, first], categories=[category], published_at=now - timedelta(1))
    PostFactory(categories=[category], published_at=now - timedelta(2)).post_authors.all().delete()
    PostFactory(authors=[first], published_at=now - timedelta(3))
    listing = Listing(timezone.now(), categories=category.pk)
    listing[0:1]  # compiled once for this connection
    with CaptureQueriesContext(connection) as captured:
        cards = listing[0:8]
    assert len(captured) == 1
    assert [[name for _, name in card.byline] for card in cards] == [["乙", "甲"], []]
    assert cards[0].byline[0][0] == second.get_absolute_url()
    assert listing.count() == 2
    assert [card.pk for card in listing[1:2]] == [cards[1].pk]


@pytest.mark.parametrize("prefix", ["/", "/blog/", "/博客 x/"])
def test_url_maker_builds_what_reverse_builds(prefix):
    with override_script_prefix(prefix):
        author_url, post_url = (
            url_maker("blog:author_detail", "slug"),
            url_maker("blog:post_detail", "pk"),
        )
        for slug in ["su", "苏-剑林", "a_b-9"]:
            assert author_url(slug) == reverse("blog:author_detail", kwargs={"slug": slug})
        assert post_url(42) == reverse("blog:post_detail", kwargs={"pk": 42})
    assert post_url(42) == f"{quote(prefix)}archives/42"


@pytest.mark.parametrize(
    ("name", "fixed"),
    [
        ("blog:post_list_page", {}),
        ("blog:tag_detail_page", {"name": "CNN/RNN 概率"}),
        ("blog:search_results_page", {"keywords": "918273645 梯度 x"}),
        ("blog:day_archive_page", {"year": 2019, "month": 5, "day": 3}),
    ],
)
def test_url_maker_builds_page_links_as_reverse_does(name, fixed):
    page_url = url_maker(name, "page", **fixed)
    for page in (2, 17, 123456789):
        assert page_url(page) == reverse(name, kwargs={**fixed, "page": page})
