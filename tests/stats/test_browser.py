"""The charts draw in a real browser, on a wide screen and on a phone."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from blog.models import PostDailyViews
from tests.factories import PostFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_charts_draw(live_server, browser, client, width):
    post = PostFactory(title="被读的文章")
    today = timezone.localdate()
    for back in range(30):
        day = today - dt.timedelta(days=back)
        PostDailyViews.objects.create(post=post, day=day, views=back + 1)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    context = browser.new_context(viewport={"width": width, "height": 900})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(live_server.url + "/admin/stats/")
    bars = page.locator("svg.chart.views rect.bar")
    assert bars.count() == 30
    chart = page.locator("svg.chart.views").bounding_box()
    assert chart["width"] > width * 0.6
    assert chart["height"] > 80
    tallest = bars.last.bounding_box()  # today: 1 view; 30 days ago the most
    assert bars.first.bounding_box()["height"] > tallest["height"] * 10
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    share = page.locator(".stats-top svg.share rect.bar").first.bounding_box()
    assert share["width"] > 10
    context.close()
