"""Text shortened for lists and snippets: cut only between formulas, formulas shown as math."""

import pytest
from django.urls import reverse

from blog import search
from blog.rendering import Piece, shorten
from comments.models import Comment
from comments.sidebar import recent_comments
from tests.factories import CommentFactory, PostFactory, UserFactory

FORMULAS = [
    r"\(\sum_{k=1}^{12} k\)",
    r"\[\boldsymbol{X}^{\top}\boldsymbol{X}\]",
    r"$$a+b$$",
    r"$x_1$",
    r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_shorten_never_cuts_inside_a_formula(formula):
    text = "前言" * 5 + formula + "后记" * 30
    for length in range(1, 40):
        shortened = shorten(text, length)
        shown = "".join(piece.text for piece in shortened.pieces)
        assert text.startswith(shown)
        math = [piece.text for piece in shortened.pieces if piece.math]
        assert math in ([], [formula])
        if not math:
            assert formula[:2] not in shown[10:]


def test_shorten_starting_inside_a_formula_shows_it_whole():
    text = "甲" * 50 + r"\(\frac{a}{b}\)" + "乙" * 50
    shortened = shorten(text, 20, start=55)
    assert shortened.pieces[0] == Piece(r"\(\frac{a}{b}\)", True)
    assert shortened.cut_before
    assert shortened.cut_after


def test_shorten_keeps_a_formula_that_is_all_there_is_to_show():
    shortened = shorten(r"\(" + "x+" * 100 + r"x\)" + "后记", 10)
    assert [piece.math for piece in shortened.pieces] == [True]
    assert shortened.cut_after


def test_shorten_text_keeps_tex_as_text_and_html_typesets_it():
    shortened = shorten(r"和为 \(\sum_k a_k < b\) 与 $$c$$，完", 100)
    assert shortened.text == r"和为 \(\sum_k a_k < b\) 与 $$c$$，完"
    assert not shortened.cut_after
    assert shortened.html() == (
        r'和为 <span class="arithmatex">\(\sum_k a_k &lt; b\)</span> 与 '
        r'<span class="arithmatex">\(c\)</span>，完'
    )


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        (r"$\eqref{eq:loss}$", r"\(\text{(…)}\)"),
        (r"\(x = \ref {eq:a} + 1\)", r"\(x = \text{…} + 1\)"),
    ],
)
def test_shorten_html_shows_a_reference_to_a_label_without_its_number(formula, shown):
    """Out of its article an equation's label does not exist: MathJax would show "(???)"."""
    shortened = shorten(f"见 {formula} 和 $x$", 100)
    assert shortened.text == f"见 {formula} 和 $x$"
    expected = (
        f'见 <span class="arithmatex">{shown}</span> 和 <span class="arithmatex">\\(x\\)</span>'
    )
    assert shortened.html() == expected


def test_shorten_leaves_prices_and_escaped_dollars_as_text():
    shortened = shorten(r"书价 $5 和 $6，还有 \$x\$", 100)
    assert not shortened.has_math


def test_comment_excerpt_is_plain_text_and_the_sidebar_shows_math(db, client):
    body = "前面的文字，" * 3 + r"求和 $\sum_{k=1}^{12} k$ 等于 78。" + "后面" * 30
    CommentFactory(post=PostFactory(), body=body)
    excerpt = Comment.objects.get().excerpt(60)
    assert r"\(\sum_{k=1}^{12} k\)" in excerpt
    entry = recent_comments()[0]["excerpt"]
    assert r'<span class="arithmatex">\(\sum_{k=1}^{12} k\)</span>' in entry
    html = client.get("/").content.decode()
    assert r'<span class="arithmatex">\(\sum_{k=1}^{12} k\)</span>' in html


def test_search_snippet_shows_whole_formulas_as_math(db, client):
    body = "前言。" * 60 + r"设 $\boldsymbol{X}$ 为矩阵，" + "流模型" + "。" * 10
    body += "\n\n$$\n\\begin{aligned}" + " a &= b \\\\" * 40 + "\\end{aligned}\n$$\n"
    PostFactory(title="矩阵", body=body)
    html = client.get(reverse("blog:search_results", kwargs={"keywords": "流模型"})).content
    html = html.decode()
    snippet = html.split('class="search-snippet" data-math-scope>')[1].split("</p>")[0]
    assert r'<span class="arithmatex">\(\boldsymbol{X}\)</span>' in snippet
    assert "<mark>流模型</mark>" in snippet
    assert "begin{aligned}" not in snippet  # too long to fit: left out, not cut


def test_search_snippet_marks_a_formula_holding_the_term():
    html = search.snippet(r"见 \(softmax(x)\) 一节", ["softmax"])
    assert html == r'见 <mark><span class="arithmatex">\(softmax(x)\)</span></mark> 一节'


def test_meta_description_keeps_tex_whole(db, client):
    post = PostFactory(body="字" * 190 + r"$\alpha+\beta+\gamma+\delta+\epsilon$" + "尾" * 50)
    html = client.get(post.get_absolute_url()).content.decode()
    description = html.split('<meta name="description" content="')[1].split('"')[0]
    assert description == "字" * 190 + "…"


def test_admin_comment_list_shows_math(db, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    CommentFactory(post=PostFactory(), body=r"评论 $e^{i\pi}+1=0$ 很美")
    html = client.get(reverse("admin:comments_comment_changelist")).content.decode()
    assert r'<span class="arithmatex">\(e^{i\pi}+1=0\)</span>' in html
    assert "js/math.js" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sidebar_and_search_snippets_typeset_their_math(live_server, page):
    post = PostFactory(title="求和", body="开头。" * 30 + r"和为 \(\sum_{k=1}^{12} k\) 的流模型。")
    CommentFactory(post=post, body=r"所以 $\sum_{k=1}^{12} k = 78$ 对吗")
    CommentFactory(post=post, body=r"由式 $\eqref{eq:sum}$ 可知")
    page.goto(f"{live_server.url}/search/流模型/")
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length >= 2")
    snippet = page.locator(".search-snippet")
    assert snippet.locator("mjx-container").count() == 1
    assert "\\sum" not in snippet.inner_text()
    sidebar = page.locator(".recent-comments")
    assert sidebar.locator("mjx-container").count() == 2
    assert "\\sum" not in sidebar.inner_text()
    assert "???" not in sidebar.inner_text()  # the label is in an article, not here
    assert page.locator("mjx-merror").count() == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_without_math_do_not_load_mathjax(live_server, page):
    PostFactory(title="平凡", body="没有公式。")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    assert not [url for url in requests if "/vendor/mathjax/" in url]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_comment_list_typesets_math(live_server, browser, client):
    from django.conf import settings

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    CommentFactory(post=PostFactory(), body=r"评论 $e^{i\pi}+1=0$ 很美")
    context = browser.new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(live_server.url + reverse("admin:comments_comment_changelist"))
    page.wait_for_function("() => document.querySelector('#result_list mjx-container')")
    assert "\\pi" not in page.locator("#result_list").inner_text()
    context.close()
