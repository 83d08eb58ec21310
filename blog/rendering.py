"""The one Markdown → HTML pipeline, shared by posts, comments and previews."""

import html
import re
import threading
import xml.etree.ElementTree as etree
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from html.parser import HTMLParser
from typing import NamedTuple

import tinycss2
from bleach.css_sanitizer import CSSSanitizer
from bleach.html5lib_shim import Filter, getTreeWalker
from bleach.sanitizer import Cleaner
from django.conf import settings
from django.utils.module_loading import import_string
from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE, AtomicString
from pygments.token import STANDARD_TYPES
from pymdownx import arithmatex, slugs

MORE_MARKER = "<!--more-->"
# Comment the pipeline inserts where the automatic excerpt ends; an author's <!--more--> wins.
_AUTO_MARKER_TEXT = "spaces:excerpt"
COMMENT_QUOTE_URL = "/comments/{}"
COMMENT_LINK_REL = "nofollow ugc noopener"


class Profile(StrEnum):
    """How much the author is trusted: staff posts, or visitors' comments."""

    POST = "post"
    COMMENT = "comment"


class TocEntry(NamedTuple):
    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class ImageSources:
    """The copies of an image an article may show instead of the file its Markdown names."""

    src: str
    srcset: str
    sizes: str
    width: int
    height: int


# Given the `src` of every image of a post, the sources of those it knows (one lookup per post).
ImageSourcesLookup = Callable[[Collection[str]], Mapping[str, ImageSources]]


@dataclass(frozen=True)
class Rendered:
    """Sanitised output of render_markdown()."""

    html: str
    excerpt_html: str
    toc: list[TocEntry]
    has_math: bool


# --- Markdown extensions -------------------------------------------------------------------------

# A display-math opener at the start of a line; group 1 is the delimiter, for the failure memo.
_DISPLAY_START_RE = re.compile(r"^[ \t]*(\$\$|\\\[|\\begin\{[a-z]+\*?\})", re.MULTILINE)
# Arithmatex's own block patterns, used unanchored: arithmatex only accepts a block that is
# nothing but math, while authors put display math inside paragraphs without blank lines.
_DISPLAY_RE = re.compile(
    "|".join((arithmatex.RE_DOLLAR_BLOCK, arithmatex.RE_BRACKET_BLOCK, arithmatex.RE_TEX_BLOCK)),
    re.DOTALL,
)
# Each unclosed opener costs a scan to the end of its block; give up after this many.
_MAX_FAILED_OPENERS = 16
_CONTAINER_START_RE = re.compile(r"[ ]{0,3}(?:(?:[*+-]|\d+\.)(?:[ \t]|$)|>)", re.MULTILINE)
# Inline patterns in the group layout of arithmatex's (escaped backslashes | opener, math), for
# its InlineArithmatexPattern. Arithmatex's own \(…\) lets math contain \(, so every unclosed \(
# rescans the rest of the paragraph (quadratic; 40 KB took 6 s); here math cannot contain its
# opener. $$…$$ and \[…\] mid-line would otherwise become $\(…\)$ and an escaped [.
_ROUND_INLINE_RE = (
    r"(?:(?<!\\)((?:\\{2})+?)(?=\\\()|(?<!\\)(\\\()((?:\\[^()]|[^\\\x02\x03])+?)\\\))"
)
_DISPLAY_INLINE_RE = (
    r"(?:(?<!\\)((?:\\{2})+)(?=\$\$)|(?<!\\)(\$\$)((?:\\.|[^\\$\x02\x03]|\$(?!\$))+?)\$\$)"
    r"|(?:(?<!\\)((?:\\{2})+?)(?=\\\[)|(?<!\\)(\\\[)((?:\\[^\[\]]|[^\\\x02\x03])+?)\\\])"
)
_COMMENT_QUOTE_RE = (
    r"\[comment=(\d{1,18})\][ \t]*([^\[\]\s\x02\x03][^\[\]\n\x02\x03]{0,63})\[/comment\]"
)
# Python-Markdown scans to the end of the paragraph for the `]` and `)` closing every `[` and
# `](` (upstream issue #798): 10 KB of `[` took 26 s. Nesting and link targets are bounded here.
_LINK_PROCESSORS = ["reference", "link", "image_link", "image_reference"]
_LINK_PROCESSORS += ["short_reference", "short_image_ref"]
_MAX_BRACKET_DEPTH = 16
_LINK_TARGET_WINDOW = 2000
_BRACKET_RE = re.compile(r"[\[\]]")


