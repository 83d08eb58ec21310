from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest

from blog.rendering import Profile, TocEntry, plain_text, render_markdown, sanitize_html

COMMENT = Profile.COMMENT


class _Collector(HTMLParser):
    """Elements as (tag, attrs, text content), text read through the browser's entity decoding."""

    VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.open: list[tuple[str, dict, list[str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        element = (tag, dict(attrs), [])
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for element in self.open:
            element[2].append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _elements(html: str, tag: str | None = None, cls: str | None = None) -> list[tuple]:
    return [
        (t, attrs, "".join(text))
        for t, attrs, text in _parse(html).elements
        if (tag is None or t == tag) and (cls is None or cls in (attrs.get("class") or "").split())
    ]


def _math(html: str) -> list[tuple[str, str]]:
    return [(tag, text) for tag, _, text in _elements(html, cls="arithmatex")]


def _text(html: str) -> str:
    return "".join(_parse(html).text)


# --- Math survives byte for byte -----------------------------------------------------------------

LONG = r"\mathcal{L}=\sum_{i=1}^n \Vert x_i - \boldsymbol{y}_{[:, :r]}\Vert^2 \lt 1"
SYMBOLS = r"a_1*b_2*c < d_{[a]} & \{e\} \gt f, [x](y) \\ g"
ALIGNED = (
    r"\begin{equation}\begin{aligned}a &= b\\ c&=\left\{ d \right.\end{aligned}"
    r"\label{eq:1}\end{equation}"
)
ENVIRONMENTS = [
    ALIGNED,
    r"\begin{equation*}E = mc^2 \tag{1}\end{equation*}",
    "\\begin{align}\nx_1 &= \\mathop{\\text{argmin}}_{\\theta} f(\\theta) \\\\\n"
    "y_2 &< z_{[:, :r]} \\label{eq:2}\n\\end{align}",
    r"\begin{align*}a*b &= c*d\\ e_1 &\gt f_2 & g<h\end{align*}",
    r"\begin{gather}\left[\begin{array}{cc}1 & 2\\3 & 4\end{array}\right]\end{gather}",
    r"\begin{multline}a+b+c\\+d+e_{i}\end{multline}",
]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"inline ${LONG}$ end", [("span", rf"\({LONG}\)")]),
        (f"inline ${SYMBOLS}$ end", [("span", rf"\({SYMBOLS}\)")]),
        (rf"round \({SYMBOLS}\) end", [("span", rf"\({SYMBOLS}\)")]),
        (
            r"see $\eqref{eq:1}$ and $\boldsymbol{x}_{\theta}$",
            [
                ("span", r"\(\eqref{eq:1}\)"),
                ("span", r"\(\boldsymbol{x}_{\theta}\)"),
            ],
        ),
        (f"$${LONG}$$", [("div", rf"\[{LONG}\]")]),
        (f"$$\n{SYMBOLS}\n$$", [("div", f"\\[\n{SYMBOLS}\n\\]")]),
        (rf"\[{SYMBOLS}\]", [("div", rf"\[{SYMBOLS}\]")]),
        *[(env, [("div", env)]) for env in ENVIRONMENTS],
        (f"before\n\n{ENVIRONMENTS[2]}\n\nafter", [("div", ENVIRONMENTS[2])]),
        (
            f"由此我们得到\n$${LONG}$$\n其中$x_i$是……\n{ALIGNED}\n见式$\\eqref{{eq:1}}$。",
            [
                ("div", rf"\[{LONG}\]"),
                ("span", r"\(x_i\)"),
                ("div", ALIGNED),
                ("span", r"\(\eqref{eq:1}\)"),
            ],
        ),
        (
            f"text\n{ENVIRONMENTS[3]}\nmore\n\\[{SYMBOLS}\\]\nend",
            [
                ("div", ENVIRONMENTS[3]),
                ("div", rf"\[{SYMBOLS}\]"),
            ],
        ),
        (
            f"mid-line $${SYMBOLS}$$ and \\[x_1\\] too",
            [
                ("span", rf"\[{SYMBOLS}\]"),
                ("span", r"\[x_1\]"),
            ],
        ),
        (f"- item\n  $${LONG}$$\n  more", [("div", rf"\[{LONG}\]")]),
        (f"> quote\n> {ALIGNED}\n> more", [("div", ALIGNED)]),
        (r"literal \$ sign and $a\$b$", [("span", r"\(a\$b\)")]),
        (r"entity-looking $a &amp; b &nbsp;$", [("span", r"\(a &amp; b &nbsp;\)")]),
    ],
)
@pytest.mark.parametrize("profile", list(Profile))
def test_render_markdown_math_survives_byte_for_byte(
    source: str, expected: list[tuple[str, str]], profile: Profile
) -> None:
    rendered = render_markdown(source, profile)

    assert _math(rendered.html) == expected
    assert rendered.has_math


