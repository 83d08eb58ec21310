"""Import posts from Markdown files with YAML front matter (the Hugo / Jekyll / Hexo format)."""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blog.counting.batches import raise_total_views
from blog.models import (
    Author,
    Category,
    Post,
    PostAuthor,
    Tag,
    unicode_slug,
    validate_publish_time,
)
from blog.services import sync_citations

MAX_POST_ID = 2**63 - 1
STATUSES = {
    "published": Post.Status.PUBLISHED,
    "publish": Post.Status.PUBLISHED,
    "draft": Post.Status.DRAFT,
    "pending": Post.Status.PENDING,
}


class ImportFileError(ValueError):
    """A file that cannot be imported, with the reason in words."""


@dataclass
class PostSource:
    path: Path
    title: str
    body: str
    published_at: dt.datetime
    status: str
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    id: int | None = None
    views: int | None = None
    slug: str = ""
    kind: str = Post.Kind.POST
    format: str = Post.Format.MARKDOWN
    excerpt: str = ""
    updated_at: dt.datetime | None = None
    comments_enabled: bool = True
    menu_order: int = 0
    custom_fields: dict = field(default_factory=dict)


def find_markdown_files(paths: list[str]) -> list[Path]:
    """The .md files named, and those under the folders named, in a stable order."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        else:
            found.append(path)
    return found


def split_front_matter(text: str) -> tuple[dict, str]:
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != "---":
        raise ImportFileError("no YAML front matter (the file must start with a '---' line)")
    closing = [n for n, line in enumerate(lines[1:], start=1) if line.strip() in {"---", "..."}]
    if not closing:
        raise ImportFileError("the front matter is not closed by a '---' line")
    end = closing[0]
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        raise ImportFileError(f"invalid YAML front matter: {error}") from None
    if not isinstance(meta, dict):
        raise ImportFileError("the front matter must be a mapping of keys to values")
    return meta, "\n".join(lines[end + 1 :]).lstrip("\n")


def as_names(value: object, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int | float):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ImportFileError(f"'{key}' must be a name or a list of names")
    names = [str(v).strip() for v in value if str(v).strip()]
    if any(len(name) > 100 for name in names):
        raise ImportFileError(f"a name in '{key}' is longer than 100 characters")
    return list(dict.fromkeys(names))


def as_choice(meta: dict, key: str, choices: type[Post.Kind] | type[Post.Format]) -> str:
    value = str(meta.get(key) or choices.values[0]).strip().lower()
    if value not in choices.values:
        raise ImportFileError(f"'{key}' must be one of {', '.join(choices.values)}")
    return value


def as_datetime(value: object, key: str = "date") -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip()) or dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ImportFileError(f"'{key}' is not a valid date: {value!r}") from None
    else:
        raise ImportFileError(f"'{key}' is missing or not a date")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        validate_publish_time(moment)
    except ValidationError as error:
        raise ImportFileError(f"'{key}': {' '.join(error.messages)}") from None
    return moment


def as_count(meta: dict, key: str, minimum: int) -> int | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_POST_ID:
        raise ImportFileError(f"'{key}' must be a whole number from {minimum} to {MAX_POST_ID}")
    return value


def parse_file(path: Path) -> PostSource:
    """Read and check one file; raises ImportFileError saying what is wrong."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ImportFileError(f"cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ImportFileError("not UTF-8 text") from None
    meta, body = split_front_matter(text.replace("\r\n", "\n").replace("\x00", ""))
    title = str(meta.get("title") or "").strip()
    if not title:
        raise ImportFileError("'title' is missing")
    if len(title) > 200:
        raise ImportFileError("'title' is longer than 200 characters")
    status = STATUSES.get(str(meta.get("status", "published")).strip().lower())
    if status is None:
        raise ImportFileError("'status' must be 'published', 'pending' or 'draft'")
    custom_fields = meta.get("custom_fields") or {}
    if not isinstance(custom_fields, dict):
        raise ImportFileError("'custom_fields' must be a mapping")
    return PostSource(
        path=path,
        title=title,
        body=body,
        published_at=as_datetime(meta.get("date")),
        status=status,
        authors=as_names(meta.get("authors", meta.get("author")), "authors"),
        categories=as_names(meta.get("categories"), "categories"),
        tags=as_names(meta.get("tags"), "tags"),
        id=as_count(meta, "id", 1),
        views=as_count(meta, "views", 0),
        slug=unicode_slug(str(meta.get("slug") or ""), "")[:200],
        kind=as_choice(meta, "kind", Post.Kind),
        format=as_choice(meta, "format", Post.Format),
        excerpt=str(meta.get("excerpt") or ""),
        updated_at=as_datetime(meta["updated"], "updated") if meta.get("updated") else None,
        comments_enabled=bool(meta.get("comments", True)),
        menu_order=as_count(meta, "menu_order", 0) or 0,
        custom_fields=custom_fields,
    )


def author_named(name: str) -> Author:
    author = Author.objects.filter(display_name=name).first()
    if author:
        return author
    slug = unicode_slug(name, "author")
    if Author.objects.filter(slug=slug).exists():
        slug = f"{slug}-{Author.objects.aggregate(n=Max('id'))['n'] + 1}"
    user_model = get_user_model()
    username = slug[:140]
    while user_model.objects.filter(username=username).exists():
        username += "_"
    user = user_model(username=username)
    user.set_unusable_password()
    user.save()
    return Author.objects.create(user=user, display_name=name, slug=slug)


def named(model: type[Category] | type[Tag], name: str) -> Category | Tag:
    existing = model.objects.filter(name=name).first()
    if existing:
        return existing
    slug = unicode_slug(name, model.__name__.lower())
    if model.objects.filter(slug=slug).exists():
        slug = f"{slug}-{model.objects.count() + 1}"
    return model.objects.create(name=name, slug=slug)


@transaction.atomic
def save_post(source: PostSource) -> tuple[Post, bool]:
    """Create or update the post a file describes, with its byline, categories and tags."""
    post = None
    if source.id is not None:
        post = Post.objects.filter(pk=source.id).first()
    elif source.slug:
        post = Post.objects.filter(slug=source.slug).first()
    created = post is None
    if created:
        post = Post(pk=source.id)
    post.title = source.title
    post.body = source.body
    post.published_at = source.published_at
    post.status = source.status
    post.slug = source.slug or post.slug
    post.kind = source.kind
    post.format = source.format
    post.excerpt = source.excerpt
    post.comments_enabled = source.comments_enabled
    post.menu_order = source.menu_order
    post.custom_fields = source.custom_fields or post.custom_fields
    post.save()
    if source.views:
        raise_total_views({post.pk: source.views})  # never lose reads counted since the last import
    if source.updated_at is not None:
        Post.objects.filter(pk=post.pk).update(updated_at=source.updated_at)
    authors = [author_named(name) for name in source.authors]
    if authors or created:
        post.post_authors.all().delete()
        PostAuthor.objects.bulk_create(
            PostAuthor(post=post, author=author, order=order)
            for order, author in enumerate(authors)
        )
    post.categories.set([named(Category, name) for name in source.categories])
    post.tags.set([named(Tag, name) for name in source.tags])
    sync_citations(post)
    return post, created


def reset_post_id_sequence() -> None:
    """After explicit ids, make the next automatic id follow the largest one (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Post])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