def _link_text(data: str, index: int) -> tuple[str, int, bool]:
    """LinkInlineProcessor.getText, giving up at a bracket depth no link text reaches."""
    depth = 1
    for bracket in _BRACKET_RE.finditer(data, index):
        depth += 1 if bracket.group() == "[" else -1
        if depth == 0:
            return data[index : bracket.start()], bracket.end(), True
        if depth > _MAX_BRACKET_DEPTH:
            break
    return "", index, False


def _windowed_link(get_link: Callable, data: str, index: int) -> tuple[str, str | None, int, bool]:
    """LinkInlineProcessor.getLink on the next few thousand characters only."""
    href, title, end, handled = get_link(data[index : index + _LINK_TARGET_WINDOW], 0)
    return href, title, index + end, handled


def _next_display_math(block: str, pos: int, failed: set[str]) -> tuple[int, re.Match] | None:
    """Find the next closed display math starting a line at or after pos."""
    for start in _DISPLAY_START_RE.finditer(block, pos):
        opener = start.group(1)
        if opener in failed:
            continue  # it found no closer from an earlier position, so none from here
        if match := _DISPLAY_RE.match(block, start.start(1)):
            return start.start(), match
        failed.add(opener)
        if len(failed) > _MAX_FAILED_OPENERS:
            return None
    return None


class _DisplayMathProcessor(BlockProcessor):
    """Give display math that starts a line a block of its own, splitting its paragraph."""

    def test(self, parent: etree.Element, block: str) -> bool:
        # List items and quotes re-parse their content, math included, once unwrapped.
        return not _CONTAINER_START_RE.match(block) and bool(_next_display_math(block, 0, set()))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        block, pos, failed = blocks.pop(0), 0, set()
        while found := _next_display_math(block, pos, failed):
            start, match = found
            if before := block[pos:start].strip():
                self.parser.parseBlocks(parent, [before])
            math = match.group(0)
            if not math.startswith("\\begin"):
                math = f"\\[{match.group('math') or match.group('math3')}\\]"
            etree.SubElement(parent, "div", {"class": "arithmatex"}).text = AtomicString(math)
            pos = match.end()
        if rest := block[pos:].strip():
            self.parser.parseBlocks(parent, [rest])


class _CommentQuoteProcessor(InlineProcessor):
    def handleMatch(self, m: re.Match, data: str) -> tuple[etree.Element, int, int]:
        el = etree.Element("a", {"href": COMMENT_QUOTE_URL.format(int(m.group(1)))})
        el.set("class", "comment-quote")
        # Escaped here because the serializer would pass `&amp;` in a name through as an entity.
        el.text = AtomicString(f"@{html.escape(m.group(2).rstrip(), quote=False)}")
        return el, m.start(0), m.end(0)


# MathJax macros that put attributes, styles or links into the page (its html extension,
# \href) or load extensions: authors may use them (ui/safe filters what they set), visitors not.
_COMMENT_REFUSED_MACRO_RE = re.compile(r"\\(data|style|class|cssId|href|require)(?![A-Za-z])")


class _MathTextProcessor(Treeprocessor):
    """Escape math text so the serializer cannot read `&name;` in TeX as an entity; in comments,
    show the refused macros as text instead of running them."""

    def __init__(self, md: Markdown, profile: Profile) -> None:
        super().__init__(md)
        self.profile = profile

    def run(self, root: etree.Element) -> None:
        for el in root.iter():
            if "arithmatex" in el.get("class", "").split() and el.text:
                text = el.text
                if self.profile is Profile.COMMENT:
                    text = _COMMENT_REFUSED_MACRO_RE.sub(r"\\backslash\\mathrm{\1}", text)
                el.text = AtomicString(html.escape(text, quote=False))
                self.md.spaces_has_math = True