def test_render_markdown_display_math_splits_its_paragraph() -> None:
    html = render_markdown(f"由此我们得到\n$${LONG}$$\n其中$x_i$是……").html

    paragraphs = [text for _, _, text in _elements(html, "p")]
    assert paragraphs == ["由此我们得到", r"其中\(x_i\)是……"]


def test_render_markdown_literal_dollars_are_not_math() -> None:
    rendered = render_markdown(r"costs $5 and $10 each, and \$3 more")

    assert _math(rendered.html) == []
    assert "costs $5 and $10 each, and $3 more" in _text(rendered.html)
    assert not rendered.has_math


def test_render_markdown_math_in_code_stays_code() -> None:
    html = render_markdown(
        "use `$x_1$` or\n\n```\n$$a_b$$ \\(c\\)\n\\begin{equation}x\\end{equation}\n```"
    ).html

    assert _math(html) == []
    codes = [text for _, _, text in _elements(html, "code")]
    assert codes == ["$x_1$", "$$a_b$$ \\(c\\)\n\\begin{equation}x\\end{equation}\n"]


@pytest.mark.parametrize(
    "source",
    [
        "$",
        "$$",
        "$$$",
        "a $b",
        "$$ a\n\nb $$",
        "\\begin{equation} x",
        "\\begin{equation} x \\end{align}",
        "\\(",
        "\\[ a",
        "\\end{equation}",
        "\\begin{equation}\n" * 50,
    ],
)
def test_render_markdown_unbalanced_math_is_kept_as_text(source: str) -> None:
    html = render_markdown(source).html

    assert _math(html) == []
    assert _text(html).strip()


# --- Markdown features ---------------------------------------------------------------------------


def test_render_markdown_excerpt_splits_at_more_marker() -> None:
    rendered = render_markdown("第一段 $x<y$\n\n<!--more-->\n\n第二段")

    assert "第一段" in rendered.excerpt_html
    assert "第二段" not in rendered.excerpt_html
    assert _math(rendered.excerpt_html) == [("span", r"\(x<y\)")]
    assert "第二段" in rendered.html
    assert "<!--" not in rendered.html + rendered.excerpt_html


def test_render_markdown_excerpt_without_marker_takes_whole_blocks() -> None:
    paragraphs = [f"段落{i} " + "字" * 96 for i in range(5)]

    excerpt = render_markdown("\n\n".join(paragraphs), excerpt_length=250).excerpt_html

    assert [text for _, _, text in _elements(excerpt, "p")] == paragraphs[:3]


def test_render_markdown_excerpt_has_at_least_one_paragraph() -> None:
    excerpt = render_markdown("## 标题\n\n" + "长" * 1000 + "\n\n第二段").excerpt_html

    assert [tag for tag, _, _ in _elements(excerpt) if tag in {"h2", "p"}] == ["h2", "p"]
    assert "长" * 1000 in excerpt


def test_render_markdown_excerpt_of_short_post_leaves_out_footnotes() -> None:
    rendered = render_markdown("正文[^1]\n\n[^1]: 注释")

    assert "注释" in rendered.html
    assert "注释" not in rendered.excerpt_html
    assert "正文" in rendered.excerpt_html


def test_render_markdown_image_paragraph_becomes_linked_figure() -> None:
    html = render_markdown("![一张图](/media/a.png)\n\n行内 ![小图](/media/b.png) 图").html

    (figure,) = _elements(html, "figure")
    assert _elements(html, "figcaption")[0][2] == "一张图"
    (link,) = _elements(html, "a")
    assert link[1] == {"href": "/media/a.png"}
    images = [attrs for _, attrs, _ in _elements(html, "img")]
    assert images == [
        {"alt": "一张图", "src": "/media/a.png"},
        {"alt": "小图", "src": "/media/b.png"},
    ]
    assert (
        html.index("<figure>") < html.index("<a") < html.index("<img") < html.index("<figcaption")
    )


