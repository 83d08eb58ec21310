"""The Content-Security-Policy and Permissions-Policy headers, and pages working under them."""

import pytest
from django.conf import settings

from tests.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

# Every violation the page reports, recorded before any of its own scripts runs.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
MATH = "质能 $E = mc^2$，\n\n$$\\int_0^1 x\\,dx = \\frac12$$\n"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_every_page_has_a_policy_allowing_only_our_own_scripts(client):
    post = PostFactory(body=MATH)
    for url in ("/", post.get_absolute_url(), post.get_absolute_url(), "/no-such-page", "/feed"):
        response = client.get(url)
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], url
        assert "camera=()" in response["Permissions-Policy"], url
        assert "geolocation=()" in response["Permissions-Policy"], url


def test_the_admin_has_the_policy_too(admin_client):
    response = admin_client.get("/admin/blog/post/add/")
    assert directives(response)["script-src"] == ["'self'"]


def watch(page) -> list[str]:
    """Violations and console errors of `page`, as they come."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: message.type == "error" and problems.append(message.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def typeset(page) -> None:
    page.evaluate("() => window.spacesTypeset(document.createElement('div'))")
    page.wait_for_load_state("networkidle")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_math_and_the_comment_preview_work_under_the_policy(live_server, page):
    post = PostFactory(body=MATH)
    CommentFactory(post=post, body="评论里的公式 $a^2+b^2$")
    problems = watch(page)
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    assert page.locator(".post-body mjx-container").count() == 2
    page.fill("textarea[name=body]", "预览 $\\sqrt{2}$ 与 $\\style{color:red}{x}$")
    page.click("button.comment-preview-button")
    page.wait_for_selector("#comment-preview mjx-container")
    typeset(page)
    assert page.locator("#comment-preview mjx-container").count() == 2
    assert page.evaluate("window.cspViolations") == []
    assert problems == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_and_its_preview_work_under_the_policy(live_server, browser, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    PostFactory(title="已有文章", body=MATH)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    problems = watch(page)
    for url in ("/admin/", "/admin/blog/post/", "/admin/comments/comment/"):
        page.goto(live_server.url + url)
        assert page.evaluate("window.cspViolations") == [], url
    page.goto(live_server.url + "/admin/blog/post/add/")
    page.locator(".cm-content").fill("预览 $\\alpha^2$ 与\n$$\\int_0^1 x\\,dx$$")  # the editor
    preview = page.locator(".spaces-preview")
    preview.locator("mjx-container").first.wait_for(timeout=15_000)
    page.wait_for_load_state("networkidle")
    assert preview.locator("mjx-container").count() == 2
    assert page.evaluate("window.cspViolations") == []
    assert problems == []
    context.close()
