import contextlib
import gzip
import pickle
import random
import re
import zlib

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.caching import gzip_holes, holes, local, pages, release, values, version
from blog.models import ContentVersion, Post, PostViews
from tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def test_content_version_is_stable_while_nothing_changes(django_assert_num_queries):
    PostFactory()
    token = version.content_version()
    with django_assert_num_queries(0):
        assert version.content_version() == token


def test_content_version_changes_with_posts_and_tags():
    post = PostFactory()
    versions = [version.content_version()]
    post.title = "新标题"
    post.save()
    versions.append(version.content_version())
    post.tags.add(TagFactory())
    versions.append(version.content_version())
    tag = post.tags.get()
    tag.name = "改名"
    tag.save()
    versions.append(version.content_version())
    post.delete()
    versions.append(version.content_version())
    assert len(set(versions)) == len(versions)


def stored_version() -> str:
    return ContentVersion.objects.get(scope=version.SITE).token


def site_version() -> str:
    return version.content_version([version.SITE])


def test_a_write_starts_the_shared_version_when_it_commits(django_capture_on_commit_callbacks):
    version.content_version()
    before = stored_version()
    with django_capture_on_commit_callbacks(execute=True):
        PostFactory()
        during = site_version()
        assert during != before  # what this transaction caches is kept apart …
        assert stored_version() == before  # … and other readers keep the token until the commit
    assert stored_version() not in {before, during}


def test_a_write_rolled_back_leaves_the_version():
    version.content_version()
    before = stored_version()
    with contextlib.suppress(RuntimeError), transaction.atomic():
        PostFactory()
        assert site_version() != before
        raise RuntimeError("rolled back")
    assert site_version() == before == stored_version()


