"""The media library in the admin and the editor's JSON endpoints."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PostFactory, UserFactory
from tests.uploads.conftest import image_file, in_group, png_header, stored_files
from uploads.models import Upload
from uploads.services import create_upload

pytestmark = pytest.mark.django_db

API = "/admin/uploads/upload/api/upload/"
LIBRARY = "/admin/uploads/upload/api/library/"
ADD = "/admin/uploads/upload/add/"


def stored(uploader=None, name: str = "photo.png", **kwargs) -> Upload:
    file = image_file(name, kwargs.pop("width", 1200), kwargs.pop("height", 600))
    kwargs.setdefault("alt_text", "示意图")
    return create_upload(file, name=name, size=file.size, uploader=uploader, **kwargs)


def test_roles_may_upload_like_wordpress():
    def codenames(group: str) -> set[str]:
        perms = Group.objects.get(name=group).permissions.filter(content_type__app_label="uploads")
        return set(perms.values_list("codename", flat=True))

    assert codenames("Authors") == {"add_upload", "change_upload", "delete_upload", "view_upload"}
    assert "change_any_upload" in codenames("Editors")
    contributors, _ = Group.objects.get_or_create(name="Contributors")
    assert not contributors.permissions.filter(content_type__app_label="uploads").exists()


def test_admin_add_form_stores_an_image(client, media_root):
    user = in_group("Authors")
    client.force_login(user)
    response = client.post(
        ADD, {"upload": image_file("figure.png", 1000, 500), "title": "", "alt_text": "曲线"}
    )
    assert response.status_code == 302
    upload = Upload.objects.get()
    assert (upload.title, upload.alt_text, upload.uploader) == ("figure", "曲线", user)
    assert len(stored_files(media_root)) == 3  # the file, 240 and 800 px wide


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("cat.png", b"plain text, not a picture" * 20), "不是一张有效的图片"),
        (SimpleUploadedFile("bomb.png", png_header(50_000, 50_000)), "像素太多"),
        (SimpleUploadedFile("logo.svg", b"<svg><script>alert(1)</script></svg>"), "SVG"),
    ],
)
def test_admin_add_form_shows_why_a_file_is_refused(client, media_root, file, message):
    client.force_login(in_group("Authors"))
    response = client.post(ADD, {"upload": file, "alt_text": "图"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Upload.objects.count() == 0
    assert stored_files(media_root) == []


def test_admin_add_form_requires_alt_text_for_images(client, media_root):
    client.force_login(in_group("Authors"))
    response = client.post(ADD, {"upload": image_file("a.png", 300, 200), "alt_text": ""})
    assert "请为图片填写替代文字" in response.content.decode()
    assert stored_files(media_root) == []


def test_oversized_request_is_refused_before_its_body_is_read(client, media_root):
    client.force_login(in_group("Authors"))
    huge = str(200 * 1024 * 1024)
    # The test client's payload is a few bytes: reading past them would fail the request.
    form = client.post(ADD, {"alt_text": "图"}, CONTENT_LENGTH=huge)
    assert form.status_code == 413
    assert "文件太大" in form.content.decode()
    api = client.post(API, {"alt_text": "图"}, CONTENT_LENGTH=huge)
    assert api.status_code == 413
    assert "20.0" in api.json()["error"]
    assert stored_files(media_root) == []


def test_api_upload_returns_the_markdown(client, media_root):
    client.force_login(in_group("Authors"))
    response = client.post(
        API, {"file": image_file("clip.png", 900, 300), "alt_text": "粘贴的图", "caption": ""}
    )
    assert response.status_code == 201
    upload = Upload.objects.get()
    assert response.json()["markdown"] == f"![粘贴的图]({upload.file.url})"
    assert response.json()["thumbnail"].endswith(".240w.png")


def test_api_path_in_the_client_file_name_never_reaches_storage(client, media_root):
    client.force_login(in_group("Authors"))
    file = image_file("photo.png", 300, 200)
    file.name = "../../../etc/evil.png"
    response = client.post(API, {"file": file, "alt_text": "图"})
    assert response.status_code == 201
    assert all(name.startswith("uploads/") for name in stored_files(media_root))
    assert not (media_root.parent / "etc").exists()


def test_api_refusals_are_400_with_the_reason(client, media_root):
    client.force_login(in_group("Authors"))
    response = client.post(API, {"file": image_file("a.png", 300, 200), "alt_text": ""})
    assert response.status_code == 400
    assert response.json()["field"] == "alt_text"
    response = client.post(API, {"alt_text": "图"})
    assert response.status_code == 400
    assert (
        client.post(
            API, {"file": image_file("a.png"), "title": "x" * 300, "alt_text": "图"}
        ).status_code
        == 400
    )
    assert stored_files(media_root) == []


def test_api_needs_the_upload_permission_and_csrf(client, media_root):
    contributor = in_group("Contributors")
    client.force_login(contributor)
    response = client.post(API, {"file": image_file("a.png", 300, 200), "alt_text": "图"})
    assert response.status_code == 403
    assert client.get(LIBRARY).status_code == 403
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(in_group("Authors"))
    assert (
        strict.post(API, {"file": image_file("a.png", 300, 200), "alt_text": "图"}).status_code
        == 403
    )
    assert stored_files(media_root) == []


def test_library_lists_and_searches(client):
    user = in_group("Authors")
    stored(user, title="洛伦兹吸引子")
    stored(UserFactory(), title="傅里叶")
    client.force_login(user)
    titles = [item["title"] for item in client.get(LIBRARY).json()["results"]]
    assert titles == ["傅里叶", "洛伦兹吸引子"]
    results = client.get(LIBRARY, {"q": "洛伦兹"}).json()["results"]
    assert [item["title"] for item in results] == ["洛伦兹吸引子"]


def test_changelist_shows_thumbnails_and_copy_buttons_in_fixed_queries(client):
    user = in_group("Editors", is_superuser=False)
    client.force_login(user)
    stored(user)
    with CaptureQueriesContext(connection) as one:
        page = client.get("/admin/uploads/upload/").content.decode()
    assert 'class="upload-thumb"' in page
    assert "upload-copy" in page
    assert 'data-copy="![示意图](' in page
    for _ in range(5):
        stored(UserFactory())
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/uploads/upload/")
    assert len(many) == len(one)


def test_authors_change_only_their_own_uploads(client):
    author = in_group("Authors")
    mine, theirs = stored(author), stored(UserFactory())
    client.force_login(author)
    assert client.get(f"/admin/uploads/upload/{mine.pk}/change/").status_code == 200
    response = client.post(
        f"/admin/uploads/upload/{theirs.pk}/change/", {"title": "x", "alt_text": "y", "caption": ""}
    )
    assert response.status_code in {302, 403}
    theirs.refresh_from_db()
    assert theirs.title != "x"


def test_change_form_keeps_alt_text_required(client):
    author = in_group("Authors")
    mine = stored(author)
    client.force_login(author)
    url = f"/admin/uploads/upload/{mine.pk}/change/"
    response = client.post(url, {"title": "新标题", "alt_text": "", "caption": ""})
    assert "请为图片填写替代文字" in response.content.decode()
    mine.refresh_from_db()
    assert mine.alt_text == "示意图"


def test_deleting_an_upload_a_post_uses_is_refused_listing_the_posts(client, media_root):
    editor = in_group("Editors")
    upload = stored(editor)
    post = PostFactory(title="用到图的文章", body=f"看图：\n\n{upload.markdown}\n")
    client.force_login(editor)
    url = f"/admin/uploads/upload/{upload.pk}/delete/"
    page = client.get(url).content.decode()
    assert "仍被下列文章使用" in page
    assert post.title in page
    client.post(url, {"post": "yes"})
    bulk = client.post(
        "/admin/uploads/upload/",
        {"action": "delete_selected", "_selected_action": [upload.pk], "post": "yes"},
    )
    assert "仍被文章使用" in bulk.content.decode()
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert len(stored_files(media_root)) == 3


def test_deleting_an_unused_upload_removes_its_files(
    client, media_root, django_capture_on_commit_callbacks
):
    editor = in_group("Editors")
    upload = stored(editor)
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/uploads/upload/{upload.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Upload.objects.exists()
    assert stored_files(media_root) == []
