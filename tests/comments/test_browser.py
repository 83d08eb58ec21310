"""What only a browser shows: the reply form moving, previews typeset, math links kept inert."""

import pytest

from comments.models import Comment
from tests.factories import CommentFactory, PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def typeset(page) -> None:
    """Wait until math.js has finished all queued typesetting."""
    page.evaluate("() => window.spacesTypeset(document.createElement('div'))")


def test_reply_link_moves_form_under_the_comment_and_back(live_server, page):
    first = CommentFactory(author_name="甲")
    second = CommentFactory(post=first.post, author_name="乙")
    page.goto(live_server.url + first.post.get_absolute_url())
    page.click(f"#comment-{second.pk} a.comment-reply")
    assert page.locator(f"#comment-{second.pk} #respond").count() == 1
    assert page.input_value("input[name=reply_to]") == str(second.pk)
    assert page.inner_text("#respond .respond-label") == "回复给 乙"
    assert page.locator("#respond textarea[name=body]").evaluate(
        "el => el === document.activeElement"
    )
    page.click("#respond a.cancel-reply")
    assert page.locator(".comment #respond").count() == 0
    assert page.input_value("input[name=reply_to]") == ""
    assert page.inner_text("#respond .respond-label") == "发表评论"


def test_quote_link_inserts_quote_markup(live_server, page, settings):
    settings.SPACES_COMMENT_MAX_DEPTH = 1
    comment = CommentFactory(author_name="丙")
    page.goto(live_server.url + comment.post.get_absolute_url())
    page.click(f"#comment-{comment.pk} a.comment-quote-link")
    assert page.input_value("textarea[name=body]") == f"[comment={comment.pk}]丙[/comment] "


def test_preview_typesets_math(live_server, page):
    post = PostFactory(body="没有公式。")
    page.goto(live_server.url + post.get_absolute_url())
    page.fill("textarea[name=body]", "设 $x^2$，则\n\n$$\\int_0^1 f(x)\\,dx$$\n\n<b>不加粗</b>")
    page.click("button.comment-preview-button")
    page.wait_for_selector("#comment-preview mjx-container")
    typeset(page)
    preview = page.locator("#comment-preview")
    assert preview.locator("mjx-container").count() == 2
    assert preview.locator("b").count() == 0
    assert "<b>不加粗</b>" in preview.inner_text()


def test_a_reader_of_a_cached_page_comments_with_one_submission(live_server, page, quick_forms):
    post = PostFactory(body="没有公式。")
    url = live_server.url + post.get_absolute_url()
    page.goto(url)  # rendered for the cache
    page.context.clear_cookies()
    page.goto(url)  # a new reader, served from the cache: no CSRF token in the page
    assert page.input_value("input[name=csrfmiddlewaretoken]") == ""
    page.fill("input[name=author_name]", "有脚本的读者")
    page.fill("input[name=author_email]", "js@example.com")
    page.fill("textarea[name=body]", "一次就提交成功 $z$")
    page.click("button[type=submit]")
    page.wait_for_url("**#comment-*")
    comment = Comment.objects.get(author_email="js@example.com")
    assert page.url.endswith(f"#comment-{comment.pk}")


def test_javascript_href_in_comment_math_is_inert(live_server, page):
    comment = CommentFactory(body="点 $\\href{javascript:alert(1)}{x}$ 和 [y](javascript:alert(2))")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server.url + comment.post.get_absolute_url())
    page.wait_for_selector(f"#comment-body-{comment.pk} mjx-container")
    typeset(page)
    body = page.locator(f"#comment-body-{comment.pk}")
    links = body.locator("a, [data-mjx-href], [href]")
    for index in range(links.count()):
        link = links.nth(index)
        for attribute in ("href", "data-mjx-href"):
            assert (
                not (link.get_attribute(attribute) or "").strip().lower().startswith("javascript")
            )
        link.click()
    body.locator("mjx-container").click()
    page.wait_for_timeout(200)
    assert dialogs == []


def test_comment_without_javascript_replies_and_shows_pending(live_server, browser, quick_forms):
    parent = CommentFactory(author_name="丁")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + parent.post.get_absolute_url())
        page.click(f"#comment-{parent.pk} a.comment-reply")
        assert page.input_value("input[name=reply_to]") == str(parent.pk)
        assert "回复给 丁" in page.inner_text("#respond")
        page.fill("input[name=author_name]", "新读者")
        page.fill("input[name=author_email]", "new@example.com")
        page.fill("textarea[name=body]", "我的第一条评论 $y$")
        page.click("button[type=submit]")
        # The cached page had no CSRF token: the form comes back, with it and the text kept.
        assert "再提交一次" in page.inner_text(".comment-refused")
        assert page.input_value("textarea[name=body]") == "我的第一条评论 $y$"
        assert not Comment.objects.filter(author_email="new@example.com").exists()
        page.click("button[type=submit]")
        comment = Comment.objects.get(author_email="new@example.com")
        assert page.url.endswith(f"#comment-{comment.pk}")
        assert comment.parent_id == parent.pk
        assert "您的评论正在等待审核" in page.inner_text(f"#comment-{comment.pk}")
    finally:
        context.close()