def test_render_markdown_chinese_headings_get_unique_stable_ids_and_permalinks() -> None:
    source = "## 可逆ResNet\n\n## 可逆ResNet\n\n## ……\n\n## 关于$x^2$的讨论"

    html = render_markdown(source).html

    ids = [attrs["id"] for _, attrs, _ in _elements(html, "h2")]
    assert ids[0] == "可逆resnet"
    assert all(ids)
    assert len(set(ids)) == 4
    assert ids == [attrs["id"] for _, attrs, _ in _elements(render_markdown(source).html, "h2")]
    links = _elements(html, "a", "headerlink")
    assert [(attrs["href"], text) for _, attrs, text in links] == [(f"#{i}", "#") for i in ids]


def test_render_markdown_toc_lists_headings_in_order() -> None:
    toc = render_markdown("# 引言\n\n## 可逆ResNet\n\n### 关于$x^2$的讨论\n\n## A & B").toc

    assert toc == [
        TocEntry(1, "引言", "引言"),
        TocEntry(2, "可逆resnet", "可逆ResNet"),
        TocEntry(3, "关于x2的讨论", r"关于\(x^2\)的讨论"),
        TocEntry(2, "a--b", "A & B"),
    ]


def test_render_markdown_highlights_code_with_classes() -> None:
    html = render_markdown('```python\ndef f(x):\n    return "<b>"\n```').html

    assert _elements(html, "div", "highlight")
    assert ("span", {"class": "k"}, "def") in _elements(html, "span")
    assert "style=" not in html
    assert '"<b>"' in _text(html)


def test_render_markdown_tables() -> None:
    html = render_markdown("| a | b |\n|---|:-:|\n| 1 | $x_1$ |").html

    assert [text for _, _, text in _elements(html, "th")] == ["a", "b"]
    assert [(attrs, text) for _, attrs, text in _elements(html, "td")] == [
        ({}, "1"),
        ({"align": "center"}, r"\(x_1\)"),
    ]


def test_render_markdown_footnotes() -> None:
    html = render_markdown("正文[^note]\n\n[^note]: 注释 $x$").html

    assert _elements(html, "sup")[0][1] == {"id": "fnref:note"}
    assert _elements(html, "a", "footnote-ref")[0][1]["href"] == "#fn:note"
    (note,) = [el for el in _elements(html, "li") if el[1].get("id") == "fn:note"]
    assert r"注释 \(x\)" in note[2]
    assert _elements(html, "a", "footnote-backref")[0][1]["href"] == "#fnref:note"


def test_plain_text_keeps_tex_and_drops_markup() -> None:
    html = render_markdown("## 标题\n\n$x<y$ 和 **粗体**[^1]\n\n[^1]: 注").html

    assert plain_text(html) == r"标题 \(x<y\) 和 粗体"
    assert plain_text("<p>a</p><script>evil()</script><p>b &amp; c</p>") == "a b & c"


# --- Sanitising ----------------------------------------------------------------------------------


def _urls(html: str) -> list[str]:
    return [
        value
        for _, attrs, _ in _elements(html)
        for name, value in attrs.items()
        if name in {"href", "src"}
    ]


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "<javascript:alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="jav&#10;ascript:alert(1)">x</a>',
        '<a href=" &#106;avascript:alert(1)">x</a>',
        '<img src="data:image/png;base64,AAAA">',
        "<a href='vbscript:x'>x</a>",
    ],
)
@pytest.mark.parametrize("profile", list(Profile))
def test_render_markdown_drops_dangerous_urls(source: str, profile: Profile) -> None:
    html = render_markdown(source, profile).html

    assert all(url.startswith(("/", "#", "http:", "https:", "mailto:")) for url in _urls(html))


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<p>x</p><style>p{}</style>", "<style"),
        ("<img src=/a.png onerror=alert(1)>", "onerror"),
        ('<p onclick="alert(1)">x</p>', "onclick"),
        ('<svg onload="alert(1)"></svg>', "onload"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<object data="x.swf"></object><embed src="x.swf">', "<object"),
        ('<form action="/x"><input name="a"><button>go</button></form>', "<form"),
        ('<form action="/x"><input name="a"></form>', "<input"),
        ('<meta http-equiv="refresh" content="0;url=//evil">', "<meta"),
        ('<base href="//evil/">', "<base"),
    ],
)
def test_sanitize_html_removes_active_content(source: str, forbidden: str) -> None:
    assert forbidden not in render_markdown(source).html.lower()
    assert forbidden not in sanitize_html(source).lower()