class _FigureProcessor(Treeprocessor):
    """Turn a paragraph holding only an image into a linked figure, captioned with the image's
    title (`![alt](src "caption")`) or else its alt text."""

    def run(self, root: etree.Element) -> None:
        for p in list(root.iter("p")):
            img = p[0] if len(p) == 1 else None
            if (
                img is None
                or img.tag != "img"
                or (p.text or "").strip()
                or (img.tail or "").strip()
            ):
                continue
            src, caption = img.get("src", ""), img.attrib.pop("title", "") or img.get("alt", "")
            p.remove(img)
            p.tag, p.text = "figure", None
            img.tail = None
            link = etree.SubElement(p, "a", {"href": src})
            link.append(img)
            if caption:
                etree.SubElement(p, "figcaption").text = AtomicString(caption)


class _ImageSourcesProcessor(Treeprocessor):
    """Give images the smaller copies the lookup knows of, and their size against layout shifts."""

    def __init__(self, md: Markdown, lookup: ImageSourcesLookup) -> None:
        super().__init__(md)
        self.lookup = lookup

    def run(self, root: etree.Element) -> None:
        images = [img for img in root.iter("img") if img.get("src")]
        if not images:
            return
        sources = self.lookup({img.get("src") for img in images})
        for img in images:
            if found := sources.get(img.get("src")):
                img.set("src", found.src)
                if found.srcset:
                    img.set("srcset", found.srcset)
                    img.set("sizes", found.sizes)
                img.set("width", str(found.width))
                img.set("height", str(found.height))
                img.set("loading", "lazy")
                img.set("decoding", "async")


class _ImageToLinkProcessor(Treeprocessor):
    """Comments may not embed images; link to them instead."""

    def run(self, root: etree.Element) -> None:
        for img in list(root.iter("img")):
            src, alt = img.get("src", ""), img.get("alt", "")
            img.tag, img.attrib = "a", {"href": src}
            img.text = AtomicString(alt or src)


class _ExcerptProcessor(Treeprocessor):
    """Mark where the automatic excerpt ends: after whole top-level blocks, at least a paragraph."""

    def run(self, root: etree.Element) -> None:
        length, seen_paragraph = 0, False
        for index, child in enumerate(root):
            if child.tag == "div" and "footnote" in child.get("class", "").split():
                root.insert(index, etree.Comment(_AUTO_MARKER_TEXT))
                return
            length += self._text_length(child)
            seen_paragraph = seen_paragraph or child.tag == "p" or child.find(".//p") is not None
            if seen_paragraph and length >= self.md.spaces_excerpt_length:
                root.insert(index + 1, etree.Comment(_AUTO_MARKER_TEXT))
                return

    def _text_length(self, el: etree.Element) -> int:
        stash = self.md.htmlStash.rawHtmlBlocks
        text = "".join(el.itertext())
        return len(HTML_PLACEHOLDER_RE.sub(lambda m: plain_text(str(stash[int(m[1])])), text))


