import pytest

from blog.rendering import Profile, render_markdown, sanitize_html


@pytest.mark.parametrize(
    "style",
    [
        "width: expression(alert(1))",
        "width: EXPRESSION(alert(1))",
        "width: expr\\65ssion(alert(1))",
        "background-color: url(javascript:alert(1))",
        "background-color: url('https://tracker.example/p.gif')",
        'font-family: "javascript:alert(1)"',
        "color: var(--anything)",
        "background-color: -moz-element(#x)",
        "color: rgb(expression(1), 0, 0)",
    ],
)
def test_style_values_that_fetch_or_run_something_are_dropped(style):
    html = sanitize_html(f"<span style='color: red; {style}'>x</span>")
    assert html == '<span style="color: red;">x</span>'


@pytest.mark.parametrize(
    "style",
    [
        "color: rgb(10, 20, 30);",
        "width: calc(100% - 2em);",
        'font-family: "Noto Serif", serif;',
        "margin: 0 auto !important;",
    ],
)
def test_ordinary_style_values_stay(style):
    quote = "'" if '"' in style else '"'
    html = f"<span style={quote}{style}{quote}>x</span>"
    assert sanitize_html(html) == html


MACROS = (
    r"$\style{color:red}{x} + \class{evil}{y} + \data{a=1}{z} + \cssId{i}{v}"
    r" + \href{javascript:alert(1)}{w} + \require{html} + \styled$"
)


def test_comments_show_mathjax_html_macros_as_text():
    html = render_markdown(MACROS, Profile.COMMENT).html
    for name in ("style", "class", "data", "cssId", "href", "require"):
        assert f"\\{name}{{" not in html
        assert f"\\backslash\\mathrm{{{name}}}{{" in html
    assert "\\styled" in html  # another macro, only starting alike


def test_posts_keep_mathjax_html_macros():
    html = render_markdown(MACROS, Profile.POST).html
    assert "\\style{color:red}{x}" in html
    assert "\\class{evil}{y}" in html
