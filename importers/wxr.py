"""A WordPress export (WXR 1.0–1.2) read as import items for `importers.writer`.

The whole file is parsed before anything is written (defusedxml refuses entity tricks), so a
truncated or malformed export stops the run with a message and nothing changed.
"""

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse
from django.utils import timezone

from blog.models import Post
from importers.core import (
    AttachmentItem,
    BadItem,
    CommentItem,
    PostItem,
    SourceError,
    TermItem,
    UserItem,
)

# Namespaces by what they start with: WordPress.com exports use https, self-hosted ones http.
_NAMESPACES = {
    "wp": re.compile(r"https?://wordpress\.org/export/1\.[0-9]+/$"),
    "excerpt": re.compile(r"https?://wordpress\.org/export/1\.[0-9]+/excerpt/$"),
    "content": re.compile(r"https?://purl\.org/rss/1\.0/modules/content/$"),
    "dc": re.compile(r"https?://purl\.org/dc/elements/1\.1/$"),
}
# post_status → (our status, what the report says, or "" when nothing changed)
POST_STATUSES = {
    "publish": (Post.Status.PUBLISHED, ""),
    "future": (Post.Status.PUBLISHED, ""),  # scheduled: published with a future date
    "draft": (Post.Status.DRAFT, ""),
    "pending": (Post.Status.PENDING, ""),
    "private": (Post.Status.DRAFT, "private post → draft"),
}
SKIPPED_STATUSES = {"auto-draft", "trash", "inherit"}
COMMENT_STATUSES = {"1": "approved", "0": "pending", "spam": "spam"}
BLOCK_COMMENT_RE = re.compile(r"<!--\s*/?wp:[^>]*?-->\n?")
CAPTION_RE = re.compile(r"\[caption\b[^\]]*\](.*?)\[/caption\]", re.DOTALL | re.IGNORECASE)
CAPTION_MEDIA_RE = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.DOTALL)
# [name attr="…"] or [name]…[/name]: what WordPress would have expanded, kept here as text.
SHORTCODE_RE = re.compile(r"\[([a-z][a-z0-9_-]*)(?:\s+[a-z_-]+=[^\]]*)?\](?:.*?\[/\1\])?", re.I)
_BLOCK_START_RE = re.compile(
    r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|pre|table|figure|hr|dl|details|section)\b", re.I
)
_NO_DATE = "0000-00-00 00:00:00"


def _normalise(root: Element) -> None:
    """Rename namespaced tags to `prefix:local`, whatever the export's namespace URIs."""
    for element in root.iter():
        if element.tag.startswith("{"):
            uri, _, local = element.tag[1:].partition("}")
            for prefix, pattern in _NAMESPACES.items():
                if pattern.match(uri):
                    element.tag = f"{prefix}:{local}"
                    break


def _text(element: Element | None, name: str, default: str = "") -> str:
    found = element.find(name) if element is not None else None
    return (found.text or "").strip() if found is not None else default


def _raw(element: Element, name: str) -> str:
    found = element.find(name)
    return (found.text or "") if found is not None else ""


def _moment(local: str, gmt: str) -> dt.datetime | None:
    """A WordPress time: its UTC column when set, else the local one in the site's zone."""
    for value, zone in ((gmt, dt.UTC), (local, None)):
        if value and value != _NO_DATE:
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                return moment
            return moment.replace(tzinfo=zone) if zone else timezone.make_aware(moment)
    return None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) < 2**63 else None


def convert_body(html: str) -> tuple[str, list[str]]:
    """A WordPress body as our HTML: block comments dropped, captions as figures, paragraphs
    made from blank lines as WordPress shows them. Returns the names of shortcodes left as text."""
    html = BLOCK_COMMENT_RE.sub("", html.replace("\r\n", "\n"))

    def figure(match: re.Match) -> str:
        media = CAPTION_MEDIA_RE.match(match.group(1))
        if media is None:
            return match.group(0)
        caption = media.group(2).strip()
        inner = f"<figcaption>{caption}</figcaption>" if caption else ""
        return f"<figure>{media.group(1).strip()}{inner}</figure>"

    html = CAPTION_RE.sub(figure, html)
    shortcodes = [match.group(1).lower() for match in SHORTCODE_RE.finditer(html)]
    return _paragraphs(html), shortcodes