class _SpacesExtension(Extension):
    def __init__(
        self, profile: Profile, excerpt_length: int, image_sources: ImageSourcesLookup | None
    ) -> None:
        super().__init__()
        self.profile = profile
        self.excerpt_length = excerpt_length
        self.image_sources = image_sources

    def extendMarkdown(self, md: Markdown) -> None:
        md.spaces_has_math = False
        md.spaces_excerpt_length = self.excerpt_length
        md.parser.blockprocessors.register(_DisplayMathProcessor(md.parser), "display-math", 79.9)
        display = {"generic": True, "tex_inline_wrap": ["\\[", "\\]"]}
        md.inlinePatterns.register(
            arithmatex.InlineArithmatexPattern(_DISPLAY_INLINE_RE, display),
            "arithmatex-display",
            189.95,
        )
        md.inlinePatterns.register(
            arithmatex.InlineArithmatexPattern(_ROUND_INLINE_RE, {"generic": True}),
            "arithmatex-round",
            189.89,
        )
        for name in _LINK_PROCESSORS:
            processor = md.inlinePatterns[name]
            processor.getText = _link_text
            processor.getLink = partial(_windowed_link, processor.getLink)
        md.treeprocessors.register(_MathTextProcessor(md, self.profile), "math-text", 19)
        md.treeprocessors.register(_ExcerptProcessor(md), "excerpt", 4)
        if self.profile is Profile.POST:
            md.treeprocessors.register(_FigureProcessor(md), "figure", 18)
            if self.image_sources is not None:
                sources = _ImageSourcesProcessor(md, self.image_sources)
                md.treeprocessors.register(sources, "image-sources", 17)
            return
        # Comments: raw HTML is shown as text, and `#1楼` is not a heading.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.parser.blockprocessors.deregister("hashheader")
        md.parser.blockprocessors.deregister("setextheader")
        md.inlinePatterns.register(_CommentQuoteProcessor(_COMMENT_QUOTE_RE, md), "quote", 176)
        md.treeprocessors.register(_ImageToLinkProcessor(md), "image-to-link", 18)


def _markdown(
    profile: Profile, excerpt_length: int, image_sources: ImageSourcesLookup | None
) -> Markdown:
    extensions = [
        "tables",
        "pymdownx.superfences",
        "pymdownx.highlight",
        "pymdownx.arithmatex",
        _SpacesExtension(profile, excerpt_length, image_sources),
    ]
    if profile is Profile.POST:
        # Footnote and heading ids would collide between the many comments on one page.
        extensions += ["footnotes", "toc"]
    return Markdown(
        extensions=extensions,
        extension_configs={
            "tables": {"use_align_attribute": True},
            "pymdownx.highlight": {"use_pygments": True, "guess_lang": False},
            # Display math and \(…\) are registered by _SpacesExtension with arithmatex's pieces.
            "pymdownx.arithmatex": {
                "generic": True,
                "inline_syntax": ["dollar"],
                "block_syntax": [],
            },
            "toc": {"permalink": "#", "slugify": slugs.slugify(case="lower")},
        },
        output_format="html",
    )


def _toc_entries(tokens: list[dict]) -> Iterator[TocEntry]:
    for token in tokens:
        yield TocEntry(token["level"], token["id"], html.unescape(token["name"]))
        yield from _toc_entries(token["children"])


def render_markdown(
    source: str,
    profile: Profile = Profile.POST,
    *,
    excerpt_length: int = 300,
    image_sources: ImageSourcesLookup | None = None,
) -> Rendered:
    """Render Markdown with TeX to sanitised body and excerpt HTML.

    `image_sources` (posts only) tells which images have smaller copies for `srcset`."""
    md = _markdown(profile, excerpt_length, image_sources)
    source = source.replace("\x00", "\ufffd")
    try:
        body = md.convert(source)
        toc, has_math = list(_toc_entries(getattr(md, "toc_tokens", []))), md.spaces_has_math
    except RecursionError:
        # Python-Markdown recurses per nesting level; ~300 nested lists exhaust the stack.
        body, toc, has_math = f"<pre>{html.escape(source)}</pre>", [], False
    cut = body.find(MORE_MARKER)
    if cut < 0:
        cut = body.find(f"<!--{_AUTO_MARKER_TEXT}-->")
    clean = sanitize_html(body, profile)
    return Rendered(
        html=clean,
        # Without a cut the excerpt is the whole body: sanitising it again would cost as much.
        excerpt_html=clean if cut < 0 else sanitize_html(body[:cut], profile),
        toc=toc,
        has_math=has_math,
    )


def site_image_sources() -> ImageSourcesLookup | None:
    """The project's lookup of uploaded images (settings.SPACES_IMAGE_SOURCES), if it has one."""
    path = getattr(settings, "SPACES_IMAGE_SOURCES", "")
    return import_string(path) if path else None


