"""CSRF tokens for the holes of cached pages, at a tenth of the price.

A token is what `django.middleware.csrf.get_token` hands out: the reader's secret (set as the
CSRF cookie if they have none yet) masked with a fresh random mask, 64 characters of the same
alphabet, which `CsrfViewMiddleware` checks as usual. Django draws each of the 64 random
characters with its own system call, ~90 µs per article request; this draws them with one.
"""

import os

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.utils.html import format_html
from django.utils.safestring import SafeString

BASE = len(CSRF_ALLOWED_CHARS)
# Bytes below the largest multiple of BASE map onto the alphabet evenly; the rest are drawn again.
UNBIASED = 256 - 256 % BASE


def random_chars(length: int) -> str:
    """`length` characters drawn uniformly from the CSRF alphabet by the OS's generator."""
    chars: list[str] = []
    while len(chars) < length:
        chars += [CSRF_ALLOWED_CHARS[b % BASE] for b in os.urandom(length + 8) if b < UNBIASED]
    return "".join(chars[:length])


POSITION = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}


def masked(secret: str, mask: str) -> str:
    """The token for `secret`: the mask, then each secret character shifted by the mask's."""
    chars, position = CSRF_ALLOWED_CHARS, POSITION
    shifted = [chars[(position[s] + position[m]) % BASE] for s, m in zip(secret, mask, strict=True)]
    return mask + "".join(shifted)


def csrf_token(request: HttpRequest) -> str:
    """This reader's CSRF token, as `get_token` would give it (which it is, with sessions)."""
    if settings.CSRF_USE_SESSIONS:
        return get_token(request)
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_chars(CSRF_SECRET_LENGTH)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # the middleware sets or renews the cookie
    return masked(secret, random_chars(CSRF_SECRET_LENGTH))


def csrf_input(request: HttpRequest) -> SafeString:
    token = csrf_token(request)
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
