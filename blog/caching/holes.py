"""Holes in cached pages: a marker a template tag writes where a per-request value goes (a
reader count) while the page is rendered for the cache, and the fillers that answer them.

A cached page is the same for every anonymous reader except for its holes. While a page is
rendered for the cache (the template context's `for_cache`), tags write a marker (NUL,
name:argument, NUL) where a hole goes; every response then fills the markers afresh, so a cache
hit still shows the live counts. A kind of hole may also have a personal filler, which fills it
for a visitor with a personal cookie (a remembered commenter's form), or refuses them when the
page must be rendered for them.
"""

from collections.abc import Callable, Mapping

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from blog.caching.gzip_holes import deflate_part

HOLE = "\x00"
# What fills one kind of hole: [argument, …] -> [HTML, …], one per argument, in order.
Filler = Callable[[list[str]], list[str]]
# Holes whose contents a caller already knows, by (name, argument): e.g. the count just written.
Known = Mapping[tuple[str, str], str]
# What fills one kind of hole for one visitor: (request, [argument, …]) -> [HTML, …], or None
# when the page must be rendered afresh for them.
PersonalFiller = Callable[[HttpRequest, list[str]], list[str] | None]
_fillers: dict[str, Filler] = {}
_personal: dict[str, PersonalFiller] = {}


class Fragment(SafeString):
    """HTML for a hole that holds nothing of any reader's (a sidebar, an empty form): cached
    pages sent gzipped carry it compressed, with its deflate data made once, where other hole
    values go uncompressed."""

    deflated: bytes


def fragment(html: str) -> Fragment:
    value = Fragment(html)
    value.deflated = deflate_part(html.encode())
    return value


def register_hole(name: str, filler: Filler, personal: PersonalFiller | None = None) -> None:
    _fillers[name] = filler
    if personal is not None:
        _personal[name] = personal


def hole(for_cache: bool, name: str, argument: object, render: Callable[[], str]) -> str:
    """A marker while the page is rendered for the cache, else `render()` at once."""
    if for_cache:
        return mark_safe(f"{HOLE}{name}:{argument}{HOLE}")  # NUL never occurs in escaped text
    return render()


def split_holes(html: str) -> list[str] | None:
    """Text and markers alternating; None when a NUL does not start a known marker."""
    parts = html.split(HOLE)
    if len(parts) % 2 == 0 or any(part.partition(":")[0] not in _fillers for part in parts[1::2]):
        return None
    return parts


def fill_holes(parts: list[str], known: Known) -> list[str]:
    """What goes into each of the holes among `parts`, in order: `known` values, else what
    each kind's filler answers (one call per kind)."""
    wanted: dict[str, list[str]] = {}
    for marker in parts[1::2]:
        name, _, argument = marker.partition(":")
        if (name, argument) not in known:
            wanted.setdefault(name, []).append(argument)
    answers = {
        (name, argument): value
        for name, arguments in wanted.items()
        for argument, value in zip(arguments, _fillers[name](arguments), strict=True)
    }
    keys = [tuple(marker.partition(":")[::2]) for marker in parts[1::2]]
    return [known[key] if key in known else answers[key] for key in keys]


def personal_holes(parts: list[str], request: HttpRequest) -> Known | None:
    """The visitor's own values for the personal holes among `parts` (none: empty); None when
    a filler refuses them."""
    wanted: dict[str, list[str]] = {}
    for marker in parts[1::2]:
        name, _, argument = marker.partition(":")
        if name in _personal:
            wanted.setdefault(name, []).append(argument)
    known = {}
    for name, arguments in wanted.items():
        values = _personal[name](request, arguments)
        if values is None:
            return None
        known.update(zip(((name, argument) for argument in arguments), values, strict=True))
    return known


def filled(parts: list[str], values: list[str]) -> str:
    pieces = list(parts)
    pieces[1::2] = values
    return "".join(pieces)
