"""The editor's media insertion in a real browser: paste or drop an image, see the figure."""

import base64
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.blog.test_csp import RECORD_VIOLATIONS
from tests.factories import UserFactory
from tests.uploads.conftest import image_bytes
from uploads.models import Upload
from uploads.services import create_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Builds a File from base64 PNG bytes and fires a paste or drop event carrying it at the editor.
FIRE = """([kind, data]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "clipboard.png", {type: "image/png"}));
  const target = document.querySelector(".field-body .cm-content")
    || document.getElementById("id_body");
  target.focus();
  const event = kind === "paste"
    ? new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true})
    : new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true});
  target.dispatchEvent(event);
  return event.defaultPrevented;
}"""
DATA_PNG = re.compile(r"^data:image/png;base64,")
BODY_TEXT = """() => {
  const editor = document.querySelector(".field-body .cm-content");
  return editor ? editor.innerText : document.getElementById("id_body").value;
}"""


def writer():
    """A staff user with an author's rights, granted directly: the flushes between transactional
    tests remove the groups that data migrations made, but not the permissions."""
    from django.contrib.auth.models import Permission

    user = UserFactory(is_staff=True)
    codenames = ["add_post", "change_post", "view_post", "add_upload", "view_upload"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def logged_in_page(browser, client, live_server, user):
    client.force_login(user)
    context = browser.new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return context.new_page()


@pytest.mark.parametrize("kind", ["paste", "drop"])
def test_image_pasted_or_dropped_into_the_editor_becomes_a_figure(
    live_server, browser, client, media_root, kind
):
    page = logged_in_page(browser, client, live_server, writer())
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/admin/blog/post/add/")
    png = base64.b64encode(image_bytes(1200, 600)).decode()
    assert page.evaluate(FIRE, [kind, png]) is True
    dialog = page.locator("dialog.spaces-media")
    expect(dialog.locator("img.spaces-media-preview")).to_have_attribute("src", DATA_PNG)
    dialog.locator("input[name=alt_text]").fill("粘贴的示意图")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#id_body")).to_have_value(re.compile(r"!\[粘贴的示意图\]\("))

    upload = Upload.objects.get()
    assert upload.uploader.has_perm("uploads.add_upload")
    assert upload.title == ("粘贴的示意图" if kind == "paste" else "clipboard")
    assert f"![粘贴的示意图]({upload.file.url})" in page.evaluate(BODY_TEXT)
    figure = page.locator(".spaces-preview figure img")
    figure.wait_for(timeout=10_000)
    assert figure.get_attribute("srcset").endswith(".800w.png 800w, " + upload.file.url + " 1200w")
    assert page.locator(".spaces-preview figcaption").inner_text() == "粘贴的示意图"
    assert page.evaluate("window.cspViolations") == []
    page.context.close()


def test_picking_from_the_library_inserts_its_markdown(live_server, browser, client, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = writer()
    file = SimpleUploadedFile("curve.png", image_bytes(400, 300))
    upload = create_upload(file, name=file.name, size=file.size, alt_text="曲线", title="曲线图")
    page = logged_in_page(browser, client, live_server, user)
    page.goto(live_server.url + "/admin/blog/post/add/")
    page.locator("button.spaces-media-open").click()
    page.get_by_role("button", name="从媒体库选择").click()
    page.locator(".spaces-media-pick", has_text="曲线图").click()
    expect(page.locator("#id_body")).to_have_value(re.compile(r"!\[曲线\]\("))
    assert upload.markdown in page.evaluate(BODY_TEXT)
    page.context.close()


def test_refusal_is_shown_in_the_dialog_and_nothing_inserted(
    live_server, browser, client, media_root
):
    page = logged_in_page(browser, client, live_server, writer())
    page.goto(live_server.url + "/admin/blog/post/add/")
    not_png = base64.b64encode(b"not an image at all" * 10).decode()
    page.evaluate(FIRE, ["paste", not_png])
    dialog = page.locator("dialog.spaces-media")
    dialog.locator("input[name=alt_text]").fill("坏图")
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".spaces-media-error")).to_contain_text("不是一张有效的图片")
    assert "![" not in page.evaluate(BODY_TEXT)
    assert not Upload.objects.exists()
    page.context.close()
