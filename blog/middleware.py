"""Requests refused before any view or database sees them: a NUL byte in the URL's path (404)
and a multipart body whose headers say it cannot be parsed (400)."""

import io
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParser


class RefuseMalformedRequests:
    """No slug, tag or key of the site contains a NUL byte, and PostgreSQL refuses any string
    that does: such a path names nothing (404), on every database alike. Query parameters are
    the views' to check, as unknown ones are ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            # Checks the boundary and length without reading the body (views may still choose
            # upload handlers or refuse a size first); raises MultiPartParserError: a 400.
            # A malformed body itself is a 400 wherever a view reads it (Django's own answer).
            MultiPartParser(request.META, io.BytesIO(), [], request.encoding)
        if "\x00" in request.path:
            raise Http404("No URL of this site contains a NUL byte.")
        return self.get_response(request)
