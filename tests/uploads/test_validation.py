"""Checking and storing files: what is accepted, what is refused; refusals leave nothing."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.uploads.conftest import image_bytes, image_file, png_header, stored_files
from uploads.models import Upload
from uploads.services import create_upload
from uploads.validation import UploadRefused

pytestmark = pytest.mark.django_db


def upload(file: SimpleUploadedFile, name: str | None = None, **kwargs) -> Upload:
    kwargs.setdefault("alt_text", "一张图")
    return create_upload(file, name=name or file.name, size=file.size, **kwargs)


def assert_refused(file, match: str, media_root, name: str | None = None, **kwargs) -> None:
    with pytest.raises(UploadRefused, match=match):
        upload(file, name, **kwargs)
    assert Upload.objects.count() == 0
    assert stored_files(media_root) == []


def test_create_upload_stores_the_image_and_its_copies(media_root):
    created = upload(image_file("Wide Photo.png", 2000, 1000), caption="图注")

    assert (created.kind, created.width, created.height) == ("image", 2000, 1000)
    assert created.file.name.startswith("uploads/")
    assert created.file.name.endswith(".png")
    assert "wide-photo-" in created.file.name
    assert [copy["width"] for copy in created.renditions] == [240, 800, 1600]
    assert created.renditions[1]["height"] == 400
    assert len(stored_files(media_root)) == 4
    assert created.markdown == f'![一张图]({created.file.url} "图注")'


def test_small_image_gets_no_page_copies(media_root):
    created = upload(image_file("small.jpg", 200, 100))
    assert created.renditions == []
    assert created.content_type == "image/jpeg"
    assert stored_files(media_root) == [created.file.name]


def test_image_extension_follows_its_real_format(media_root):
    file = SimpleUploadedFile("really-a-png.jpg", image_bytes(300, 200, "PNG"))
    created = upload(file)
    assert created.file.name.endswith(".png")
    assert created.content_type == "image/png"


def test_exif_rotation_is_applied_to_the_dimensions(media_root):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # turned by 90°
    Image.new("RGB", (1000, 500)).save(buffer, "JPEG", exif=exif)
    created = upload(SimpleUploadedFile("phone.jpg", buffer.getvalue()))
    assert (created.width, created.height) == (500, 1000)
    assert created.renditions[0] == {**created.renditions[0], "width": 240, "height": 480}


def test_renamed_non_image_is_refused(media_root):
    file = SimpleUploadedFile("holiday.png", b"#!/bin/sh\necho not a picture\n" * 10)
    assert_refused(file, "不是一张有效的图片", media_root)


def test_decompression_bomb_is_refused_before_decoding(media_root):
    file = SimpleUploadedFile("bomb.png", png_header(50_000, 50_000))
    assert file.size < 200
    assert_refused(file, "像素太多", media_root)


def test_pixel_limit_is_a_setting(media_root, settings):
    settings.SPACES_UPLOAD_MAX_PIXELS = 1000 * 1000
    assert_refused(image_file("big.png", 1001, 1000), "上限 100 万像素", media_root)


def test_svg_is_refused_even_without_script(media_root):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert_refused(SimpleUploadedFile("chart.svg", svg), "SVG", media_root)


def test_html_and_unknown_types_are_refused(media_root):
    assert_refused(SimpleUploadedFile("page.html", b"<script>x</script>"), "HTML", media_root)
    assert_refused(SimpleUploadedFile("tool.exe", b"MZ\x90\x00"), "不支持这种文件类型", media_root)


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.png", "..\\evil.png", "a\x00b.png", "tab\there.png", "\x1b[31m.png", ".."],
)
def test_names_with_paths_or_control_characters_are_refused(media_root, name):
    assert_refused(image_file("photo.png", 300, 200), "文件名", media_root, name=name)


def test_file_over_the_size_limit_is_refused(media_root, settings):
    settings.SPACES_UPLOAD_MAX_BYTES = 1000
    assert_refused(SimpleUploadedFile("notes.txt", b"x" * 1001), "文件太大", media_root)


def test_images_need_alt_text(media_root):
    assert_refused(image_file("photo.png", 300, 200), "替代文字", media_root, alt_text="  ")


def test_attachments_are_checked_against_their_extension(media_root):
    pdf = upload(SimpleUploadedFile("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\n"), alt_text="")
    assert (pdf.kind, pdf.content_type, pdf.width) == ("file", "application/pdf", None)
    assert pdf.markdown == f"[paper]({pdf.file.url})"
    pdf.delete()
    for path in media_root.rglob("*.pdf"):
        path.unlink()
    assert_refused(SimpleUploadedFile("fake.pdf", b"<html>"), "不符", media_root, alt_text="")
    assert_refused(SimpleUploadedFile("data.csv", b"\xff\xfe\x00a"), "UTF-8", media_root)


def test_a_storage_failure_leaves_no_file_behind(media_root):
    from django.core.files.storage import default_storage

    real_save, calls = default_storage.save, []

    def failing_save(name, content, **kwargs):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_save(name, content, **kwargs)

    with (
        mock.patch.object(default_storage, "save", failing_save),
        pytest.raises(OSError, match="disk full"),
    ):
        upload(image_file("photo.png", 2000, 1000))
    assert len(calls) == 3
    assert Upload.objects.count() == 0
    assert stored_files(media_root) == []
