import re
from datetime import timedelta

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db


def nav_links(client) -> list[str]:
    header = client.get("/").content.decode().split("<nav", 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', header)


def test_navigation_shows_only_categories_with_a_published_post(client):
    shown = CategoryFactory(slug="shown")
    drafted = CategoryFactory(slug="drafted")
    scheduled = CategoryFactory(slug="scheduled")
    CategoryFactory(slug="empty")
    PostFactory(categories=[shown, drafted])
    PostFactory(categories=[drafted], status=Post.Status.DRAFT)
    PostFactory(categories=[scheduled], published_at=timezone.now() + timedelta(days=1))

    links = nav_links(client)

    assert shown.get_absolute_url() in links
    assert drafted.get_absolute_url() in links  # it has a published post too
    assert scheduled.get_absolute_url() not in links
    assert "/category/empty" not in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_navigation_drops_a_category_whose_only_post_goes_back_to_draft(client):
    category = CategoryFactory(slug="once")
    post = PostFactory(categories=[category])
    assert category.get_absolute_url() in nav_links(client)
    post.status = Post.Status.DRAFT
    post.save()
    assert category.get_absolute_url() not in nav_links(client)
