import struct
import zlib
from io import BytesIO

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads land in a directory of the test's own, checked empty after a refusal."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def image_bytes(width: int, height: int, image_format: str = "PNG") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, image_format)
    return buffer.getvalue()


def image_file(
    name: str = "photo.png", width: int = 2000, height: int = 1000
) -> SimpleUploadedFile:
    image_format = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}[name.rsplit(".")[-1]]
    return SimpleUploadedFile(name, image_bytes(width, height, image_format))


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge size: what a decompression bomb looks like at first."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def in_group(name: str, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user
