"""The admin's charts: their data from the daily rows, their queries, who sees what, the SVG."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import PostDailyViews
from stats.charts import daily_bars, nice_ceiling
from stats.queries import Series, comments_per_day, period_days, top_posts, views_per_day
from tests.factories import AuthorFactory, CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_in(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def read(post, days_ago: int, views: int) -> None:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    PostDailyViews.objects.create(post=post, day=day, views=views)


def commented(post, days_ago: int, status: str = "approved"):
    comment = CommentFactory(post=post, status=status)
    comment.created_at = timezone.now() - dt.timedelta(days=days_ago)
    comment.save(update_fields=["created_at"])
    return comment


def test_views_per_day_fills_every_day_and_sums_the_posts():
    first, second = PostFactory(), PostFactory()
    read(first, 0, 5)
    read(second, 0, 2)
    read(first, 3, 7)
    read(first, 30, 100)  # a day before the 30-day period
    series = views_per_day(first.__class__.objects.all(), 30)
    assert len(series.days) == 30
    assert series.days[-1] == timezone.localdate()
    assert series.values[-1] == 7
    assert series.values[-4] == 7
    assert series.total == 14


def test_comments_per_day_counts_approved_comments_on_the_given_posts():
    post, other = PostFactory(), PostFactory()
    commented(post, 0)
    commented(post, 0)
    commented(post, 1, status="pending")
    commented(post, 2)
    commented(other, 0)
    series = comments_per_day(post.__class__.objects.filter(pk=post.pk), 90)
    assert series.values[-1] == 2
    assert series.values[-2] == 0
    assert series.values[-3] == 1
    assert series.total == 3


def test_top_posts_of_a_period_in_order():
    popular, quiet, old = PostFactory(title="热门"), PostFactory(title="冷门"), PostFactory()
    read(popular, 1, 50)
    read(popular, 40, 5)
    read(quiet, 2, 3)
    read(old, 200, 999)
    posts = popular.__class__.objects.all()
    assert [(p.title, p.period_views) for p in top_posts(posts, 30)] == [("热门", 50), ("冷门", 3)]
    assert [p.pk for p in top_posts(posts, 90)] == [popular.pk, quiet.pk]
    assert top_posts(posts, 365)[0].pk == old.pk


def test_daily_bars_draw_one_bar_per_day_with_a_value():
    days = period_days(30)
    values = [0] * 30
    values[3], values[29] = 4, 17
    svg = daily_bars(Series(days, values), "每日阅读，共 21", "views")
    assert svg.startswith('<svg class="chart views"')
    assert svg.count('<rect class="bar"') == 2
    assert f"<title>{days[29]:%Y-%m-%d}：17</title>" in svg
    assert ">20<" in svg  # the axis' top, rounded up from 17
    assert 'aria-label="每日阅读，共 21"' in svg


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (17, 20), (230, 500)])
def test_nice_ceiling(value, top):
    assert nice_ceiling(value) == top


def site_page(client, days: int = 30):
    return client.get("/admin/stats/", {"days": days})


def test_site_charts_take_the_same_queries_for_one_post_and_many(client):
    editor = staff_in("Editors")
    client.force_login(editor)
    post = PostFactory()
    read(post, 0, 3)
    commented(post, 0)
    site_page(client)
    with CaptureQueriesContext(connection) as one:
        response = site_page(client)
    assert response.status_code == 200
    for index in range(12):
        extra = PostFactory()
        read(extra, index, index + 1)
        commented(extra, index)
    with CaptureQueriesContext(connection) as many:
        response = site_page(client, 365)
    assert len(many) == len(one)
    page = response.content.decode()
    assert page.count('<rect class="bar"') >= 12
    assert page.count('class="rank"') == 10


def test_post_charts_take_the_same_queries_for_a_quiet_and_a_busy_post(client):
    editor = staff_in("Editors")
    client.force_login(editor)
    quiet, busy = PostFactory(), PostFactory()
    client.get(f"/admin/stats/posts/{quiet.pk}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/admin/stats/posts/{quiet.pk}/")
    for index in range(20):
        read(busy, index, 10)
        commented(busy, index)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/admin/stats/posts/{busy.pk}/", {"days": 90})
    assert len(many) == len(one)
    assert response.content.decode().count('<rect class="bar"') == 40


def test_authors_chart_their_own_posts_only(client):
    author = staff_in("Authors")
    mine = PostFactory(title="我的文章", authors=[AuthorFactory(user=author)])
    theirs = PostFactory(title="别人的文章")
    read(mine, 0, 4)
    read(theirs, 0, 400)
    client.force_login(author)
    page = site_page(client).content.decode()
    assert "我的文章：阅读与评论" in page
    assert "共 4" in page
    assert "别人的文章" not in page
    assert client.get(f"/admin/stats/posts/{mine.pk}/").status_code == 200
    assert client.get(f"/admin/stats/posts/{theirs.pk}/").status_code == 404


def test_moderators_and_visitors_get_no_charts(client):
    assert site_page(client).status_code == 302  # to the admin's login
    client.force_login(staff_in("Moderators"))
    assert site_page(client).status_code == 403


def test_unknown_period_falls_back_to_thirty_days(client):
    client.force_login(staff_in("Editors"))
    page = client.get("/admin/stats/", {"days": "9999"}).content.decode()
    assert 'href="?days=30" aria-current="page"' in page


def test_charts_are_linked_from_the_admin_index_and_the_post_form(client):
    author = staff_in("Authors")
    post = PostFactory(authors=[AuthorFactory(user=author)])
    client.force_login(author)
    assert 'href="/admin/stats/"' in client.get("/admin/").content.decode()
    change = client.get(f"/admin/blog/post/{post.pk}/change/").content.decode()
    assert f'href="/admin/stats/posts/{post.pk}/"' in change