def test_a_failure_to_store_the_token_after_the_commit_is_only_logged(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def failing(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(version, "renew", failing)
    with django_capture_on_commit_callbacks(execute=True):
        PostFactory(title="已提交")
    assert Post.objects.get().title == "已提交"
    assert "connection lost" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_version_is_read_once_per_request(client, django_assert_num_queries):
    PostFactory(title="第一篇")
    client.get("/content.html")
    with django_assert_num_queries(1):  # the token; the page itself comes from this process
        client.get("/content.html")


def test_content_version_changes_when_a_scheduled_post_comes_due(monkeypatch):
    now = timezone.now()
    PostFactory(published_at=now + timezone.timedelta(hours=1))
    before = version.content_version()
    monkeypatch.setattr(timezone, "now", lambda: now + timezone.timedelta(minutes=5))
    assert version.content_version() == before  # neither due nor expired (10 minutes)
    monkeypatch.setattr(timezone, "now", lambda: now + timezone.timedelta(hours=2))
    assert version.content_version() != before


def test_bulk_updates_keep_the_version_until_it_expires():
    post = PostFactory()
    before = version.content_version()
    Post.objects.filter(pk=post.pk).update(comment_count=3)
    assert version.content_version() == before


def test_cached_values_are_copied_into_the_process(monkeypatch):
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert values.cached("probe", compute) == 1
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)  # the shared copy is gone
    assert values.cached("probe", compute) == 1
    monkeypatch.undo()
    PostFactory()  # a new content version
    assert values.cached("probe", compute) == 2


def test_cached_values_follow_the_version():
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert values.cached("probe", compute, "a") == 1
    assert values.cached("probe", compute, "a") == 1
    assert values.cached("probe", compute, "b") == 2
    PostFactory()
    assert values.cached("probe", compute, "a") == 3


# --- Page cache ----------------------------------------------------------------------------------


def test_page_cache_serves_anonymous_visitors_in_one_query(client, django_assert_num_queries):
    PostFactory(title="第一篇", tags=[TagFactory(name="概率")])
    first = client.get("/tag/概率/")
    with django_assert_num_queries(1):  # the live reader counts
        second = client.get("/tag/概率/")
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_page_cache_says_whether_it_served_a_page(client, settings):
    PostFactory(title="第一篇")
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert client.get("/")["X-Page-Cache"] == "hit"
    pages._local_copies.values.clear()  # another app server: from the shared cache
    assert client.get("/")["X-Page-Cache"] == "hit"
    client.cookies[settings.SESSION_COOKIE_NAME] = "none"  # a signed-in reader's …
    assert client.get("/")["X-Page-Cache"] == "hit"  # … listing is everyone's
    client.post("/", {})
    assert "X-Page-Cache" not in client.post("/", {})  # not a page the cache holds


def test_cached_pages_show_live_reader_counts(client):
    post = PostFactory(tags=[TagFactory(name="概率")], view_count=5)
    for url in ("/", "/tag/概率/"):
        assert "5位读者" in client.get(url).content.decode()
    PostViews.objects.filter(pk=post.pk).update(views=77)  # as counting does: no new version
    for url in ("/", "/tag/概率/"):
        html = client.get(url).content.decode()
        assert "77位读者" in html
        assert "\x00" not in html


def test_cached_article_costs_only_the_counted_read(client, django_assert_num_queries):
    post = PostFactory(view_count=9)
    read = lambda: Client().get(post.get_absolute_url(), HTTP_USER_AGENT=BROWSER)  # noqa: E731
    assert "10位读者" in read().content.decode()
    # SQLite: savepoint, the total's upsert RETURNING the new count, the day's upsert, release;
    # PostgreSQL: one statement doing both
    with django_assert_num_queries(4 if connection.vendor == "sqlite" else 1):
        response = read()
    assert "11位读者" in response.content.decode()
    assert Post.objects.with_views().get(pk=post.pk).view_count == 11


def test_holes_need_known_markers():
    assert holes.split_holes("a\x00views:1\x00b") == ["a", "views:1", "b"]
    assert holes.split_holes("plain") == ["plain"]
    assert holes.split_holes("a\x00b") is None
    assert holes.split_holes("a\x00unknown:1\x00b") is None


def test_a_stray_nul_in_content_is_served_uncached(client, settings):
    PostFactory(title="第一篇", tags=[TagFactory(name="概率")])
    settings.SPACES_TAGLINE = "a\x00b"  # no marker of ours
    client.get("/tag/概率/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/tag/概率/")
    assert response.status_code == 200
    assert "a\x00b" in response.content.decode()  # shown as it is, with the counts filled in
    assert "\x00views" not in response.content.decode()
    assert any("blog_post" in query["sql"] for query in captured)  # rendered again: not cached


def test_large_cached_pages_are_sent_compressed_to_browsers_that_take_it(client, monkeypatch):
    monkeypatch.setattr(pages, "GZIP_MIN_BYTES", 0)
    PostFactory(title="第一篇")
    plain = client.get("/content.html")
    compressed = client.get("/content.html", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert "Accept-Encoding" in compressed["Vary"]
    again = client.get("/content.html", HTTP_ACCEPT_ENCODING="identity")
    assert not again.has_header("Content-Encoding")
    assert again.content == plain.content


def cached_page(html: str) -> pages.CachedPage:
    response = HttpResponse(html, headers={"Last-Modified": "Sat, 21 Nov 2026 08:00:00 GMT"})
    parts = holes.split_holes(html)
    return pages.CachedPage.of(response, parts)


@pytest.mark.parametrize(
    "html",
    [
        "<p>短</p>\x00views:3\x00<p>页</p>",  # holes, too small to compress
        "<p>长文 $x^2$</p>" * 400 + "\x00views:7\x00" + "<p>尾</p>" * 300 + "\x00views:3\x00",
        "<p>没有洞</p>",
        "<p>没有洞，很长</p>" * 500,
    ],
)
def test_cached_pages_pickle_compressed_and_load_whole(html):
    page = cached_page(html)
    pickled = pickle.dumps(page, pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(pickled) == page
    if len(html.encode()) > pages.GZIP_MIN_BYTES:  # the shared cache holds it compressed
        assert len(pickled) < len(html.encode()) / 4


def test_local_copies_stay_within_their_budget():
    copies = local.LocalCopies(250, pages.CachedPage.size)
    page = pages.CachedPage({}, content=b"x" * 100)
    assert copies.get_many("v1", ["a"]) == {}
    for key in "abc":
        copies.keep("v1", {key: page})
    assert list(copies.values) == ["b", "c"]
    assert copies.used == 200
    copies.keep("v1", {"huge": pages.CachedPage({}, content=b"x" * 300)})
    assert "huge" not in copies.values


def test_gzip_around_holes_is_one_valid_stream():
    texts = ("<p>开头</p>" * 500, "", "<p>结尾</p>")
    values = ["<b>42</b>", "x" * 70_000, ""]
    parts = tuple(gzip_holes.compress_part(text.encode()) for text in texts)
    encoded = [value.encode() for value in values]
    body = gzip_holes.gzip_with_holes(parts, encoded, [None] * len(values))
    expected = texts[0] + values[0] + texts[1] + values[1] + texts[2]
    assert gzip.decompress(body).decode() == expected  # its CRC-32 and length checked too
    texts_size = sum(len(text.encode()) for text in texts)
    assert len(body) < len(values[1]) + texts_size // 10  # the texts are compressed, holes not
    # A fragment that holds nothing of the reader's goes compressed too
    public = [None, gzip_holes.deflate_part(encoded[1]), None]
    body = gzip_holes.gzip_with_holes(parts, encoded, public)
    assert gzip.decompress(body).decode() == expected
    assert len(body) < (len(values[1]) + texts_size) // 10


@pytest.mark.parametrize("size", [0, 1, 7, 4096, 100_003])
def test_a_parts_crc_is_carried_past_it_without_reading_it(size):
    text = bytes(random.Random(size).randrange(256) for _ in range(size))
    part = gzip_holes.compress_part(text)
    for before in (0, 1, 0xDEADBEEF, 0xFFFFFFFF):
        assert gzip_holes.carried(part.shift, before) ^ part.crc == zlib.crc32(text, before)


def test_articles_are_compressed_around_their_tokens(monkeypatch):
    monkeypatch.setattr(pages, "GZIP_MIN_BYTES", 0)
    post = PostFactory(view_count=6)
    readers = [Client(HTTP_ACCEPT_ENCODING="gzip, deflate, br") for _ in range(2)]
    readers[0].get(post.get_absolute_url())  # rendered for the cache
    response = readers[1].get(post.get_absolute_url(), HTTP_USER_AGENT=BROWSER)
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert "7位读者" in html
    assert "csrftoken" not in response.cookies  # cached pages hand out no CSRF token
    assert 'name="csrfmiddlewaretoken" value=""' in html  # nor a form token: the script asks
    assert re.search(r'<input type="hidden" name="token" id="id_token">', html)
    # The holes travel uncompressed: the live count is in the raw bytes as it is.
    assert "7位读者".encode() in response.content
    plain = Client().get(post.get_absolute_url())
    assert not plain.has_header("Content-Encoding")
    assert "post-body" in plain.content.decode()


@pytest.mark.django_db(transaction=True)
def test_pages_are_copied_into_the_process_and_checked_per_request(
    client, monkeypatch, django_assert_num_queries
):
    PostFactory(title="第一篇")
    first = client.get("/content.html")
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)  # the shared copy is gone
    with django_assert_num_queries(1):  # the content version
        assert client.get("/content.html").content == first.content
    monkeypatch.undo()
    ContentVersion.objects.update(token="from-another-server")  # a write on another server …
    Post.objects.update(title="第二篇")  # … that sent no signal here
    assert "第二篇" in client.get("/content.html").content.decode()


def test_page_cache_can_be_switched_off(client, settings):
    settings.SPACES_PAGE_CACHE = False
    PostFactory(title="第一篇", tags=[TagFactory(name="概率")])
    client.get("/tag/概率/")
    Post.objects.update(title="第二篇")  # sends no signal: only a page rendered again shows it
    assert "第二篇" in client.get("/tag/概率/").content.decode()


def test_a_new_release_renders_pages_again(client, monkeypatch):
    PostFactory(title="第一篇", tags=[TagFactory(name="概率")])
    client.get("/tag/概率/")
    monkeypatch.setattr(pages, "release", lambda: "next-release")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/tag/概率/").status_code == 200
    assert len(captured) > 3  # rendered again, though the content version is the same


def test_the_release_fingerprint_follows_templates(settings, tmp_path):
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    page.write_text("one")
    settings.BASE_DIR, settings.LOCALE_PATHS = tmp_path, []
    release.release.cache_clear()
    try:
        first = release.release()
        page.write_text("two")
        release.release.cache_clear()
        assert release.release() != first
    finally:
        release.release.cache_clear()


def test_page_cache_refreshes_when_content_changes(client):
    tag = TagFactory(name="概率")
    PostFactory(title="第一篇", tags=[tag])
    client.get("/tag/概率/")
    PostFactory(title="第二篇", tags=[tag])
    assert "第二篇" in client.get("/tag/概率/").content.decode()


def test_page_cache_keys_on_the_query_string(client):
    PostFactory(tags=[TagFactory(name="甲")], title="甲文")
    PostFactory(tags=[TagFactory(name="乙")], title="乙文")
    assert "乙文" in client.get("/content.html", {"tag": "乙"}).content.decode().split("<aside")[0]
    main = client.get("/content.html", {"tag": "甲"}).content.decode().split("<aside")[0]
    assert "甲文" in main
    assert "乙文" not in main


def test_a_draft_is_rendered_for_its_signed_in_author_and_never_stored(client):
    author = AuthorFactory()
    post = PostFactory(title="草稿", status=Post.Status.DRAFT, authors=[author])
    assert Client().get(post.get_absolute_url()).status_code == 404
    client.force_login(author.user)
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert "X-Page-Cache" not in response  # rendered for them: the cache holds no such page
    assert Client().get(post.get_absolute_url()).status_code == 404


def test_page_cache_keeps_feed_headers(client):
    PostFactory()
    first = client.get("/feed")
    second = client.get("/feed")
    assert second["Content-Type"] == first["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert second["Last-Modified"] == first["Last-Modified"]


def test_page_cache_does_not_keep_errors(client):
    post, tag = PostFactory(), TagFactory(name="以后才有")
    assert client.get("/tag/以后才有/").status_code == 404
    Post.tags.through.objects.create(post=post, tag=tag)  # no signal, no new content version
    assert client.get("/tag/以后才有/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_write_on_another_server_shows_here_at_once():
    PostFactory()
    before = version.content_version()
    ContentVersion.objects.update(token="from-another-server")  # its content_changed() committed
    assert site_version() == "from-another-server" != before


class DownCache:
    def __getattr__(self, name: str):
        raise ConnectionError("cache down")


def test_writes_do_not_need_the_cache(monkeypatch):
    monkeypatch.setattr(values, "cache", DownCache())
    post = PostFactory(title="写入")
    post.title = "仍然写入"
    post.save()
    assert Post.objects.get().title == "仍然写入"


def test_a_cached_article_carries_its_public_fragments_compressed(client):
    tags = [TagFactory(name=f"标签{n}") for n in range(25)]
    for n in range(12):
        PostFactory(title=f"第{n}篇", tags=tags)
    post = Post.objects.first()
    client.get(post.get_absolute_url(), HTTP_USER_AGENT=BROWSER)  # stored
    plain = client.get(post.get_absolute_url(), HTTP_USER_AGENT=BROWSER).content
    response = client.get(
        post.get_absolute_url(), HTTP_USER_AGENT=BROWSER, HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response["X-Page-Cache"] == "hit"
    assert response["Content-Encoding"] == "gzip"
    unpacked = gzip.decompress(response.content)
    drawn = re.compile(rb'<section class="widget random-posts">.*?</section>', re.S)
    assert drawn.sub(b"", unpacked) == drawn.sub(b"", plain)
    assert len(response.content) * 3 < len(plain)  # stored, the fragments would make it 57 %
