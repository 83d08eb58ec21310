"""Old addresses of imported content answer with a 301 to where it is now, never off the site."""

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from importers.models import Redirect

MAX_PATH = Redirect._meta.get_field("old_path").max_length


def is_site_path(path: str) -> bool:
    """A path on this site: starts with one "/", has no scheme, host or control characters."""
    return (
        path.startswith("/")
        and not path.startswith(("//", "/\\"))
        and not any(ord(ch) < 32 for ch in path)
        and url_has_allowed_host_and_scheme(path, allowed_hosts=None)
    )


def add_redirects(pairs: Iterable[tuple[str, str]]) -> int:
    """Record (old path, new path) pairs, replacing the target of paths already known.

    Raises ValueError for a new path that is not on this site; pairs mapping a path to itself
    (nothing to do) or with an old path too long to store are left out. Returns how many."""
    rows: dict[str, Redirect] = {}
    for old, new in pairs:
        if not is_site_path(new):
            raise ValueError(f"a redirect must stay on this site, not go to {new!r}")
        if old != new and is_site_path(old) and len(old) <= MAX_PATH:
            rows[old] = Redirect(old_path=old, new_path=new)
    Redirect.objects.bulk_create(
        rows.values(), update_conflicts=True, unique_fields=["old_path"], update_fields=["new_path"]
    )
    return len(rows)


def add_redirect(old_path: str, new_path: str) -> None:
    add_redirects([(old_path, new_path)])


def _candidates(request: HttpRequest) -> list[str]:
    path = request.path
    other = path[:-1] if path.endswith("/") and path != "/" else path + "/"
    query = request.META.get("QUERY_STRING", "")
    found = [f"{path}?{query}"] if query else []
    return [*found, path, other]


def _target(paths: list[str]) -> str | None:
    found = dict(Redirect.objects.filter(old_path__in=paths).values_list("old_path", "new_path"))
    for path in paths:
        if is_site_path(found.get(path, "")):
            return found[path]
    return None


class RedirectFallbackMiddleware:
    """Answers old paths with their redirect: after a 404, or first for `/?query` addresses
    (WordPress's `?p=<id>`), which the home page would otherwise serve."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/" and request.META.get("QUERY_STRING"):
            target = _target(_candidates(request)[:1])
            if target:
                return HttpResponsePermanentRedirect(target)
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        target = _target(_candidates(request))
        return HttpResponsePermanentRedirect(target) if target else response