# --- HTML bodies (imported from Typecho or WordPress) ---------------------------------------------

# TeX in an HTML body's text: display forms first, so `$$` is never read as two inline `$`.
_HTML_MATH_RE = re.compile(
    r"(?<!\\)\$\$(?P<dd>.+?)(?<!\\)\$\$"
    r"|\\\[(?P<sd>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<name>[a-zA-Z]+\*?)\}.+?\\end\{(?P=name)\})"
    r"|\\\((?P<si>.+?)\\\)"
    r"|(?<![\\$])\$(?P<di>[^\s$](?:[^$]*?[^\s$\\])?)\$(?!\d)",
    re.DOTALL,
)
_HTML_TAG_RE = re.compile(r"(<[^>]*>)")
# Text inside these is code or already math, never TeX to typeset.
_NO_MATH_TAGS = frozenset({"pre", "code", "kbd", "samp", "script", "style", "textarea"})


def _math_span(match: re.Match) -> str:
    if match["env"]:
        tex = match["env"]
    elif match["dd"] is not None or match["sd"] is not None:
        tex = f"\\[{match['dd'] if match['dd'] is not None else match['sd']}\\]"
    else:
        tex = f"\\({match['si'] if match['si'] is not None else match['di']}\\)"
    return f'<span class="arithmatex">{tex}</span>'


def _mark_math(html_text: str) -> tuple[str, bool]:
    """Wrap the TeX in an HTML fragment's text in `arithmatex` spans, which MathJax typesets."""
    pieces, skipping, found = _HTML_TAG_RE.split(html_text), [], False
    for index, piece in enumerate(pieces):
        if index % 2:
            name = piece[1:].lstrip("/").split(None, 1)[0].rstrip(">/").lower() if piece[1:] else ""
            if name in _NO_MATH_TAGS or (name == "span" and "arithmatex" in piece):
                if piece.startswith("</"):
                    if skipping and skipping[-1] == name:
                        skipping.pop()
                elif not piece.endswith("/>"):
                    skipping.append(name)
            continue
        if skipping or ("$" not in piece and "\\" not in piece):
            continue
        marked = _HTML_MATH_RE.sub(_math_span, piece)
        if marked != piece:
            pieces[index], found = marked, True
    return "".join(pieces), found


class _BlockCutter(HTMLParser):
    """Where an automatic excerpt of an HTML body ends: after the top-level block that brings
    its text to `length` characters."""

    def __init__(self, length: int) -> None:
        super().__init__(convert_charrefs=True)
        self.length, self.depth, self.seen = length, 0, 0
        self.cut: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _VOID_TAGS:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(self.depth - 1, 0)
        if self.depth == 0 and self.cut is None and self.seen >= self.length:
            self.cut = self.getpos()  # where this end tag starts

    def handle_data(self, data: str) -> None:
        self.seen += len(data.strip())


_VOID_TAGS = frozenset({"br", "hr", "img", "wbr", "input", "col", "area", "source"})


def _auto_excerpt(body: str, length: int) -> str:
    cutter = _BlockCutter(length)
    cutter.feed(body)
    cutter.close()
    if cutter.cut is None:
        return body
    lines = body.splitlines(keepends=True)
    line, column = cutter.cut
    offset = sum(map(len, lines[: line - 1])) + column
    return body[: body.index(">", offset) + 1]


def _escape_tex_brackets(match: re.Match) -> str:
    """`a<b` in a formula is TeX, not a tag (unless the formula spans a closing tag)."""
    tex = match.group(0)
    return tex if "</" in tex else tex.replace("<", "&lt;").replace(">", "&gt;")


