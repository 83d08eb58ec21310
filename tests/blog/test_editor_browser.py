"""The post editor in a real browser: CodeMirror, toolbar, preview, autosave, unsaved warning."""

import os

import pytest
from django.conf import settings as django_settings

from blog.models import Post, PostAutosave
from tests.factories import AuthorFactory, PostFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/work/coord/shots"
LONG_FORMULA = r"""## 一个长公式

设 $f$ 在 $[a,b]$ 上连续，则

\begin{equation}
\int_a^b f(x)\,dx = \frac{h}{2}\sum_{k<n}\bigl(f(x_k) + f(x_{k+1})\bigr)
- \sum_{m\ge1} \frac{B_{2m} h^{2m}}{(2m)!}\bigl(f^{(2m-1)}(b) - f^{(2m-1)}(a)\bigr)
\label{eq:long}
\end{equation}

由式 $\eqref{eq:long}$ 可得误差估计，其中 $B_{2m}$ 为伯努利数。

| 方法 | 误差阶 |
| --- | --- |
| 梯形 | $O(h^2)$ |
| 辛普森 | $O(h^4)$ |
"""


def logged_in_page(browser, client, live_server, user, width: int = 1280):
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def editor_text(page) -> str:
    return page.evaluate("window.SpacesEditor.view.state.doc.toString()")


def wait_for_preview_math(page) -> None:
    page.locator(".spaces-preview mjx-container").first.wait_for(timeout=20_000)
    page.evaluate("() => window.spacesTypeset(document.createElement('div'))")


def shoot(page, name: str) -> None:
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/writing-{name}.png", full_page=False)


@pytest.mark.parametrize("width", [1280, 390])
def test_editor_with_long_formula_previews_numbered(live_server, browser, client, width):
    editor = UserFactory(is_staff=True, is_superuser=True)
    post = PostFactory(title="长公式", body=LONG_FORMULA, authors=[AuthorFactory(user=editor)])
    page = logged_in_page(browser, client, live_server, editor, width)
    page.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    page.locator(".cm-content").wait_for()
    assert "\\label{eq:long}" in editor_text(page)
    assert page.locator("#id_body").is_hidden()
    if width < 1200:
        assert page.locator(".spaces-editor-preview").is_hidden()
        # The preview's HTML arrives while its pane is hidden: its math must be typeset once shown.
        page.locator(".spaces-preview h2").wait_for(state="attached")
        shoot(page, f"editor-{width}-edit")
        page.get_by_role("tab", name="预览").click()
        assert page.locator(".cm-editor").is_hidden()
    wait_for_preview_math(page)
    preview = page.locator(".spaces-preview")
    shoot(page, f"editor-{width}" + ("-preview" if width < 1200 else ""))
    text = preview.inner_text()
    assert "(1)" in text  # the equation's number, and \eqref's reference to it
    assert text.count("(1)") >= 2
    assert preview.locator("mjx-merror").count() == 0
    # The formula is wider than the pane with its number beside it, at either width: it is broken
    # into lines, and the number stays in view within the formula's box, not scrolled out of it.
    tag_left, tag_right, box_left, box_right = preview.locator("[id^='mjx-eqn']").first.evaluate(
        """tag => [tag.getBoundingClientRect().left, tag.getBoundingClientRect().right,
                   tag.closest("div.arithmatex").getBoundingClientRect().left,
                   tag.closest("div.arithmatex").getBoundingClientRect().right]"""
    )
    assert box_left < tag_left < tag_right <= box_right
    assert preview.locator("h2").evaluate("h => getComputedStyle(h).backgroundColor") in {
        "rgba(0, 0, 0, 0)",
        "transparent",
    }
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()


def test_toolbar_shortcut_word_count_and_insert_api(live_server, browser, client):
    editor = UserFactory(is_staff=True, is_superuser=True)
    page = logged_in_page(browser, client, live_server, editor)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/admin/blog/post/add/")
    page.locator(".cm-content").click()
    page.keyboard.type("中文字数 and two")
    assert page.locator(".spaces-word-count").inner_text() == "字数：6"
    page.get_by_role("button", name="行内公式").click()
    assert editor_text(page).endswith("$x^2$")
    page.keyboard.type("\\alpha")  # typing replaces the selected placeholder
    assert editor_text(page).endswith("$\\alpha$")
    page.keyboard.press("End")
    page.keyboard.press("Control+b")
    assert editor_text(page).endswith("**粗体**")
    page.keyboard.press("End")
    page.get_by_role("button", name="带编号的公式（\\label 之后用 \\eqref 引用）").click()
    page.keyboard.press("Escape")
    assert "\\begin{equation}" in editor_text(page)
    page.evaluate("window.SpacesEditor.insertAtCursor('![图](/media/a.png)')")
    page.evaluate(
        """document.getElementById('id_body').dispatchEvent(
            new CustomEvent('spaces:insert', {detail: {text: 'EVENT'}}))"""
    )
    text = editor_text(page)
    assert "![图](/media/a.png)EVENT" in text
    assert page.input_value("#id_body") == text  # the form field follows the editor
    assert not [m for m in console if "Content Security Policy" in m]  # no inline script
    page.context.close()


def test_autosave_then_restore_after_reload(live_server, browser, client, settings):
    settings.SPACES_AUTOSAVE_SECONDS = 1
    editor = UserFactory(is_staff=True, is_superuser=True)
    post = PostFactory(body="已保存的正文", authors=[AuthorFactory(user=editor)])
    page = logged_in_page(browser, client, live_server, editor)
    page.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("，还没保存的一句")
    page.locator(".spaces-autosave-state").filter(has_text="已自动保存").wait_for(timeout=10_000)
    autosave = PostAutosave.objects.get()
    assert autosave.body == "已保存的正文，还没保存的一句"
    post.refresh_from_db()
    assert post.body == "已保存的正文"
    page.on("dialog", lambda dialog: dialog.accept())
    page.reload()
    page.get_by_role("button", name="恢复自动保存的内容").click()
    assert editor_text(page) == "已保存的正文，还没保存的一句"
    with page.expect_navigation():
        page.get_by_role("button", name="保存并继续编辑").click()
    post.refresh_from_db()
    assert post.body == "已保存的正文，还没保存的一句"
    assert page.locator(".spaces-autosave-offer").count() == 0
    page.context.close()


def test_leaving_with_unsaved_changes_warns(live_server, browser, client):
    editor = UserFactory(is_staff=True, is_superuser=True)
    post = PostFactory(authors=[AuthorFactory(user=editor)])
    page = logged_in_page(browser, client, live_server, editor)
    url = f"{live_server.url}/admin/blog/post/{post.pk}/change/"
    page.goto(url)
    dialogs: list[str] = []
    # Accepted, so that the page does close: a context closed under a page whose closing was
    # cancelled has crashed Chromium 156 once, and with it every browser test after this one.
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.locator(".cm-content").click()
    page.keyboard.type("改动")
    with page.expect_event("close"):
        page.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]
    page.context.close()
    # Saving is not leaving: no warning, and the post is saved.
    page = logged_in_page(browser, client, live_server, editor)
    page.goto(url)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.locator(".cm-content").click()
    page.keyboard.type("保存")
    page.get_by_role("button", name="保存并继续编辑").click()
    page.wait_for_load_state()
    assert dialogs == ["beforeunload"]
    assert "保存" in Post.objects.get(pk=post.pk).body
    page.context.close()
