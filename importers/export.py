"""The whole site as files: what `import_markdown` reads back into the same site.

Each post and page is `<id>-<slug>.md` (YAML front matter, then the body as written), its
comments `<id>-<slug>.comments.yaml` beside it; `categories.yaml` keeps the hierarchy, and
`uploads/` with `uploads.yaml` the uploaded files as they are stored.
"""

from pathlib import Path

import yaml
from django.core.files.storage import default_storage
from django.utils import timezone

from blog.models import Category, Post
from comments.models import Comment
from uploads.models import Upload

CATEGORIES_FILE = "categories.yaml"
UPLOADS_FILE = "uploads.yaml"
UPLOADS_DIR = "uploads"
COMMENTS_SUFFIX = ".comments.yaml"


def _dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _time(moment) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""


def file_stem(post: Post) -> str:
    slug = "".join(ch for ch in post.slug if ch not in '/\\:*?"<>|') or "post"
    return f"{post.pk}-{slug[:80]}"


def front_matter(post: Post) -> dict:
    return {
        "id": post.pk,
        "kind": post.kind,
        "title": post.title,
        "slug": post.slug,
        "date": _time(post.published_at),
        "updated": _time(post.updated_at),
        "status": post.status,
        "format": post.format,
        "authors": [author.display_name for author in post.ordered_authors],
        "categories": [category.name for category in post.categories.all()],
        "tags": [tag.name for tag in post.tags.all()],
        "views": post.view_count,
        "comments": post.comments_enabled,
        "menu_order": post.menu_order,
        "excerpt": post.excerpt,
        "custom_fields": post.custom_fields,
    }


def comment_rows(post: Post) -> list[dict]:
    comments = Comment.objects.filter(post=post).select_related("user").order_by("tree_id", "lft")
    return [
        {
            "id": comment.pk,
            "parent": comment.parent_id,
            "status": comment.status,
            "author_name": comment.author_name,
            "author_email": comment.author_email,
            "author_url": comment.author_url,
            "ip": comment.ip_address or "",
            "user_agent": comment.user_agent,
            "user": comment.user.get_username() if comment.user else None,
            "created": _time(comment.created_at),
            "body": comment.body,
        }
        for comment in comments
    ]


def category_rows() -> list[dict]:
    return [
        {
            "id": category.pk,
            "name": category.name,
            "slug": category.slug,
            "description": category.description,
            "order": category.order,
            "parent": category.parent.slug if category.parent_id else None,
        }
        for category in Category.objects.select_related("parent").order_by("pk")
    ]


def upload_rows(target: Path) -> list[dict]:
    rows = []
    for upload in Upload.objects.select_related("uploader").order_by("pk"):
        for name in upload.stored_names():
            copy = target / UPLOADS_DIR / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            with default_storage.open(name, "rb") as stored:
                copy.write_bytes(stored.read())
        rows.append(
            {
                "id": upload.pk,
                "file": upload.file.name,
                "kind": upload.kind,
                "title": upload.title,
                "alt_text": upload.alt_text,
                "caption": upload.caption,
                "original_name": upload.original_name,
                "content_type": upload.content_type,
                "size": upload.size,
                "width": upload.width,
                "height": upload.height,
                "renditions": upload.renditions,
                "uploader": upload.uploader.get_username() if upload.uploader else None,
                "created": _time(upload.created_at),
            }
        )
    return rows


def export_site(target: Path) -> dict[str, int]:
    """Write every post, page, comment, category and upload under `target`; returns counts."""
    target.mkdir(parents=True, exist_ok=True)
    counts = {"posts": 0, "pages": 0, "comments": 0}
    posts = (
        Post.objects.with_authors()
        .with_views()
        .prefetch_related("categories", "tags")
        .order_by("pk")
    )
    for post in posts:
        stem = file_stem(post)
        text = f"---\n{_dump(front_matter(post))}---\n{post.body}"
        (target / f"{stem}.md").write_text(text, encoding="utf-8")
        if rows := comment_rows(post):
            (target / f"{stem}{COMMENTS_SUFFIX}").write_text(_dump(rows), encoding="utf-8")
            counts["comments"] += len(rows)
        counts["pages" if post.kind == Post.Kind.PAGE else "posts"] += 1
    categories = category_rows()
    (target / CATEGORIES_FILE).write_text(_dump(categories), encoding="utf-8")
    uploads = upload_rows(target)
    (target / UPLOADS_FILE).write_text(_dump(uploads), encoding="utf-8")
    return counts | {"categories": len(categories), "uploads": len(uploads)}
