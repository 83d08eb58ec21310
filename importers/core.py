"""What an importer reads from another blog, as plain values, and the report of a run.

A reader (`importers.typecho`, a WXR reader, ...) turns its format into these items; the writer
(`importers.writer.import_site`) stores them. Items refer to each other by `key`, the id the item
has in its own site, so readers never deal with this site's ids.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


class SourceError(Exception):
    """The whole source cannot be read (missing table, unreadable file): nothing is written."""


@dataclass
class BadItem:
    """An item the reader could not turn into a value (e.g. invalid UTF-8 in its row)."""

    kind: str
    key: str
    reason: str


@dataclass
class UserItem:
    key: str
    username: str
    email: str = ""
    display_name: str = ""
    url: str = ""
    # An encoded Django password ("phpass$...", "typecho_md5$..."); "" makes it unusable.
    password: str = ""
    # "admin" (superuser), "editor", "author", "contributor", or "" for a reader's account.
    role: str = ""
    # Gets an Author profile (writers, and anyone whose name is on a post).
    is_author: bool = False
    joined: dt.datetime | None = None
    last_login: dt.datetime | None = None
    old_paths: list[str] = field(default_factory=list)


@dataclass
class TermItem:
    key: str
    kind: str  # "category" or "tag"
    name: str
    slug: str = ""
    description: str = ""
    order: int = 0
    parent: str | None = None  # the key of the parent category
    old_paths: list[str] = field(default_factory=list)


@dataclass
class CommentItem:
    key: str
    created: dt.datetime
    body: str
    author_name: str
    id: int | None = None  # the id to keep, when free
    parent: str | None = None  # the key of the comment this one replies to
    author_email: str = ""
    author_url: str = ""
    ip: str = ""
    user_agent: str = ""
    status: str = "approved"  # approved, pending or spam (the Comment.Status values)
    kind: str = "comment"  # comment, pingback or trackback
    user: str | None = None  # the key of the commenter's account


@dataclass
class AttachmentItem:
    key: str
    title: str
    url: str
    post: str | None = None  # the key of the post it belongs to
    path: str = ""
    mime_type: str = ""
    size: int = 0
    created: dt.datetime | None = None


@dataclass
class PostItem:
    key: str
    title: str
    published_at: dt.datetime
    id: int | None = None  # the id to keep
    kind: str = "post"  # Post.Kind
    slug: str = ""
    status: str = "published"  # Post.Status
    updated_at: dt.datetime | None = None
    body: str = ""
    format: str = "markdown"  # Post.Format
    excerpt: str = ""
    comments_enabled: bool = True
    menu_order: int = 0
    custom_fields: dict = field(default_factory=dict)
    views: int | None = None
    authors: list[str] = field(default_factory=list)  # user keys, byline order
    categories: list[str] = field(default_factory=list)  # term keys
    tags: list[str] = field(default_factory=list)  # term keys
    comments: list[CommentItem] = field(default_factory=list)
    old_paths: list[str] = field(default_factory=list)
    # What the reader changed on the way (e.g. "status private → draft"), for the report.
    notes: list[str] = field(default_factory=list)


class Source(Protocol):
    """A site being imported; each method may be called once, in this order."""

    # Remembers which objects came from where, so that running the same import again updates.
    name: str
    # Whether an item whose id is taken is renumbered (True) or refused (False).
    renumber: bool

    def users(self) -> Iterable[UserItem | BadItem]: ...

    def terms(self) -> Iterable[TermItem | BadItem]: ...

    def post_count(self) -> int: ...

    def posts(self) -> Iterator[PostItem | BadItem]: ...

    def attachments(self) -> Iterable[AttachmentItem | BadItem]: ...

    # Site-wide old paths (feeds, ...) and the path each goes to now.
    def site_redirects(self) -> list[tuple[str, str]]: ...


@dataclass
class Report:
    """Counts per kind, and every item skipped, changed or failed with the reason."""

    counts: Counter = field(default_factory=Counter)
    changes: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def count(self, label: str, number: int = 1) -> None:
        self.counts[label] += number

    def changed(self, item: str, reason: str) -> None:
        self.changes.append((item, reason))

    def failed(self, item: str, reason: str) -> None:
        self.failures.append((item, reason))

    def lines(self) -> Iterator[str]:
        """The report as text, counts first."""
        width = max((len(label) for label in self.counts), default=0)
        for label, number in sorted(self.counts.items()):
            yield f"  {label.ljust(width)}  {number}"
        if self.changes:
            yield f"Skipped or changed ({len(self.changes)}):"
            yield from (f"  {item}: {reason}" for item, reason in self.changes)
        if self.failures:
            yield f"Failed, nothing written for them ({len(self.failures)}):"
            yield from (f"  {item}: {reason}" for item, reason in self.failures)
