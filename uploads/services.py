"""Writing the media library: storing a checked file with its copies, and deleting unused ones."""

import secrets
from pathlib import PurePosixPath
from typing import IO

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from blog.models import Post
from uploads.models import Upload
from uploads.renditions import PAGE_WIDTHS, THUMBNAIL_WIDTH, make_renditions, rendition_extension
from uploads.validation import Inspection, UploadRefused, inspect


class UploadInUse(Exception):
    """An upload that posts still show, so it may not be deleted."""

    def __init__(self, posts: list[Post]) -> None:
        super().__init__(", ".join(post.title for post in posts))
        self.posts = posts


def check_upload(file: IO[bytes], *, name: str, size: int, alt_text: str) -> Inspection:
    """Everything an upload must pass before it is stored (see uploads.validation)."""
    found = inspect(file, name, size)
    if found.kind == Upload.Kind.IMAGE and not alt_text.strip():
        raise UploadRefused(_("请为图片填写替代文字（描述图片内容）。"), field="alt_text")
    return found


def store_upload(upload: Upload, file: IO[bytes], found: Inspection) -> Upload:
    """Store a checked file and its copies and save `upload`; a failure leaves no file behind."""
    name = upload.original_name
    upload.title = upload.title.strip() or PurePosixPath(name).stem[:200] or _("未命名")
    upload.kind, upload.content_type = found.kind, found.content_type
    upload.width, upload.height = found.width, found.height
    stem = _storage_stem(name)
    widths = (THUMBNAIL_WIDTH,) if found.extension == "gif" else (THUMBNAIL_WIDTH, *PAGE_WIDTHS)
    copies = make_renditions(file, widths) if found.kind == Upload.Kind.IMAGE else []
    saved: list[str] = []
    try:
        file.seek(0)
        saved.append(default_storage.save(f"{stem}.{found.extension}", File(file)))
        upload.renditions = []
        for copy in copies:
            extension = rendition_extension(found.extension)
            data = ContentFile(copy.data)
            saved.append(default_storage.save(f"{stem}.{copy.width}w.{extension}", data))
            upload.renditions.append(
                {"width": copy.width, "height": copy.height, "name": saved[-1]}
            )
        upload.file.name = saved[0]
        with transaction.atomic():
            upload.save()
    except Exception:
        for stored in saved:
            default_storage.delete(stored)
        raise
    return upload


def create_upload(
    file: IO[bytes],
    *,
    name: str,
    size: int,
    title: str = "",
    alt_text: str = "",
    caption: str = "",
    uploader=None,
) -> Upload:
    """Check and store a file: UploadRefused, or the new Upload."""
    found = check_upload(file, name=name, size=size, alt_text=alt_text)
    upload = Upload(
        title=title,
        alt_text=alt_text.strip(),
        caption=caption.strip(),
        original_name=name,
        size=size,
        uploader=uploader,
    )
    return store_upload(upload, file, found)


def posts_using(upload: Upload) -> QuerySet:
    """Posts and pages whose text points at the upload or one of its copies."""
    # Copies are named `<stem>.<width>w.<ext>`, so the stem and its dot match them all.
    stem = upload.file.name.rsplit(".", 1)[0] + "."
    return Post.objects.filter(Q(body__contains=stem) | Q(excerpt__contains=stem)).only(
        "id", "title"
    )


def delete_upload(upload: Upload) -> None:
    """Delete an upload no post uses, and its files once the deletion is committed."""
    if posts := list(posts_using(upload)):
        raise UploadInUse(posts)
    names = upload.stored_names()
    with transaction.atomic():
        upload.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


def _storage_stem(name: str) -> str:
    """`uploads/<year>/<month>/<ascii slug>-<random>`: never the client's own name or path."""
    slug = slugify(PurePosixPath(name).stem)[:40].strip("-_") or "file"
    return f"uploads/{timezone.localdate():%Y/%m}/{slug}-{secrets.token_hex(4)}"