def test_sanitize_html_keeps_allowed_styles_and_drops_others() -> None:
    html = sanitize_html(
        '<span style="font-size:90%; position:fixed; color: red">小</span>'
        '<img src="/a.png" style="width:400px; background:url(javascript:x)">'
        '<p style="text-align:center; behavior:url(x.htc)">c</p>'
    )

    styles = [attrs.get("style") for _, attrs, _ in _elements(html) if attrs.get("style")]
    assert styles == ["font-size:90%; color: red;", "width:400px;", "text-align:center;"]


def test_sanitize_html_keeps_pipeline_markup() -> None:
    source = (
        "## 标题\n\n正文 $x_1$[^1]\n\n$$y$$\n\n```python\nx = 1\n```\n\n"
        "![图](/a.png)\n\n| a |\n|---|\n| <sub>1</sub><sup>2</sup> |\n\n[^1]: 注"
    )
    html = render_markdown(source).html

    assert {tag for tag, _, _ in _elements(html)} >= {
        "h2",
        "a",
        "span",
        "div",
        "sup",
        "sub",
        "figure",
        "figcaption",
        "img",
        "table",
        "pre",
        "code",
    }
    classes = {attrs.get("class") for _, attrs, _ in _elements(html)}
    assert classes >= {"headerlink", "arithmatex", "highlight", "footnote", "footnote-ref"}
    assert {attrs.get("id") for _, attrs, _ in _elements(html)} >= {"标题", "fnref:1", "fn:1"}


def test_sanitize_html_keeps_allowed_markup_unchanged() -> None:
    source = (
        "<ul><li><em>a</em>b</li><li><em>c</em><ol><li><b>d</b></li></ol></li></ul>"
        "<p>x<b>y<i>z</i></b>w</p><table><tbody><tr><td><sub>1</sub></td><td>2</td></tr>"
        "</tbody></table><blockquote><p>q</p><p><code>c</code></p></blockquote>"
    )

    assert sanitize_html(source) == source
    assert sanitize_html(source, COMMENT) == source


def test_sanitize_html_long_lists_survive_intact() -> None:
    source = "<ul>" + "<li><em>x</em> y</li>" * 20_000 + "</ul>"

    assert sanitize_html(source) == source


def test_sanitize_html_is_thread_safe() -> None:
    sources = [f"<p>段落 {i} <b>粗</b><script>x</script></p>" * 50 for i in range(40)]
    expected = [sanitize_html(source) for source in sources]

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(sanitize_html, sources)) == expected


# --- Comments ------------------------------------------------------------------------------------


def test_render_markdown_comment_has_no_images() -> None:
    html = render_markdown("![图](/a.png)\n\n<img src=/b.png>", COMMENT).html

    assert "<img" not in html
    assert _elements(html, "a")[0][1]["href"] == "/a.png"
    assert "<img src=/b.png>" in _text(html)


def test_render_markdown_comment_has_no_headings() -> None:
    html = render_markdown("# 1楼\n\n标题\n===\n\n<h2>raw</h2>", COMMENT).html

    assert not any(tag.startswith("h") and tag[1:].isdigit() for tag, _, _ in _elements(html))
    assert "# 1楼" in _text(html)
    assert "<h2" not in sanitize_html("<h2>raw</h2>", COMMENT)
    assert "raw" in sanitize_html("<h2>raw</h2>", COMMENT)


def test_sanitize_html_comment_drops_style_and_foreign_classes() -> None:
    html = sanitize_html(
        '<span style="color:red" class="arithmatex">\\(x\\)</span>'
        '<span class="evil arithmatex">y</span>'
        '<div class="highlight"><span class="k">k</span></div>'
        '<p class="k">z</p>',
        COMMENT,
    )

    assert [attrs for _, attrs, _ in _elements(html)] == [
        {"class": "arithmatex"},
        {},
        {"class": "highlight"},
        {"class": "k"},
        {},
    ]


def test_render_markdown_comment_links_get_rel() -> None:
    source = "[a](https://a.example) <https://b.example> [comment=7]李四[/comment]"

    html = render_markdown(source, COMMENT).html

    rels = [attrs.get("rel") for _, attrs, _ in _elements(html, "a")]
    assert rels == ["nofollow ugc noopener"] * 3
    assert "nofollow" in sanitize_html('<a href="/x" rel="me">x</a>', COMMENT)


