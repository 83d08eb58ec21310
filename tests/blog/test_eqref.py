"""\\eqref links: real anchors in articles, and from comments to the article's equations."""

import pytest

from tests.blog.test_browser import typeset
from tests.factories import CommentFactory, PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTICLE = (
    "\\begin{equation}a=b\\label{eq:first}\\end{equation}\n"
    "\\begin{equation}c=d\\label{eq:second}\\end{equation}\n"
    "见式$\\eqref{eq:second}$。"
)


def test_eqref_in_an_article_is_a_real_anchor(live_server, page):
    post = PostFactory(body=ARTICLE)
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    link = page.locator(".post-body p a[href^='#']").last
    target = link.get_attribute("href")[1:]
    assert link.inner_text().strip() == "(2)"
    assert page.evaluate("id => !!document.getElementById(decodeURIComponent(id))", target)


def test_eqref_in_a_comment_links_to_the_articles_equation(live_server, page):
    post = PostFactory(body=ARTICLE)
    CommentFactory(post=post, body="式$\\eqref{eq:first}$是怎么来的？")
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    body = page.locator(".comment-body").first
    assert "???" not in body.inner_text()
    link = body.locator("a[href^='#']").first
    assert link.inner_text().strip() == "(1)"
    target = link.get_attribute("href")[1:]
    assert page.evaluate(
        "id => document.querySelector('.post-body')"
        ".contains(document.getElementById(decodeURIComponent(id)))",
        target,
    )


def test_a_comment_keeps_its_own_labels_and_numbers(live_server, page):
    post = PostFactory(body=ARTICLE)
    CommentFactory(
        post=post,
        body="\\begin{equation}x=y\\label{eq:first}\\end{equation}\n\n"
        "我的式$\\eqref{eq:first}$与文中式$\\eqref{eq:second}$。",
    )
    page.goto(live_server.url + post.get_absolute_url())
    typeset(page)
    body = page.locator(".comment-body").first
    assert page.locator("mjx-merror").count() == 0
    links = body.locator("a[href^='#']")
    assert [links.nth(i).inner_text().strip() for i in range(links.count())] == ["(1)", "(2)"]
    own, article = (links.nth(i).get_attribute("href") for i in range(2))
    assert own.startswith("#mjx-eqn%3Acomment-body-")
    assert article.startswith("#mjx-eqn%3Apost-")