def render_html(source: str, *, excerpt_length: int = 300) -> Rendered:
    """Sanitise an HTML body (an imported post's), marking its TeX for MathJax; never Markdown."""
    source = _HTML_MATH_RE.sub(_escape_tex_brackets, source.replace("\x00", "\ufffd"))
    cut = source.find(MORE_MARKER)
    body = sanitize_html(source)
    marked, has_math = _mark_math(body)
    excerpt = _auto_excerpt(marked, excerpt_length) if cut < 0 else None
    if excerpt is None:
        excerpt, _found = _mark_math(sanitize_html(source[:cut]))
    return Rendered(
        html=sanitize_html(marked),
        excerpt_html=sanitize_html(excerpt),
        toc=[],
        has_math=has_math,
    )


def render_body(
    source: str, body_format: str = "markdown", image_sources: ImageSourcesLookup | None = None
) -> Rendered:
    """A post's body in its format: `markdown` (the default) or `html`."""
    if body_format == "html":
        return render_html(source)
    return render_markdown(source, image_sources=image_sources)


# --- Sanitising ----------------------------------------------------------------------------------

_COMMON_TAGS = frozenset(
    {"p", "br", "hr", "blockquote", "pre", "code", "kbd", "samp", "var", "em", "strong", "b", "i"}
    | {"u", "s", "del", "ins", "mark", "small", "sub", "sup", "abbr", "cite", "q", "dfn", "span"}
    | {"div", "a", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr"}
    | {"th", "td", "caption", "details", "summary", "ruby", "rt", "rp"}
)
_POST_TAGS = _COMMON_TAGS | {"h1", "h2", "h3", "h4", "h5", "h6", "img", "figure", "figcaption"}
_COMMON_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "ol": ["start", "reversed"],
    "li": ["value"],
    "th": ["align", "colspan", "rowspan"],
    "td": ["align", "colspan", "rowspan"],
    "details": ["open"],
}
_POST_ATTRIBUTES = _COMMON_ATTRIBUTES | {
    "*": ["class", "id", "title", "style"],
    "img": ["src", "srcset", "sizes", "alt", "title", "width", "height", "loading", "decoding"],
}
_CSS_PROPERTIES = frozenset(
    {"color", "background-color", "font-size", "font-weight", "font-style", "font-family"}
    | {"text-align", "text-decoration", "text-indent", "vertical-align", "line-height"}
    | {"white-space", "width", "height", "max-width", "min-width", "max-height", "margin"}
    | {"margin-top", "margin-bottom", "margin-left", "margin-right", "padding", "border"}
    | {"border-collapse", "border-color", "border-style", "border-width", "float", "display"}
)
# Functions a style value may call; any other (expression(), url(), image-set(), …) drops it.
_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc", "min", "max", "clamp"})


def _safe_css_value(tokens: list) -> bool:
    """No url(), no function outside _CSS_FUNCTIONS, no `javascript:` or `expression` in a word
    or string (tinycss2 has already decoded CSS escapes such as `expr\\65ssion`)."""
    for token in tokens:
        if token.type in {"url", "error"}:
            return False
        if token.type == "function":
            if token.lower_name not in _CSS_FUNCTIONS or not _safe_css_value(token.arguments):
                return False
        elif token.type in {"() block", "[] block", "{} block"}:
            if not _safe_css_value(token.content):
                return False
        elif token.type in {"ident", "string"}:
            word = token.value.lower()
            if "javascript" in word or "expression" in word:
                return False
    return True


class _CSSSanitizer(CSSSanitizer):
    """bleach's CSS sanitiser keeps allowed properties whatever their value; this one drops a
    declaration whose value could fetch or run something (see _safe_css_value)."""

    def sanitize_css(self, style: str) -> str:
        declarations = tinycss2.parse_declaration_list(style, skip_comments=True)
        safe = [
            declaration
            for declaration in declarations
            if declaration.type == "declaration"
            and tinycss2.serialize(declaration.value).strip()
            and _safe_css_value(declaration.value)
        ]
        return super().sanitize_css("; ".join(tinycss2.serialize([d]).strip() for d in safe))


# Classes the pipeline itself emits into comments; Pygments token classes only on spans.
_PIPELINE_CLASSES = frozenset({"arithmatex", "highlight", "comment-quote"})
_PYGMENTS_CLASSES = frozenset(STANDARD_TYPES.values()) - {""}


