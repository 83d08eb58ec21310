import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from blog.admin import PostAdmin
from blog.models import Category, Post
from tests.factories import AuthorFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_in(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def post_form(**overrides) -> dict:
    data = {
        "title": "新文章",
        "body": "正文 $x$",
        "status": "published",
        "published_at_0": "2024-01-01",
        "published_at_1": "10:00:00",
        "comments_enabled": "on",
        "post_authors-TOTAL_FORMS": "0",
        "post_authors-INITIAL_FORMS": "0",
        "post_authors-MIN_NUM_FORMS": "0",
        "post_authors-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_roles_exist_with_expected_permissions():
    authors = Group.objects.get(name="Authors")
    editors = Group.objects.get(name="Editors")
    assert authors.permissions.filter(codename="add_post").exists()
    assert not authors.permissions.filter(codename="change_any_post").exists()
    assert not authors.permissions.filter(codename="add_category").exists()
    assert editors.permissions.filter(codename="change_any_post").exists()
    assert editors.permissions.filter(codename="add_tag").exists()


def test_author_changes_own_post_but_not_others(client):
    user = staff_in("Authors")
    mine = PostFactory(authors=[AuthorFactory(user=user)])
    theirs = PostFactory()
    client.force_login(user)
    assert client.get(f"/admin/blog/post/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/blog/post/{theirs.pk}/change/").status_code in {302, 403}
    listing = client.get("/admin/blog/post/").content.decode()
    assert mine.title in listing
    assert theirs.title not in listing
    assert client.post(f"/admin/blog/post/{theirs.pk}/delete/", {"post": "yes"}).status_code in {
        302,
        403,
    }
    assert Post.objects.filter(pk=theirs.pk).exists()


def test_author_adds_post_and_becomes_its_author(client):
    user = staff_in("Authors")
    client.force_login(user)
    response = client.post("/admin/blog/post/add/", post_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get(title="新文章")
    assert [a.user for a in post.authors.all()] == [user]
    assert 'class="arithmatex"' in post.body_html


def test_author_cannot_manage_categories(client):
    client.force_login(staff_in("Authors"))
    assert client.post("/admin/blog/category/add/", {"name": "x", "slug": "x"}).status_code == 403
    assert not Category.objects.exists()


def test_editor_changes_any_post_and_categories(client):
    client.force_login(staff_in("Editors"))
    post = PostFactory()
    assert client.get(f"/admin/blog/post/{post.pk}/change/").status_code == 200
    data = {"name": "数学", "slug": "数学", "order": 0}
    response = client.post("/admin/blog/category/add/", data)
    assert response.status_code == 302
    assert Category.objects.filter(slug="数学").exists()


def test_admin_list_shows_views_and_state(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    PostFactory(title="定时文章", published_at=timezone.now() + timezone.timedelta(days=1))
    html = client.get("/admin/blog/post/").content.decode()
    assert "定时发布" in html
    assert "阅读数" in html


def test_admin_lists_and_sorts_posts_by_reads(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for title, views in [("少读", 3), ("没人读", None), ("多读", 1200)]:
        PostFactory(title=title, view_count=views)
    column = PostAdmin.list_display.index("view_count") + 1
    for order, expected in [
        (f"-{column}", ["多读", "少读", "没人读"]),
        (column, ["没人读", "少读", "多读"]),
    ]:
        html = client.get(f"/admin/blog/post/?o={order}").content.decode()
        assert [t for t in expected if t in html] == expected
        assert sorted(expected, key=html.index) == expected
    for views in ("1200", "3", "0"):
        assert f'<td class="field-view_count">{views}</td>' in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"published_at_0": "2024-02-30"}, "有效"),
        ({"title": ""}, "必填"),
    ],
)
def test_admin_refuses_bad_input_with_message(client, overrides, message):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post("/admin/blog/post/add/", post_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    "body",
    ["$" * 7 + "x", "\\begin{equation} x", "<div><span><b>unclosed", "中" * 1_000_000],
)
def test_admin_saves_hostile_bodies_and_page_still_renders(client, body):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post("/admin/blog/post/add/", post_form(body=body))
    assert response.status_code == 302
    post = Post.objects.get()
    assert client.get(post.get_absolute_url()).status_code == 200
