"""Smaller copies of an uploaded image, made once at upload so pages never send the original."""

from dataclasses import dataclass
from io import BytesIO
from typing import IO

from PIL import Image, ImageOps

# The list's and picker's thumbnail, then the widths an article may show (its column is 46rem).
THUMBNAIL_WIDTH = 240
PAGE_WIDTHS = (800, 1600)
_SAVE_OPTIONS = {
    "JPEG": {"quality": 85, "optimize": True, "progressive": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 82, "method": 4},
}


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


def make_renditions(file: IO[bytes], widths: tuple[int, ...]) -> list[Rendition]:
    """One copy per width narrower than the image, turned upright, without its metadata.

    GIFs keep their animation by having no page-sized copies; their thumbnail is a still PNG.
    """
    file.seek(0)
    with Image.open(file) as original:
        image_format = original.format if original.format in _SAVE_OPTIONS else "PNG"
        image = ImageOps.exif_transpose(original)
        if image_format == "JPEG":
            image = image.convert("RGB")
        elif image.mode not in {"RGB", "RGBA", "L", "LA"}:
            image = image.convert("RGBA")
        renditions = []
        for width in widths:
            if width >= image.width:
                continue
            height = max(1, round(image.height * width / image.width))
            copy = image.resize((width, height), Image.Resampling.LANCZOS)
            buffer = BytesIO()
            copy.save(buffer, image_format, **_SAVE_OPTIONS[image_format])
            renditions.append(Rendition(width, height, buffer.getvalue()))
    return renditions


def rendition_extension(extension: str) -> str:
    """The extension of an image's copies: its own, or PNG for a GIF's still thumbnail."""
    return "png" if extension == "gif" else extension