def _comment_attribute(tag: str, name: str, value: str) -> bool:
    if name == "class":
        allowed = _PIPELINE_CLASSES | (_PYGMENTS_CLASSES if tag == "span" else frozenset())
        return set(value.split()) <= allowed
    return name in _COMMON_ATTRIBUTES.get(tag, ())


class _CommentLinkFilter(Filter):
    """Give every link in a comment rel="nofollow ugc noopener"."""

    def __iter__(self) -> Iterator[dict]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                token["data"][(None, "rel")] = COMMENT_LINK_REL
            yield token


_CLEANER_OPTIONS = {
    Profile.POST: {
        "tags": _POST_TAGS,
        "attributes": _POST_ATTRIBUTES,
        "css_sanitizer": _CSSSanitizer(
            allowed_css_properties=_CSS_PROPERTIES, allowed_svg_properties=()
        ),
    },
    Profile.COMMENT: {
        "tags": _COMMON_TAGS,
        "attributes": _comment_attribute,
        "filters": [_CommentLinkFilter],
    },
}
_EtreeWalker = getTreeWalker("etree")


class _LinearWalker(_EtreeWalker):
    """html5lib's etree walker that finds a parent's position by lookup, not by list.index()."""

    # The stock walker rescans the grandparent's children every time it leaves an element, which
    # made a 1 MB post take 16 s and a long list of `<li><em>` quadratic.
    def __init__(self, tree: etree.Element) -> None:
        super().__init__(tree)
        self.positions: dict[int, dict[int, int]] = {}

    def getParentNode(self, node: object) -> object:
        if not isinstance(node, tuple) or node[3] == "text" or len(node[2]) < 2:
            return super().getParentNode(node)
        parents = node[2]
        parent = parents.pop()
        grandparent = parents[-1]
        if id(grandparent) not in self.positions:
            self.positions[id(grandparent)] = {id(el): i for i, el in enumerate(grandparent)}
        return parent, self.positions[id(grandparent)][id(parent)], parents, None


# bleach's Cleaner keeps parser state and is documented as not thread-safe: one per thread.
_local = threading.local()


def _cleaner(profile: Profile) -> Cleaner:
    if not hasattr(_local, "cleaners"):
        _local.cleaners = {
            key: Cleaner(protocols={"http", "https", "mailto"}, strip=True, **options)
            for key, options in _CLEANER_OPTIONS.items()
        }
        for cleaner in _local.cleaners.values():
            cleaner.walker = _LinearWalker
    return _local.cleaners[profile]


