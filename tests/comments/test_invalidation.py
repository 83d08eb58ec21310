"""A change renews what shows it, not every page: comments renew their post's pages and the
sidebar fragment, a post's own text its pages and the listings, anything else every page; on
every app server at its next request, and never for a write that rolled back."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from comments import services
from comments.models import Comment
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)  # changes reach other readers on commit

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
HEADERS = {"HTTP_USER_AGENT": BROWSER}


def served(client, url: str) -> tuple[str, str]:
    """How the page cache served `url` (hit or miss), and the page."""
    response = client.get(url, **HEADERS)
    assert response.status_code == 200
    return response["X-Page-Cache"], response.content.decode()


def sidebar(page: str) -> str:
    return page.split('<aside class="sidebar">')[1]


@pytest.fixture
def two_posts(client):
    """Two published articles, each served once, so that both are in the page cache."""
    first, second = PostFactory(title="甲文"), PostFactory(title="乙文")
    for post in (first, second):
        served(client, post.get_absolute_url())
        assert served(client, post.get_absolute_url())[0] == "hit"
    return first, second


def test_a_comment_renews_its_article_and_the_sidebar_not_other_articles(client, two_posts):
    first, second = two_posts
    CommentFactory(post=first, body="一条新评论 $e^{i\\pi}$", author_name="新读者")
    how, page = served(client, second.get_absolute_url())
    assert how == "hit"  # the other article stays cached …
    assert "新读者" in sidebar(page)  # … and its sidebar shows the comment at once
    how, page = served(client, first.get_absolute_url())
    assert how == "miss"
    assert "一条新评论" in page.split('<aside class="sidebar">')[0]  # in its threads


def test_approving_a_held_comment_renews_its_article(client, two_posts):
    first, second = two_posts
    held = CommentFactory(post=first, status=Comment.Status.PENDING, author_name="待审读者")
    assert served(client, first.get_absolute_url())[0] == "hit"  # a pending comment shows nowhere
    services.set_status([held.pk], Comment.Status.APPROVED)
    how, page = served(client, first.get_absolute_url())
    assert how == "miss"
    assert "待审读者" in page
    how, page = served(client, second.get_absolute_url())
    assert how == "hit"
    assert "待审读者" in sidebar(page)


def test_an_approval_rolled_back_leaves_no_trace(client, two_posts):
    first, second = two_posts
    held = CommentFactory(post=first, status=Comment.Status.PENDING, author_name="回滚读者")
    with contextlib.suppress(RuntimeError), transaction.atomic():
        services.set_status([held.pk], Comment.Status.APPROVED)
        raise RuntimeError("rolled back")
    for post in (first, second):
        how, page = served(client, post.get_absolute_url())
        assert how == "hit"
        assert "回滚读者" not in page


def test_editing_a_posts_text_renews_its_article_and_listings_only(client, two_posts):
    first, second = two_posts
    served(client, "/")
    first.body = "改过的正文。"
    first.save()
    how, page = served(client, first.get_absolute_url())
    assert how == "miss"
    assert "改过的正文" in page
    assert served(client, "/")[0] == "miss"  # listings show excerpts
    assert served(client, second.get_absolute_url())[0] == "hit"


def test_renaming_a_post_renews_every_page(client, two_posts):
    first, second = two_posts
    first.title = "甲文新题"
    first.save()
    assert (
        served(client, second.get_absolute_url())[0] == "miss"
    )  # its sidebar or links may show it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def other_server(postgres, settings):
    """A second app server in its own process on the test database, sharing this process's
    cache (the database table): what runs when the site grows past one machine."""
    settings.CACHES = {
        "default": {"BACKEND": "blog.cache.DatabaseCache", "LOCATION": "spaces_cache"}
    }
    database = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": "",
        "SPACES_VIEW_JOURNAL": "off",  # as this process's settings (tests/conftest.py)
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):  # up to 20 s for the process to start
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            time.sleep(0.1)  # polling a starting process: no setting or clock can stand in
        else:
            pytest.fail("the second app server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def fetch(base: str, path: str) -> tuple[str, str]:
    request = urllib.request.Request(f"{base}{path}", headers={"User-Agent": BROWSER})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Page-Cache"], response.read().decode()


def test_two_app_servers_agree_at_their_next_request(client, other_server):
    first, second = PostFactory(title="甲文"), PostFactory(title="乙文")
    for post in (first, second):
        fetch(other_server, post.get_absolute_url())
        served(client, post.get_absolute_url())
        assert fetch(other_server, post.get_absolute_url())[0] == "hit"
        assert served(client, post.get_absolute_url())[0] == "hit"
    CommentFactory(post=first, author_name="两台都见")  # written here, committed
    for how, page in (
        fetch(other_server, second.get_absolute_url()),
        served(client, second.get_absolute_url()),
    ):
        assert how == "hit"
        assert "两台都见" in sidebar(page)
    there, here = (
        fetch(other_server, first.get_absolute_url()),
        served(client, first.get_absolute_url()),
    )
    for how, page in (there, here):
        assert how == "miss"
        assert "两台都见" in page.split('<aside class="sidebar">')[0]  # in its threads
