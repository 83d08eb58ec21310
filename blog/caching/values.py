"""Values derived from the published archive (sidebars, navigation, the archive tree), computed
once per version of the scopes they show and kept in the shared cache, with copies in this
process."""

import pickle
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from blog.caching.local import LocalCopies
from blog.caching.release import release
from blog.caching.version import SITE_WIDE, content_version

LOCAL_VALUES_BYTES = 16 * 1024 * 1024  # per process
MISSING = object()


def shared(key: str, version: str) -> Any:
    """The value the shared cache holds under `key` for `version`, or MISSING."""
    entry = cache.get(key)
    if entry is None or entry[0] != version:
        return MISSING
    return entry[1]


def store(key: str, version: str, value: Any) -> None:
    cache.set(key, (version, value), settings.SPACES_DISCOVERY_CACHE_SECONDS)


_local_values = LocalCopies(LOCAL_VALUES_BYTES, lambda value: len(pickle.dumps(value, -1)))


def cached(
    name: str, compute: Callable[[], Any], *key: object, scopes: Iterable[str] = SITE_WIDE
) -> Any:
    """`compute()`, cached in the shared cache under the version of `scopes` (what it shows; see
    blog.caching.version), and copied into this process (callers must not change what it
    returns)."""
    full_key = ":".join(str(part) for part in ("spaces", release(), name, *key))
    version = content_version(scopes)
    if (value := _local_values.get_many(version, [full_key]).get(full_key, MISSING)) is MISSING:
        value = shared(full_key, version)
        if value is MISSING:
            value = compute()
            store(full_key, version, value)
        _local_values.keep(version, {full_key: value})
    return value