def sanitize_html(html: str, profile: Profile = Profile.POST) -> str:
    """Clean HTML against the profile's allowlist; every rendered fragment passes through here."""
    return _cleaner(Profile(profile)).clean(html)


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "td", "th", "blockquote", "pre", "hr", "figure", "dt", "dd"}
        | {"figcaption", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
    )
    _SKIPPED_CLASSES = frozenset({"headerlink", "footnote-ref", "footnote-backref", "footnote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_tag, self.skip_depth = "", 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth:
            self.skip_depth += tag == self.skip_tag
            return
        classes = set((dict(attrs).get("class") or "").split())
        if tag in {"script", "style"} or classes & self._SKIPPED_CLASSES:
            self.skip_tag, self.skip_depth = tag, 1
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            self.skip_depth -= tag == self.skip_tag
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def plain_text(html: str) -> str:
    """Reduce HTML to whitespace-collapsed text, keeping TeX source and dropping permalinks."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


# --- Shortening text with math -------------------------------------------------------------------

# A formula in plain text (as plain_text() keeps it): display math, environments, then inline math.
# `$…$` follows arithmatex's rule (no space just inside the dollars), so prices stay text. Bounded,
# so an opener without its closer costs a bounded scan.
_MAX_FORMULA = 4000
_FORMULA_RE = re.compile(
    rf"\$\$(?P<dd>(?:\\.|[^\\$]|\$(?!\$)){{1,{_MAX_FORMULA}}}?)\$\$"
    rf"|\\\[(?P<sq>[\s\S]{{1,{_MAX_FORMULA}}}?)\\\]"
    rf"|\\begin\{{(?P<env>[a-zA-Z]+\*?)\}}[\s\S]{{0,{_MAX_FORMULA}}}?\\end\{{(?P=env)\}}"
    rf"|\\\((?P<rd>[\s\S]{{1,{_MAX_FORMULA}}}?)\\\)"
    rf"|(?<![\\$])\$(?P<d>(?!\s)(?:\\.|[^\\$]){{1,{_MAX_FORMULA}}}?(?<!\s))\$"
)


class Piece(NamedTuple):
    text: str
    math: bool


@dataclass(frozen=True)
class Shortened:
    """A stretch of plain text cut only between formulas: text and whole formulas, in order."""

    pieces: list[Piece]
    cut_before: bool
    cut_after: bool

    @property
    def has_math(self) -> bool:
        return any(piece.math for piece in self.pieces)

    @property
    def text(self) -> str:
        """As plain text, TeX source and all (titles, meta descriptions, feeds' plain fields)."""
        body = "".join(piece.text for piece in self.pieces)
        return f"{'…' if self.cut_before else ''}{body}{'…' if self.cut_after else ''}"

    def html(
        self,
        text_html: Callable[[str], str] | None = None,
        marked: Callable[[str], bool] | None = None,
    ) -> str:
        """Escaped text and formulas MathJax typesets (`<span class="arithmatex">`); `text_html`
        escapes (and may highlight) a text piece, and `marked` formulas go in a <mark>. A reference
        to an equation's label (`\\eqref{…}`) shows as "(…)": out of its article, where the label
        is not, MathJax would show "(???)"."""
        parts = ["…" if self.cut_before else ""]
        for piece in self.pieces:
            if not piece.math:
                parts.append(text_html(piece.text) if text_html else html.escape(piece.text))
                continue
            tex = html.escape(_inline(_REFERENCE_RE.sub(_unnumbered, piece.text)), quote=False)
            math = f'<span class="arithmatex">{tex}</span>'
            parts.append(f"<mark>{math}</mark>" if marked and marked(piece.text) else math)
        parts.append("…" if self.cut_after else "")
        return "".join(parts)


# \ref{…}, \eqref{…}: references to an equation's label.
_REFERENCE_RE = re.compile(r"\\(eq)?ref\s*\{[^{}]*\}")


def _unnumbered(reference: re.Match) -> str:
    return r"\text{(…)}" if reference[1] else r"\text{…}"


def _inline(tex: str) -> str:
    """Display math as inline math, which fits a line of a list; environments stay as they are."""
    match = _FORMULA_RE.fullmatch(tex)
    inner = match and (match["dd"] or match["sq"] or match["rd"] or match["d"])
    return f"\\({inner}\\)" if inner else tex


def shorten(text: str, length: int, start: int = 0) -> Shortened:
    """About `length` characters of `text` from `start`, never cutting inside a formula: a cut
    that would fall in one moves before it (or after it, when it is all there is to show)."""
    start = max(0, min(start, len(text)))
    end = start + length
    formulas = []
    for match in _FORMULA_RE.finditer(text):
        if match.start() >= end:
            break
        if match.end() <= start:
            continue
        if match.start() < start:  # the window starts inside this formula: show it whole
            start = match.start()
        if match.end() > end:
            end = match.end() if match.start() == start else match.start()
        formulas.append((match.start(), match.end()))
    end = min(end, len(text))
    pieces, shown = [], start
    for formula_start, formula_end in formulas:
        if formula_start >= end:
            break
        if formula_start > shown:
            pieces.append(Piece(text[shown:formula_start], False))
        pieces.append(Piece(text[formula_start:formula_end], True))
        shown = formula_end
    if shown < end:
        pieces.append(Piece(text[shown:end], False))
    return Shortened(pieces, cut_before=start > 0, cut_after=end < len(text))
