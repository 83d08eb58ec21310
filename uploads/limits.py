"""Refusing a request body too large for the upload limit before anything reads it."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD = 64 * 1024


def body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # the request parser answers 400 for it
    return length > settings.SPACES_UPLOAD_MAX_BYTES + FORM_OVERHEAD


def refuse_large_bodies(respond: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Answer `respond(request)` (a 413) for an oversized POST without reading its body.

    CsrfViewMiddleware reads the POST data of every view it guards, so the wrapped view must
    protect itself (the admin's views do, with csrf_protect) and this wrapper is exempt.
    """

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and body_too_large(request):
                return respond(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
