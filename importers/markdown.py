"""Read back what `export_markdown` wrote beside the posts: comments, categories, uploads.

The posts themselves are read by `blog.importing` (front matter and body); this module adds
the files a Spaces export has next to them, so that an export imported into an empty database
gives the same site.
"""

import datetime as dt
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from blog.importing import ImportFileError, as_datetime
from blog.models import Category, Post
from importers.core import CommentItem, Report
from importers.export import CATEGORIES_FILE, COMMENTS_SUFFIX, UPLOADS_DIR, UPLOADS_FILE
from importers.writer import import_comments
from uploads.models import Upload

SOURCE_NAME = "markdown"


def _load(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFileError(f"cannot read: {error}") from None
    except yaml.YAMLError as error:
        raise ImportFileError(f"invalid YAML: {error}") from None


def _rows(path: Path) -> list[dict]:
    rows = _load(path) or []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ImportFileError("must be a list of mappings")
    return rows


def _moment(value: object, key: str) -> dt.datetime:
    return as_datetime(dt.datetime.fromisoformat(value) if isinstance(value, str) else value, key)


@transaction.atomic
def import_categories(folder: Path) -> int:
    """Categories with their slugs, descriptions, order, ids and hierarchy, parents first."""
    path = folder / CATEGORIES_FILE
    if not path.is_file():
        return 0
    rows = _rows(path)
    by_slug = {}
    for row in rows:
        name, slug = str(row.get("name") or "").strip(), str(row.get("slug") or "").strip()
        if not name or not slug:
            raise ImportFileError("a category without a name or slug")
        category = Category.objects.filter(slug=slug).first() or Category(slug=slug)
        wanted = row.get("id")
        if category._state.adding and isinstance(wanted, int):
            category.pk = None if Category.objects.filter(pk=wanted).exists() else wanted
        category.name = name[:100]
        category.description = str(row.get("description") or "")
        category.order = int(row.get("order") or 0)
        category.save()
        by_slug[slug] = category
    for row in rows:
        parent = by_slug.get(str(row.get("parent") or ""))
        Category.objects.filter(slug=row["slug"]).update(parent=parent)
    return len(rows)


def comments_file(post_file: Path) -> Path:
    return post_file.with_name(post_file.stem + COMMENTS_SUFFIX)


def import_post_comments(post: Post, post_file: Path) -> Report | None:
    """The comments beside a post's file, if there are any, stored with their ids and threads."""
    path = comments_file(post_file)
    if not path.is_file():
        return None
    items = []
    for row in _rows(path):
        if not isinstance(row.get("id"), int):
            raise ImportFileError(f"{path.name}: a comment without a numeric id")
        parent = row.get("parent")
        items.append(
            CommentItem(
                key=str(row["id"]),
                id=row["id"],
                parent=str(parent) if parent else None,
                created=_moment(row.get("created"), "created"),
                body=str(row.get("body") or ""),
                author_name=str(row.get("author_name") or ""),
                author_email=str(row.get("author_email") or ""),
                author_url=str(row.get("author_url") or ""),
                ip=str(row.get("ip") or ""),
                user_agent=str(row.get("user_agent") or ""),
                status=str(row.get("status") or "pending"),
                user=str(row["user"]) if row.get("user") else None,
            )
        )
    names = {item.user for item in items if item.user}
    users = dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
    return import_comments(SOURCE_NAME, post, items, users)


@transaction.atomic
def import_uploads(folder: Path) -> int:
    """Uploaded files under the names they had, and their records with the same ids."""
    path = folder / UPLOADS_FILE
    if not path.is_file():
        return 0
    rows = _rows(path)
    user_model = get_user_model()
    for row in rows:
        name = str(row.get("file") or "")
        if not name or Upload.objects.filter(file=name).exists():
            continue
        names = [name, *(str(r.get("name", "")) for r in row.get("renditions") or [] if r)]
        for stored in names:
            source = (folder / UPLOADS_DIR / stored).resolve()
            if not source.is_relative_to((folder / UPLOADS_DIR).resolve()) or not source.is_file():
                raise ImportFileError(f"{UPLOADS_FILE}: {stored!r} is not in {UPLOADS_DIR}/")
            if not default_storage.exists(stored):
                default_storage.save(stored, ContentFile(source.read_bytes()))
        uploader = row.get("uploader")
        Upload.objects.create(
            pk=row["id"] if not Upload.objects.filter(pk=row.get("id")).exists() else None,
            file=name,
            kind=row["kind"],
            title=row.get("title") or "",
            alt_text=row.get("alt_text") or "",
            caption=row.get("caption") or "",
            original_name=row.get("original_name") or "",
            content_type=row.get("content_type") or "",
            size=row.get("size") or 0,
            width=row.get("width"),
            height=row.get("height"),
            renditions=row.get("renditions") or [],
            uploader=user_model.objects.filter(username=uploader).first() if uploader else None,
            created_at=_moment(row.get("created"), "created"),
        )
    return len(rows)
