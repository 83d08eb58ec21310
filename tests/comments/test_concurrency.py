"""Comment trees stay valid under concurrent writes (PostgreSQL, pytest-django's live server)."""

import http.client
import json
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.management import call_command

from blog.models import Post
from comments.models import Comment
from tests.factories import CommentFactory, PostFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COMMENTS = 300
THREADS = 16
EMAIL = "known@example.com"


class Visitor:
    """One browser: its own CSRF cookie, the form tokens it was shown, its own connection."""

    def __init__(self, base_url: str) -> None:
        address = urlsplit(base_url)
        self.host, self.port = address.hostname, address.port
        self.cookie = ""
        self.forms: dict[int, tuple[str, str]] = {}

    def request(self, method: str, path: str, body: str = "") -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Cookie": self.cookie}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.text = response.read().decode()
        conn.close()
        return response

    def open_form(self, post_id: int) -> None:
        response = self.request("GET", f"/archives/{post_id}")
        assert response.status == 200
        # As the form's script asks for its tokens.
        response = self.request("GET", f"/archives/{post_id}/comment-tokens")
        assert response.status == 200
        cookie = response.getheader("Set-Cookie") or self.cookie
        self.cookie = re.search(r"csrftoken=[^;]+", cookie).group(0)
        tokens = json.loads(response.text)
        self.forms[post_id] = (tokens["csrf"], tokens["token"])

    def comment(self, post_id: int, parent_id: int | None, body: str) -> int:
        csrf, token = self.forms[post_id]
        data = {
            "csrfmiddlewaretoken": csrf,
            "token": token,
            "author_name": "并发读者",
            "author_email": EMAIL,
            "body": body,
            "reply_to": parent_id or "",
        }
        response = self.request("POST", f"/archives/{post_id}/comment", urlencode(data))
        assert response.status == 302, response.text[:500]
        return int(re.search(r"#comment-(\d+)$", response.getheader("Location")).group(1))


def tree_rows() -> list[tuple]:
    return list(
        Comment.objects.order_by("pk").values_list(
            "pk", "tree_id", "lft", "rght", "level", "parent_id"
        )
    )


def test_concurrent_comments_keep_every_tree_valid(postgres, live_server, quick_forms):
    posts = PostFactory.create_batch(3)
    # One approved comment per post: replies need approved targets, and EMAIL becomes "known".
    seeds = [CommentFactory(post=post, author_email=EMAIL) for post in posts]
    known = {seed.pk: (seed.post_id, seed.level) for seed in seeds}
    lock = threading.Lock()
    visitors = [Visitor(live_server.url) for _ in range(THREADS)]
    for visitor in visitors:
        for post in posts:
            visitor.open_form(post.pk)

    def write(number: int) -> int:
        rng = random.Random(number)
        visitor = visitors[number % THREADS]
        with lock:
            parent = rng.choice(sorted(known)) if rng.random() < 0.65 else None
        if parent is None:
            post_id, level = rng.choice(posts).pk, -1
        else:
            post_id, level = known[parent]
            if level >= 8:
                parent, level = None, -1
        pk = visitor.comment(post_id, parent, f"第 {number} 条 $x_{{{number}}}$")
        with lock:
            known[pk] = (post_id, level + 1)
        return pk

    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(write, range(COMMENTS)))

    assert len(set(created)) == COMMENTS
    assert Comment.objects.count() == COMMENTS + len(seeds)
    assert not Comment.objects.exclude(status=Comment.Status.APPROVED).exists()
    assert Comment.objects.filter(level__gt=0).count() > COMMENTS // 2
    roots = list(Comment.objects.filter(parent=None).values_list("tree_id", flat=True))
    assert len(roots) == len(set(roots))
    call_command("check_comment_trees")
    before = tree_rows()
    Comment.objects.rebuild()
    assert tree_rows() == before
    for post in Post.objects.all():
        assert post.comment_count == Comment.objects.filter(post=post).count()
