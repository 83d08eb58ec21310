"""Requests refused before any view or database sees them: a NUL byte in the URL's path (404)
and a form body that cannot be parsed (400)."""

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

# Bodies Django parses into request.POST; parsing them here turns a malformed one into a 400 at
# any URL, before a view, a 404 page or a middleware can stumble on it.
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


class RefuseMalformedRequests:
    """No slug, tag or key of the site contains a NUL byte, and PostgreSQL refuses any string
    that does: such a path names nothing (404), on every database alike. Query parameters are
    the views' to check, as unknown ones are ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type in FORM_TYPES:
            request.POST  # noqa: B018 (a malformed body raises MultiPartParserError: a 400)
        if "\x00" in request.path:
            raise Http404("No URL of this site contains a NUL byte.")
        return self.get_response(request)
