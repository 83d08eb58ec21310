"""Checking an uploaded file before anything is stored: its name, size, type and, for images,
its pixels (with Pillow). Every refusal is an `UploadRefused` carrying a message for people."""

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

# Pillow's format name → the extension the stored file gets and the type it is served as.
IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "webp"}
# Attachments: served as downloads or plain text, never as anything a browser runs.
FILE_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "txt": "text/plain",
    "csv": "text/csv",
    "tex": "text/plain",
    "bib": "text/plain",
}
TEXT_EXTENSIONS = {"txt", "csv", "tex", "bib"}
# Names a browser would run as a document or script when served from our own origin.
ACTIVE_EXTENSIONS = {"svg", "svgz", "html", "htm", "xhtml", "xml", "js", "mjs", "xht", "swf"}
# EXIF orientations that turn the picture by 90°: its displayed width is the stored height.
_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class UploadRefused(ValueError):
    """A file that may not be stored, with the reason in words and the field it concerns."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Inspection:
    """What the checks found out about an acceptable file."""

    kind: str  # "image" or "file", the values of Upload.Kind
    extension: str
    content_type: str
    width: int | None = None
    height: int | None = None


def check_name(name: str) -> str:
    """The client's file name if harmless, else UploadRefused; the stored name is never it."""
    if not name or _CONTROL_RE.search(name):
        raise UploadRefused(_("文件名为空或含有控制字符。"))
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise UploadRefused(_("文件名不能包含路径（“/”、“\\”或“..”）。"))
    if len(name) > 200:
        raise UploadRefused(_("文件名太长（最多 200 个字符）。"))
    return name


def check_size(size: int) -> None:
    limit = settings.SPACES_UPLOAD_MAX_BYTES
    if size > limit:
        raise UploadRefused(
            _("文件太大（%(size)s），上限为 %(limit)s。")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise UploadRefused(_("文件是空的。"))


def inspect(file: IO[bytes], name: str, size: int) -> Inspection:
    """Check a file of `size` bytes called `name`; raise UploadRefused or describe it."""
    check_name(name)
    check_size(size)
    extension = PurePosixPath(name).suffix.lower().lstrip(".")
    if extension in ACTIVE_EXTENSIONS:
        raise UploadRefused(
            _("不接受 %(ext)s 文件：浏览器会把它当作网页或脚本运行。请先转换为 PNG 或 PDF。")
            % {"ext": extension.upper()}
        )
    if extension in IMAGE_EXTENSIONS:
        return inspect_image(file)
    if extension in FILE_TYPES:
        _check_attachment(file, extension)
        return Inspection("file", extension, FILE_TYPES[extension])
    allowed = ", ".join(sorted(IMAGE_EXTENSIONS | set(FILE_TYPES)))
    raise UploadRefused(_("不支持这种文件类型。可以上传：%(allowed)s。") % {"allowed": allowed})


def inspect_image(file: IO[bytes]) -> Inspection:
    """Open the image header, check its pixel count, then decode it whole to prove it real."""
    limit = settings.SPACES_UPLOAD_MAX_PIXELS
    too_many = _("图片像素太多（上限 %(limit)s 万像素），可能是“解压炸弹”，已拒绝。") % {
        "limit": limit // 10_000
    }
    not_image = _("这不是一张有效的图片（JPEG、PNG、GIF 或 WebP），或者文件已损坏。")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            file.seek(0)
            with Image.open(file) as image:
                if image.format not in IMAGE_FORMATS:
                    raise UploadRefused(not_image)
                width, height = image.size
                if width * height * getattr(image, "n_frames", 1) > limit:
                    raise UploadRefused(too_many)
                image_format = image.format
                image.load()
                if image.getexif().get(_ORIENTATION) in _QUARTER_TURNS:
                    width, height = height, width
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise UploadRefused(too_many) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise UploadRefused(not_image) from error
    extension, content_type = IMAGE_FORMATS[image_format]
    return Inspection("image", extension, content_type, width, height)


def _check_attachment(file: IO[bytes], extension: str) -> None:
    file.seek(0)
    head = file.read(64 * 1024)
    file.seek(0)
    wrong = _("文件内容与扩展名 .%(ext)s 不符。") % {"ext": extension}
    if extension == "pdf" and not head.startswith(b"%PDF-"):
        raise UploadRefused(wrong)
    if extension == "zip" and not zipfile.is_zipfile(file):
        raise UploadRefused(wrong)
    if extension in TEXT_EXTENSIONS:
        try:
            # A multi-byte character may be cut at the end of the sample.
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 3:
                raise UploadRefused(_("文本文件须为 UTF-8 编码。")) from error
        if b"\x00" in head:
            raise UploadRefused(wrong)
    file.seek(0)
