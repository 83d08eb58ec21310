"""Which copies of an uploaded image an article shows: `srcset` for the Markdown pipeline.

Named by settings.SPACES_IMAGE_SOURCES, so that blog's pipeline needs no import of this app.
"""

from collections.abc import Collection

from django.core.files.storage import default_storage

from blog.rendering import ImageSources
from uploads.models import Upload
from uploads.renditions import PAGE_WIDTHS

# The article column is 46rem wide, and the whole window less its padding on a phone.
SIZES = "(max-width: 860px) calc(100vw - 2rem), 46rem"


def image_sources(urls: Collection[str]) -> dict[str, ImageSources]:
    """Sources for those of `urls` that are uploaded images, in one query."""
    prefix = default_storage.url("")
    names = {url[len(prefix) :]: url for url in urls if url.startswith(prefix) and url != prefix}
    if not names:
        return {}
    found = {}
    for upload in (
        Upload.objects.images().filter(file__in=names).only("file", "width", "height", "renditions")
    ):
        candidates = [
            (copy["width"], copy["height"], default_storage.url(copy["name"]))
            for copy in upload.renditions
            if copy["width"] in PAGE_WIDTHS
        ]
        if upload.width <= max(PAGE_WIDTHS):
            candidates.append((upload.width, upload.height, upload.file.url))
        if not candidates:
            continue
        width, height, src = max(candidates)
        srcset = ", ".join(f"{url} {w}w" for w, _h, url in sorted(candidates))
        found[names[upload.file.name]] = ImageSources(
            src=src,
            srcset=srcset if len(candidates) > 1 else "",
            sizes=SIZES,
            width=width,
            height=height,
        )
    return found
