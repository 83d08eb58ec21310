import html
import re
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.translation import gettext as _

from blog.models import Author, Category, Tag


def base_url(request: HttpRequest | None) -> str:
    """The site's absolute URL without the final slash ("" with neither a setting nor a request)."""
    return absolute_url(request, "/").removesuffix("/")


def absolute_url(request: HttpRequest | None, path: str) -> str:
    """`path` on the canonical base URL, or on the request's own scheme and host without one."""
    if settings.SPACES_BASE_URL:
        return settings.SPACES_BASE_URL + path
    if request is None:
        return path
    try:
        return request.build_absolute_uri(path)
    except DisallowedHost:  # the error page of a request refused for its Host header
        return path


def listing_title(subject: Author | Category | Tag) -> str:
    """The heading of a category's, tag's or author's posts, shared by pages and feeds."""
    if isinstance(subject, Author):
        return _("%(name)s 发布的文章") % {"name": subject.display_name}
    if isinstance(subject, Category):
        return _("分类 %(name)s 下的文章") % {"name": subject.name}
    return _("标签 %(name)s 下的文章") % {"name": subject.name}


def asset_url(value: str) -> str:
    """A setting naming a file: a full URL or a path from the root as it is, else a static file."""
    if value.startswith(("http://", "https://", "/")):
        return value
    return static(value)


_FIGURE_IMAGE_RE = re.compile(r'<figure\b[^>]*>.*?<img\b[^>]*?\bsrc="([^"]+)"', re.DOTALL)


def share_image(base: str, page_url: str, body_html: str = "") -> str:
    """The absolute URL of the image a shared page (at absolute `page_url`) shows: its first
    figure's, else the site's default image on the site's base URL `base`."""
    if found := _FIGURE_IMAGE_RE.search(body_html):
        return urljoin(page_url, html.unescape(found[1]))
    image = asset_url(settings.SPACES_DEFAULT_IMAGE) if settings.SPACES_DEFAULT_IMAGE else ""
    return base + image if image.startswith("/") else image
