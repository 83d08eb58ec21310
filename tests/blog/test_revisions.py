import datetime
import json
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from blog.models import Post, PostAutosave, PostRevision
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_in(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def writer_without_publishing():
    """A staff user who may write and edit posts but not publish them (like a contributor)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_post", "change_post", "view_post"])
    )
    return user


def form_data(post: Post | None = None, **overrides) -> dict:
    data = {
        "title": post.title if post else "新文章",
        "body": post.body if post else "正文 $x$",
        "publication": "draft",
        "published_at_0": "2024-01-01",
        "published_at_1": "10:00:00",
        "comments_enabled": "on",
        "edit_base": post.updated_at.isoformat() if post else "",
        "post_authors-TOTAL_FORMS": "0",
        "post_authors-INITIAL_FORMS": "0",
        "post_authors-MIN_NUM_FORMS": "0",
        "post_authors-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def change_url(post: Post) -> str:
    return f"/admin/blog/post/{post.pk}/change/"


@pytest.fixture
def editor(client):
    user = staff_in("Editors")
    client.force_login(user)
    return user


def test_admin_save_keeps_revision_with_final_tags_and_bylines(client):
    editor = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(editor)
    tag, category, author = TagFactory(name="数论"), CategoryFactory(name="数学"), AuthorFactory()
    data = form_data(tags=[tag.pk], categories=[category.pk])
    data |= {
        "post_authors-TOTAL_FORMS": "1",
        "post_authors-0-author": author.pk,
        "post_authors-0-order": "0",
    }
    assert client.post("/admin/blog/post/add/", data).status_code == 302
    revision = PostRevision.objects.get()
    assert revision.user == editor
    assert revision.tags == [[tag.pk, "数论"]]
    assert revision.categories == [[category.pk, "数学"]]
    assert revision.bylines == [[author.pk, author.display_name]]
    assert revision.body == "正文 $x$"


def test_first_edit_of_an_old_post_keeps_its_earlier_state(client, editor):
    post = PostFactory(title="旧标题", body="旧正文")
    response = client.post(change_url(post), form_data(post, title="新标题", publication="publish"))
    assert response.status_code == 302
    assert [r.title for r in post.revisions.all()] == ["新标题", "旧标题"]


def test_unchanged_save_adds_no_revision(client, editor):
    post = PostFactory()
    client.post(change_url(post), form_data(post, publication="publish"))
    post.refresh_from_db()
    client.post(change_url(post), form_data(post, publication="publish"))
    assert post.revisions.count() == 2  # the baseline and the first save


def test_revision_list_and_escaped_diff(client, editor):
    post = PostFactory(body="第一行\n<script>alert(1)</script>\n末行")
    client.post(
        change_url(post), form_data(post, body="第一行\n改过的行\n末行", publication="publish")
    )
    old = post.revisions.order_by("created_at", "id").first()
    listing = client.get(f"/admin/blog/post/{post.pk}/revisions/")
    assert listing.status_code == 200
    assert f"/admin/blog/post/{post.pk}/revisions/{old.pk}/" in listing.content.decode()
    page = client.get(f"/admin/blog/post/{post.pk}/revisions/{old.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "改过的行" in page


def test_restore_puts_text_and_tags_back_as_a_new_revision(client, editor):
    old_tag = TagFactory()
    post = PostFactory(title="第一版", body="甲", tags=[old_tag])
    client.post(change_url(post), form_data(post, title="第二版", body="乙", publication="publish"))
    first = post.revisions.get(title="第一版")
    post.refresh_from_db()
    assert list(post.tags.all()) == []
    response = client.post(f"/admin/blog/post/{post.pk}/revisions/{first.pk}/restore/")
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.title, post.body, list(post.tags.all())) == ("第一版", "甲", [old_tag])
    assert post.status == Post.Status.PUBLISHED
    latest = post.revisions.first()
    assert latest.title == "第一版"
    assert "恢复" in latest.note
    assert post.revisions.count() == 3


def test_restore_needs_post_and_permission(client):
    post = PostFactory(title="别人的")
    revision = PostRevision.objects.create(
        post=post,
        title="改",
        body="x",
        format="markdown",
        status="draft",
        published_at=post.published_at,
    )
    url = f"/admin/blog/post/{post.pk}/revisions/{revision.pk}/restore/"
    client.force_login(staff_in("Authors"))
    assert client.post(url).status_code in {403, 404}
    assert client.get(f"/admin/blog/post/{post.pk}/revisions/").status_code in {403, 404}
    post.refresh_from_db()
    assert post.title == "别人的"


def test_history_of_a_deleted_post_is_404(client, editor):
    post = PostFactory()
    pk = post.pk
    post.delete()
    assert client.get(f"/admin/blog/post/{pk}/revisions/").status_code == 404
    assert client.post(f"/admin/blog/post/{pk}/revisions/1/restore/").status_code == 404


def test_stale_form_is_refused_with_a_diff_and_nothing_overwritten(client, editor):
    post = PostFactory(body="原文")
    stale = form_data(post, body="我的改动", publication="publish")
    other = UserFactory(is_staff=True, is_superuser=True, username="second")
    client.force_login(other)
    assert (
        client.post(
            change_url(post), form_data(post, body="他的改动", publication="publish")
        ).status_code
        == 302
    )
    client.force_login(editor)
    response = client.post(change_url(post), stale)
    assert response.status_code == 200
    page = response.content.decode()
    assert "保存被拒绝" in page
    assert "second" in page
    diff = page[page.index('class="diff"') :]
    assert '<span class="diff_chg">他</span>的改动' in diff
    assert "我的改动" in page  # the editor's own text, still in the form
    post.refresh_from_db()
    assert post.body == "他的改动"
    # The form comes back with the newer base: saving again on purpose overwrites.
    base = re.search(r'name="edit_base" value="([^"]+)"', page)[1]
    assert base == post.updated_at.isoformat()
    assert client.post(change_url(post), stale | {"edit_base": base}).status_code == 302
    post.refresh_from_db()
    assert post.body == "我的改动"


def test_change_form_of_a_deleted_post_says_so(client, editor):
    post = PostFactory()
    data = form_data(post)
    post.delete()
    response = client.post(change_url(post), data, follow=True)
    assert "不存在" in response.content.decode() or "doesn’t exist" in response.content.decode()
    assert not Post.objects.exists()


def test_autosave_keeps_text_aside_and_is_offered_after_reload(client, editor):
    post = PostFactory(body="已发布的正文", authors=[AuthorFactory(user=editor)])
    response = client.post(
        f"/admin/blog/post/{post.pk}/autosave/", {"title": post.title, "body": "未保存的草稿"}
    )
    assert response.status_code == 200
    assert "saved_at" in response.json()
    post.refresh_from_db()
    assert post.body == "已发布的正文"
    page = client.get(change_url(post)).content.decode()
    assert "恢复自动保存的内容" in page
    data = re.search(r"id=\"spaces-autosave-data\" type=\"application/json\">(.*?)<", page)
    assert json.loads(data[1])["body"] == "未保存的草稿"
    # Saving the post drops the autosave: it is no longer newer than what is saved.
    client.post(change_url(post), form_data(post, body="保存了", publication="publish"))
    assert not PostAutosave.objects.exists()
    assert "恢复自动保存的内容" not in client.get(change_url(post)).content.decode()


def test_autosave_older_than_the_post_is_not_offered(client, editor):
    post = PostFactory()
    PostAutosave.objects.create(
        post=post,
        user=editor,
        title="t",
        body="旧",
        saved_at=post.updated_at - datetime.timedelta(1),
    )
    assert "恢复自动保存的内容" not in client.get(change_url(post)).content.decode()


def test_autosave_of_a_new_post_is_per_user(client, editor):
    assert (
        client.post("/admin/blog/post/add/autosave/", {"title": "新", "body": "一"}).status_code
        == 200
    )
    assert (
        client.post("/admin/blog/post/add/autosave/", {"title": "新", "body": "二"}).status_code
        == 200
    )
    autosave = PostAutosave.objects.get()
    assert (autosave.post, autosave.user, autosave.body) == (None, editor, "二")
    assert "恢复自动保存的内容" in client.get("/admin/blog/post/add/").content.decode()
    other = staff_in("Editors")
    client.force_login(other)
    assert "恢复自动保存的内容" not in client.get("/admin/blog/post/add/").content.decode()
    client.force_login(editor)
    assert client.post("/admin/blog/post/add/", form_data()).status_code == 302
    assert not PostAutosave.objects.exists()


def test_autosave_bad_input(client):
    author = staff_in("Authors")
    theirs = PostFactory(body="别人的")
    mine = PostFactory(authors=[AuthorFactory(user=author)])
    client.force_login(author)
    refused = client.post(f"/admin/blog/post/{theirs.pk}/autosave/", {"title": "x", "body": "y"})
    assert refused.status_code in {403, 404}
    assert refused.json()["error"]
    gone = client.post("/admin/blog/post/999999/autosave/", {"title": "x", "body": "y"})
    assert gone.status_code == 404
    assert "删除" in gone.json()["error"]
    too_long = client.post(
        f"/admin/blog/post/{mine.pk}/autosave/", {"title": "长" * 201, "body": "y"}
    )
    assert too_long.status_code == 400
    assert client.get(f"/admin/blog/post/{mine.pk}/autosave/").status_code == 405
    assert not PostAutosave.objects.exists()


def test_another_users_autosave_is_neither_offered_nor_discarded(client, editor):
    post = PostFactory()
    other = staff_in("Editors")
    PostAutosave.objects.create(post=post, user=other, title="t", body="他的自动保存")
    page = client.get(change_url(post)).content.decode()
    assert "他的自动保存" not in page
    client.post(f"/admin/blog/post/{post.pk}/autosave/", {"discard": "1"})
    assert PostAutosave.objects.filter(user=other).exists()


def test_publish_control_schedules_in_the_future_only(client, editor):
    post = PostFactory(status=Post.Status.DRAFT)
    past = form_data(post, publication="schedule", published_at_0="2020-01-01")
    response = client.post(change_url(post), past)
    assert response.status_code == 200
    assert "必须在将来" in response.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    future = timezone.localtime() + datetime.timedelta(days=3)
    client.post(
        change_url(post),
        form_data(post, publication="schedule", published_at_0=f"{future:%Y-%m-%d}"),
    )
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert not post.is_public
    assert "定时发布于" in client.get(change_url(post)).content.decode()


def test_publish_now_on_a_draft_uses_the_current_time(client, editor):
    post = PostFactory(
        status=Post.Status.DRAFT, published_at=timezone.now() - datetime.timedelta(days=90)
    )
    client.post(change_url(post), form_data(post, publication="publish"))
    post.refresh_from_db()
    assert post.is_public
    assert timezone.now() - post.published_at < datetime.timedelta(minutes=5)
    assert "已发布" in client.get(change_url(post)).content.decode()


def test_writer_without_publish_permission_can_only_submit_for_review(client):
    user = writer_without_publishing()
    client.force_login(user)
    page = client.get("/admin/blog/post/add/").content.decode()
    assert 'value="pending"' in page
    assert 'value="publish"' not in page
    for action in ["publish", "schedule"]:
        response = client.post("/admin/blog/post/add/", form_data(publication=action))
        assert response.status_code == 200
    response = client.post("/admin/blog/post/add/", form_data(status="published", publication=""))
    assert response.status_code == 200
    assert "提交审核" in response.content.decode()
    assert not Post.objects.exists()
    assert client.post("/admin/blog/post/add/", form_data(publication="pending")).status_code == 302
    assert Post.objects.get().status == Post.Status.PENDING
    assert "待审核" in client.get(change_url(Post.objects.get())).content.decode()


def test_publish_action_needs_the_publish_permission(client):
    user = writer_without_publishing()
    user.user_permissions.add(Permission.objects.get(codename="change_any_post"))
    post = PostFactory(status=Post.Status.DRAFT)
    client.force_login(user)
    client.post("/admin/blog/post/", {"action": "publish_now", "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_page_saves_keep_revisions_and_refuse_stale_forms(client, editor):
    page = PostFactory(kind=Post.Kind.PAGE, title="关于", slug="about", body="第一版")
    url = f"/admin/blog/page/{page.pk}/change/"
    data = form_data(page, body="第二版", publication="publish", slug="about", menu_order="0")
    stale = data | {"body": "过时的改动"}
    assert client.post(url, data).status_code == 302
    page.refresh_from_db()
    assert [r.body for r in page.revisions.all()] == ["第二版", "第一版"]
    assert client.get(f"/admin/blog/page/{page.pk}/revisions/").status_code == 200
    assert "保存被拒绝" in client.post(url, stale).content.decode()
    page.refresh_from_db()
    assert page.body == "第二版"
    autosave = client.post(f"/admin/blog/page/{page.pk}/autosave/", {"title": "关于", "body": "x"})
    assert autosave.status_code == 200
