import pytest
from django.urls import reverse
from django.utils import timezone

from blog.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def test_home_lists_newest_published_first(client):
    old = PostFactory(published_at=timezone.now() - timezone.timedelta(days=3))
    new = PostFactory(published_at=timezone.now() - timezone.timedelta(days=1))
    response = client.get("/")
    assert response.status_code == 200
    assert [card.pk for card in response.context_data["posts"]] == [new.pk, old.pk]
    assert "点击阅读全文..." in response.content.decode()


def test_home_card_shows_meta_line_and_date_badge(client):
    author = AuthorFactory(display_name="苏剑林")
    PostFactory(
        authors=[author],
        published_at=timezone.make_aware(timezone.datetime(2024, 5, 13, 12)),
        view_count=42,
    )
    html = client.get("/").content.decode()
    assert "苏剑林</a> | <time" in html
    assert ">2024-05-13</time> | <span" in html
    assert "42位读者" in html
    assert '<span class="month">May</span>' in html


def test_home_hides_drafts_and_scheduled_posts(client):
    PostFactory(title="草稿", status=Post.Status.DRAFT)
    PostFactory(title="定时", published_at=timezone.now() + timezone.timedelta(hours=1))
    html = client.get("/").content.decode()
    assert "草稿" not in html
    assert "定时" not in html


def test_home_paginates_eight_per_page(client):
    PostFactory.create_batch(9)
    first = client.get("/")
    second = client.get("/page/2/")
    assert len(first.context_data["posts"]) == 8
    assert len(second.context_data["posts"]) == 1
    assert 'href="/page/2/"' in first.content.decode()


@pytest.mark.parametrize("url", ["/page/0/", "/page/-1/", "/page/999999/", "/page/abc/"])
def test_home_bad_pages_are_404(client, url):
    PostFactory()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url", ["/archives/abc", "/archives/99999999999999999999", "/archives/123456789012345678"]
)
def test_post_detail_bad_ids_are_404(client, url):
    assert client.get(url).status_code == 404


def test_post_detail_slash_redirects_permanently(client):
    post = PostFactory()
    response = client.get(f"/archives/{post.pk}/")
    assert response.status_code == 301
    assert response["Location"] == f"/archives/{post.pk}"


def test_post_detail_shows_meta_breadcrumb_and_neighbours(client):
    category = CategoryFactory(name="数学")
    tag = TagFactory(name="流模型")
    authors = [AuthorFactory(display_name="甲"), AuthorFactory(display_name="乙")]
    older = PostFactory(title="较早", published_at=timezone.now() - timezone.timedelta(days=5))
    post = PostFactory(
        title="本文",
        authors=authors,
        categories=[category],
        tags=[tag],
        published_at=timezone.now() - timezone.timedelta(days=3),
    )
    newer = PostFactory(title="较新", published_at=timezone.now() - timezone.timedelta(days=1))
    html = client.get(post.get_absolute_url()).content.decode()
    local = timezone.localtime(post.published_at).strftime("%Y-%m-%d")
    assert f'甲</a>, <a href="{authors[1].get_absolute_url()}">乙</a> | <time' in html
    assert f">{local}</time> | " in html
    assert '位读者</span> | <a class="cite-toggle"' in html
    assert f'› <a href="{category.get_absolute_url()}">数学</a> › <span>本文</span>' in html
    assert f'href="{older.get_absolute_url()}">较早' in html
    assert f'href="{newer.get_absolute_url()}">较新' in html
    assert "流模型" in html


def test_post_detail_drafts_and_scheduled_are_404_for_public(client):
    draft = PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timezone.timedelta(days=1))
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(scheduled.get_absolute_url()).status_code == 404


def test_post_detail_author_previews_own_draft(client):
    author = AuthorFactory()
    draft = PostFactory(status=Post.Status.DRAFT, authors=[author])
    client.force_login(author.user)
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200
    assert "草稿预览" in response.content.decode()


def test_post_detail_other_user_cannot_preview_draft(client):
    draft = PostFactory(status=Post.Status.DRAFT)
    client.force_login(UserFactory())
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_scheduled_post_appears_when_due_without_cron(client, monkeypatch):
    due = timezone.now() + timezone.timedelta(minutes=5)
    post = PostFactory(published_at=due)
    assert client.get(post.get_absolute_url()).status_code == 404
    assert post.title not in client.get("/").content.decode()
    later = due + timezone.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the clock passes the due time
    assert client.get(post.get_absolute_url()).status_code == 200
    assert post.title in client.get("/").content.decode()


def test_post_detail_loads_math_script_only_for_math(client):
    with_math = PostFactory(body="公式 $x^2$")
    without = PostFactory(body="no formulas here")
    assert 'class="arithmatex"' in client.get(with_math.get_absolute_url()).content.decode()
    assert "arithmatex" not in client.get(without.get_absolute_url()).content.decode()


def test_404_page_uses_site_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert 'class="site-header"' in response.content.decode()


def test_preview_renders_comment_profile_for_anyone(client):
    response = client.post(reverse("blog:preview"), {"body": "$x_1$ <script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    assert "arithmatex" in response.content.decode()


def test_preview_of_posts_needs_staff(client):
    assert client.post(reverse("blog:preview"), {"body": "x", "profile": "post"}).status_code == 403


def test_preview_refuses_oversized_input(client):
    response = client.post(reverse("blog:preview"), {"body": "x" * 30_000})
    assert response.status_code == 400


def test_missing_csrf_token_gets_friendly_403():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(reverse("blog:preview"), {"body": "x"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()


def test_a_host_not_allowed_gets_400_in_the_sites_layout(settings):
    from django.test import Client

    settings.ALLOWED_HOSTS = ["blog.example"]
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "evil.example" not in response.content.decode()
