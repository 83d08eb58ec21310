"""The shared cache on Redis, where an outage costs speed rather than pages."""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _quiet(name: str, fallback: Callable[..., Any]) -> Callable:
    """RedisCache's method `name`, answering `fallback(...)` while Redis cannot be reached."""
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def quiet(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            logger.warning("The Redis cache is unavailable (%s): %s", name, error)
            return fallback(*args, **kwargs)

    return quiet


def _nothing(*args, **kwargs) -> None:
    return None


def _no(*args, **kwargs) -> bool:
    return False


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, except that while Redis cannot be reached reads miss and writes are
    dropped (and logged) instead of failing the request: every cached thing can be computed again.
    `incr` still raises, since its callers count on the result."""

    get = _quiet("get", lambda key, default=None, version=None: default)
    get_many = _quiet("get_many", lambda keys, version=None: {})
    set_many = _quiet("set_many", lambda data, *args, **kwargs: list(data))  # none was stored
    set = _quiet("set", _nothing)
    delete_many = _quiet("delete_many", _nothing)
    has_key = _quiet("has_key", _no)
    add = _quiet("add", _no)
    touch = _quiet("touch", _no)
    delete = _quiet("delete", _no)
    clear = _quiet("clear", _no)