def _paragraphs(html: str) -> str:
    """Text separated by blank lines becomes paragraphs (WordPress's own `wpautop` rule, for
    bodies written in its classic editor); blocks that are already HTML stay as they are."""
    if "\n\n" not in html:
        return html
    parts = [part.strip() for part in re.split(r"\n\s*\n", html)]
    return "\n".join(
        part if _BLOCK_START_RE.match(part) or part.startswith("<!--") else f"<p>{part}</p>"
        for part in parts
        if part
    )


class WXRSource:
    """One export file. `renumber`: an id taken here gives the item a new one (reported)."""

    renumber = True

    def __init__(self, path: str) -> None:
        try:
            tree = parse(Path(path))
        except OSError as error:
            raise SourceError(f"cannot read {path}: {error.strerror or error}") from None
        except ParseError as error:
            raise SourceError(
                f"{path} is not a complete WordPress export ({error}); nothing was imported"
            ) from None
        except DefusedXmlException as error:
            raise SourceError(f"{path} uses XML features refused for safety: {error}") from None
        root = tree.getroot()
        _normalise(root)
        self.channel = root.find("channel")
        if root.tag != "rss" or self.channel is None or self.channel.find("wp:wxr_version") is None:
            raise SourceError(f"{path} is not a WordPress export (no wp:wxr_version in it)")
        base = _text(self.channel, "wp:base_blog_url") or _text(self.channel, "link")
        self.name = f"wxr:{urlsplit(base).netloc or Path(path).name}"[:100]
        self.items = self.channel.findall("item")
        self.logins: dict[str, str] = {}  # login → user key

    def users(self) -> Iterable[UserItem | BadItem]:
        for author in self.channel.findall("wp:author"):
            login = _text(author, "wp:author_login")
            key = _text(author, "wp:author_id") or login
            if not login:
                yield BadItem("user", key or "?", "an author without a login")
                continue
            self.logins[login] = key
            yield UserItem(
                key=key,
                username=login[:150],
                email=_text(author, "wp:author_email"),
                display_name=_text(author, "wp:author_display_name") or login,
                role="author",
                is_author=True,
                old_paths=[f"/author/{login}/"],
            )

    def terms(self) -> Iterable[TermItem | BadItem]:
        for category in self.channel.findall("wp:category"):
            slug = _text(category, "wp:category_nicename")
            parent = _text(category, "wp:category_parent") or None
            yield TermItem(
                key=slug,
                kind="category",
                name=_text(category, "wp:cat_name") or slug,
                slug=slug,
                description=_text(category, "wp:category_description"),
                parent=parent,
                old_paths=[f"/category/{slug}/"],
            )
        for tag in self.channel.findall("wp:tag"):
            slug = _text(tag, "wp:tag_slug")
            yield TermItem(
                key=slug,
                kind="tag",
                name=_text(tag, "wp:tag_name") or slug,
                slug=slug,
                old_paths=[f"/tag/{slug}/"],
            )
        # Terms named only on posts (some exporters leave the channel's lists out).
        listed = {_text(c, "wp:category_nicename") for c in self.channel.findall("wp:category")}
        listed |= {_text(t, "wp:tag_slug") for t in self.channel.findall("wp:tag")}
        for item in self.items:
            for term in item.findall("category"):
                slug = term.get("nicename", "")
                if slug and slug not in listed and term.get("domain") in {"category", "post_tag"}:
                    listed.add(slug)
                    kind = "category" if term.get("domain") == "category" else "tag"
                    yield TermItem(key=slug, kind=kind, name=(term.text or slug).strip(), slug=slug)

    def _content_items(self) -> list[Element]:
        return [i for i in self.items if _text(i, "wp:post_type") in {"post", "page"}]

    def post_count(self) -> int:
        return len(self._content_items())

    def posts(self) -> Iterator[PostItem | BadItem]:
        for item in self._content_items():
            key = _text(item, "wp:post_id") or _text(item, "guid")
            try:
                post = self._post(item, key)
            except ValueError as error:
                yield BadItem("post", key, str(error))
                continue
            if post is not None:
                yield post

    def _post(self, item: Element, key: str) -> PostItem | None:
        kind = _text(item, "wp:post_type")
        wp_status = _text(item, "wp:status")
        if wp_status in SKIPPED_STATUSES:
            return None
        status, note = POST_STATUSES.get(wp_status, (Post.Status.DRAFT, f"status {wp_status!r}"))
        notes = [note] if note else []
        if wp_status not in POST_STATUSES:
            notes[0] += " → draft"
        if _text(item, "wp:post_password"):
            status = Post.Status.DRAFT
            notes.append("password-protected → draft")
        published = _moment(_text(item, "wp:post_date"), _text(item, "wp:post_date_gmt"))
        if published is None:
            if status == Post.Status.PUBLISHED:
                raise ValueError("no valid post_date")
            published = timezone.now()
        body, shortcodes = convert_body(_raw(item, "content:encoded"))
        for name in dict.fromkeys(shortcodes):
            notes.append(f"shortcode [{name}] kept as text ({shortcodes.count(name)}×)")
        pk = _int(_text(item, "wp:post_id"))
        old_paths = [f"/?page_id={pk}" if kind == "page" else f"/?p={pk}"] if pk else []
        link_path = urlsplit(_text(item, "link")).path
        if link_path and link_path != "/":
            old_paths.append(link_path)
        terms = item.findall("category")
        return PostItem(
            key=key,
            id=pk,
            kind=Post.Kind.PAGE if kind == "page" else Post.Kind.POST,
            title=_text(item, "title"),
            slug=_text(item, "wp:post_name"),
            status=status,
            published_at=published,
            updated_at=_moment(
                _text(item, "wp:post_modified"), _text(item, "wp:post_modified_gmt")
            ),
            body=body,
            format=Post.Format.HTML,
            excerpt=convert_body(_raw(item, "excerpt:encoded"))[0].strip(),
            comments_enabled=_text(item, "wp:comment_status", "open") == "open",
            menu_order=_int(_text(item, "wp:menu_order")) or 0,
            custom_fields=self._meta(item),
            authors=[
                self.logins.get(login, login) for login in [_text(item, "dc:creator")] if login
            ],
            categories=[t.get("nicename", "") for t in terms if t.get("domain") == "category"],
            tags=[t.get("nicename", "") for t in terms if t.get("domain") == "post_tag"],
            comments=list(self._comments(item)),
            old_paths=old_paths,
            notes=notes,
        )

    def _meta(self, item: Element) -> dict:
        """Custom fields, without WordPress's own (`_edit_lock`, `_thumbnail_id`, …)."""
        fields = {}
        for meta in item.findall("wp:postmeta"):
            name = _text(meta, "wp:meta_key")
            if name and not name.startswith("_"):
                fields[name] = _raw(meta, "wp:meta_value")
        return fields

    def _comments(self, item: Element) -> Iterator[CommentItem]:
        for comment in item.findall("wp:comment"):
            approved = _text(comment, "wp:comment_approved")
            if approved == "trash":
                continue
            key = _text(comment, "wp:comment_id")
            created = _moment(
                _text(comment, "wp:comment_date"), _text(comment, "wp:comment_date_gmt")
            )
            parent = _text(comment, "wp:comment_parent")
            user = _text(comment, "wp:comment_user_id")
            yield CommentItem(
                key=key,
                id=_int(key),
                created=created or timezone.now(),
                body=_raw(comment, "wp:comment_content"),
                author_name=_text(comment, "wp:comment_author"),
                parent=parent if parent and parent != "0" else None,
                author_email=_text(comment, "wp:comment_author_email"),
                author_url=_text(comment, "wp:comment_author_url"),
                ip=_text(comment, "wp:comment_author_IP"),
                status=COMMENT_STATUSES.get(approved, "pending"),
                kind=_text(comment, "wp:comment_type") or "comment",
                user=user if user and user != "0" else None,
            )

    def attachments(self) -> Iterable[AttachmentItem | BadItem]:
        for item in self.items:
            if _text(item, "wp:post_type") != "attachment":
                continue
            url = _text(item, "wp:attachment_url")
            key = _text(item, "wp:post_id") or url
            if not url:
                yield BadItem("attachment", key, "no attachment_url")
                continue
            parent = _text(item, "wp:post_parent")
            path = next(
                (
                    _raw(meta, "wp:meta_value")
                    for meta in item.findall("wp:postmeta")
                    if _text(meta, "wp:meta_key") == "_wp_attached_file"
                ),
                "",
            )
            yield AttachmentItem(
                key=key,
                title=_text(item, "title"),
                url=url,
                post=parent if parent and parent != "0" else None,
                path=path,
                created=_moment(_text(item, "wp:post_date"), _text(item, "wp:post_date_gmt")),
            )

    def site_redirects(self) -> list[tuple[str, str]]:
        return [("/feed/", "/feed"), ("/comments/feed/", "/feed/comments")]
