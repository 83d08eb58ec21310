from django.conf import settings
from django.http import HttpRequest


def absolute_url(request: HttpRequest | None, path: str) -> str:
    """`path` on the canonical base URL, or on the request's own scheme and host without one."""
    if settings.SPACES_BASE_URL:
        return settings.SPACES_BASE_URL + path
    if request is None:
        return path
    return request.build_absolute_uri(path)
