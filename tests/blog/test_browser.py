"""What only a browser shows: MathJax typesetting from our own static files."""

from urllib.parse import urlsplit

import pytest

from blog.models import Post
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = r"""质能关系写成
\begin{equation}E = mc^2\label{eq:energy}\end{equation}
由式$\eqref{eq:energy}$可知，
$$\mathop{\text{argmin}}_{\theta} \Vert x_{[:, :r]} \Vert \lt 1$$
而
\begin{align}
a &= \left\{ b \right. \\
c &= d \tag{*}
\end{align}
链接 $\href{javascript:alert(1)}{x}$ 不会执行。
"""


def typeset(page) -> None:
    """Wait until math.js has finished all queued typesetting."""
    page.evaluate("() => window.spacesTypeset(document.createElement('div'))")
    page.wait_for_load_state("networkidle")


def test_article_math_typesets_locally(live_server, page):
    post = PostFactory(body=BODY, status=Post.Status.PUBLISHED)
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)

    assert page.locator("mjx-container").count() >= 5
    assert page.locator("mjx-merror").count() == 0
    assert "(1)" in page.locator(".post-body").inner_text()
    hrefs = page.eval_on_selector_all(
        "a", "els => els.map(a => a.getAttribute('href') ?? a.getAttribute('data-mjx-href'))"
    )
    assert not [h for h in hrefs if h and h.strip().lower().startswith("javascript:")]
    assert dialogs == []
    own_host = urlsplit(live_server.url).netloc
    foreign = [
        url
        for url in requests
        if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != own_host
    ]
    assert foreign == []
    assert any("/static/vendor/mathjax/" in url for url in requests)


def test_eqref_shows_the_referenced_number(live_server, page):
    post = PostFactory(
        body="\\begin{equation}a=b\\label{eq:first}\\end{equation}\n"
        "\\begin{equation}c=d\\label{eq:second}\\end{equation}\n"
        "见式$\\eqref{eq:second}$和式$\\eqref{eq:first}$。"
    )
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    text = page.locator(".post-body p").last.inner_text()
    assert text.index("(2)") < text.index("(1)")


def test_page_without_math_loads_no_mathjax(live_server, page):
    post = PostFactory(body="没有公式的文章。")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + post.get_absolute_url())
    page.wait_for_load_state("networkidle")
    assert not [url for url in requests if "/vendor/mathjax/" in url]


def test_long_formula_does_not_widen_the_page_on_a_phone(live_server, browser):
    post = PostFactory(body="$$" + " + ".join(f"x_{{{i}}}^2" for i in range(80)) + "$$")
    context = browser.new_context(viewport={"width": 375, "height": 700})
    page = context.new_page()
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


LONG_NUMBERED = r"""设 $f$ 在 $[a,b]$ 上连续，则
\begin{equation}
\int_a^b f(x)\,dx = \frac{h}{2}\sum_{k<n}\bigl(f(x_k) + f(x_{k+1})\bigr)
- \sum_{m\ge1} \frac{B_{2m} h^{2m}}{(2m)!}\bigl(f^{(2m-1)}(b) - f^{(2m-1)}(a)\bigr)
\label{eq:long}
\end{equation}
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_long_numbered_formula_keeps_its_number_in_view(live_server, browser, width):
    post = PostFactory(body=LONG_NUMBERED)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    # Wider than the column with its number beside it (even at 1280 px): broken into lines, with
    # the number in view inside the formula's box, not at the end of a row scrolled out of sight.
    tag_left, tag_right, box_left, box_right = page.locator("[id^='mjx-eqn']").evaluate(
        """tag => [tag.getBoundingClientRect().left, tag.getBoundingClientRect().right,
                   tag.closest("div.arithmatex").getBoundingClientRect().left,
                   tag.closest("div.arithmatex").getBoundingClientRect().right]"""
    )
    assert box_left < tag_left < tag_right <= box_right
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_wide_array_after_a_broken_formula_scrolls_with_its_columns_whole(live_server, browser):
    cells = " & ".join(rf"\text{{column {i}}}" for i in range(8))
    post = PostFactory(
        body=LONG_NUMBERED + "\n" + rf"$$\begin{{array}}{{r|cccccccc}}{cells}\end{{array}}$$"
    )
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    # MathJax breaks a table's cells badly (squeezed until they overlap): the array scrolls whole.
    overflow, scroll_width, client_width = page.locator(
        "mjx-container:has(mjx-mtable)"
    ).last.evaluate("c => [c.getAttribute('overflow'), c.scrollWidth, c.clientWidth]")
    assert overflow == "scroll"
    assert scroll_width > client_width + 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_admin_live_preview_typesets_math(live_server, browser, client):
    from django.conf import settings

    from tests.factories import UserFactory

    editor = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(editor)
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
    page.goto(live_server.url + "/admin/blog/post/add/")
    page.locator(".cm-content").fill(
        "预览 $\\alpha^2$ 与\n$$\\int_0^1 x\\,dx$$\n<script>window.hacked=1</script>"
    )
    preview = page.locator(".spaces-preview")
    preview.locator("mjx-container").first.wait_for(timeout=15_000)
    assert preview.locator("mjx-container").count() == 2
    assert page.evaluate("window.hacked") is None
    context.close()


def test_cached_article_arrives_gzipped_around_its_holes_and_works(live_server, page):
    post = PostFactory(body=BODY + "\n\n" + "正文段落。" * 800, view_count=41)
    url = live_server.url + post.get_absolute_url()
    page.goto(url)  # rendered and cached (a headless browser counts as a crawler: not counted)
    page.context.clear_cookies()  # a new reader, served from the cached page
    response = page.goto(url)
    assert response.headers.get("content-encoding") == "gzip"
    typeset(page)
    assert page.locator("mjx-container").count() >= 5
    assert page.locator(".view-count").inner_text() == "41位读者"
    csrf = page.locator("input[name=csrfmiddlewaretoken]")
    assert csrf.get_attribute("value") == ""  # asked for when the reader uses the form
    page.locator("textarea[name=body]").focus()
    # A function, not an expression: the page's CSP forbids the eval an expression would need.
    page.wait_for_function(
        "() => document.querySelector('input[name=csrfmiddlewaretoken]').value.length === 64"
    )
    assert any(cookie["name"] == "csrftoken" for cookie in page.context.cookies())
    assert page.input_value("input[name=token]").startswith(f"{post.pk}:")