def test_render_markdown_comment_quote() -> None:
    html = render_markdown("[comment=123]张三[/comment] 说得对", COMMENT).html

    (link,) = _elements(html, "a")
    assert link == (
        "a",
        {"href": "/comments/123", "class": "comment-quote", "rel": "nofollow ugc noopener"},
        "@张三",
    )


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", '" onmouseover="x', "&lt;b&gt;", "a*b*_c_"]
)
def test_render_markdown_comment_quote_escapes_hostile_name(name: str) -> None:
    html = render_markdown(f"[comment=1]{name}[/comment]", COMMENT).html

    (link,) = _elements(html, "a")
    assert link[2] == f"@{name}"
    assert "<script" not in html
    assert "onmouseover" not in link[1]


@pytest.mark.parametrize(
    "source", ["[comment=12a]x[/comment]", "[comment=-1]x[/comment]", "[comment=1]  [/comment]"]
)
def test_render_markdown_comment_quote_needs_digit_id_and_name(source: str) -> None:
    assert "comment-quote" not in render_markdown(source, COMMENT).html


def test_render_markdown_comment_quote_only_in_comments() -> None:
    assert "comment-quote" not in render_markdown("[comment=1]x[/comment]").html


# --- Hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\x00",
        "a\x00b $x\x00$ \x01\x02\x03\x7f",
        "<div><span><p>unclosed",
        "</p></div></span>",
        "<<<>>><!--",
        "<![CDATA[x]]><?php echo 1 ?>",
        "```\nunclosed fence",
        "| a |\n|---|\n| b | c | d |",
        "[^1] [^nope]\n\n[^1]:",
        "".join("    " * i + "- x\n" for i in range(300)),
        "> " * 2000 + "x",
        "<div>" * 2000 + "x",
        "* " * 5000 + "x",
        "[" * 500 + "]" * 10,
        "$" * 5000,
        "\\" * 5001,
    ],
)
@pytest.mark.parametrize("profile", list(Profile))
def test_render_markdown_survives_hostile_input(source: str, profile: Profile) -> None:
    rendered = render_markdown(source, profile)

    assert isinstance(rendered.html, str)
    assert "\x00" not in rendered.html
    assert "<script" not in rendered.html


def test_render_markdown_nul_becomes_replacement_character() -> None:
    assert "a\ufffdb" in render_markdown("a\x00b").html


def test_render_markdown_deep_nesting_falls_back_to_text() -> None:
    source = "".join("    " * i + f"- item{i}\n" for i in range(300))

    rendered = render_markdown(source)

    assert "item299" in rendered.html


@pytest.mark.parametrize(
    "source",
    [
        "\\( a " * 20_000,
        "\\[ a " * 20_000,
        "\\begin{x}\n$$y$$\n" * 10_000,
        "".join(f"\\begin{{e{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}}}\n" for i in range(5_000)),
        "$$a\n" * 25_000,
    ],
)
def test_render_markdown_unclosed_math_completes(source: str) -> None:
    assert render_markdown(source).html.strip()


@pytest.mark.parametrize("source", ["[" * 20_000, "[[[[[[[[[]" * 2_000, "[a](" * 5_000])
def test_render_markdown_unclosed_brackets_complete(source: str) -> None:
    assert "[" in render_markdown(source, COMMENT).html


def test_render_markdown_links_keep_nested_brackets_and_long_targets() -> None:
    long_url = "https://example.com/" + "a" * 1500
    source = f"[x [y] z](https://a.example/(b)) [long]({long_url} 'T') ![i](/a.png \"t\") x"

    links = [(attrs, text) for _, attrs, text in _elements(render_markdown(source).html, "a")]

    assert links == [
        ({"href": "https://a.example/(b)"}, "x [y] z"),
        ({"href": long_url, "title": "T"}, "long"),
    ]


def test_render_markdown_one_megabyte_post_renders_whole() -> None:
    section = (
        "## 第{i}节\n\n由此我们得到\n$$\\sum_{{i=1}}^n x_i^2 \\lt 1$$\n其中$x_i$是**变量**，"
        "见[链接](https://kexue.fm/archives/{i})。这是一段比较长的文字，用来模拟真实的文章，"
        "其中包含公式$\\boldsymbol{{y}}_{{[:, :r]}}$和说明。\n\n- 项目 $a_{i}$\n- 项目\n\n"
    )
    extra = "```python\nprint({i})\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    parts = [section.format(i=i) + (extra.format(i=i) if i % 10 == 0 else "") for i in range(5500)]
    source = "".join(parts)
    assert len(source) > 1_000_000

    rendered = render_markdown(source)
    assert len(rendered.toc) == len(parts)
