"""The shared cache: on Redis through django-redis, skipping a Redis that failed for a while
(a circuit breaker), or in a database table written with one statement per value."""

import base64
import itertools
import logging
import pickle
import random
import threading
import time
import weakref
from datetime import UTC, datetime
from time import monotonic
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends import db
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import connections, router
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Closed while calls succeed; a failure opens it for `pause` seconds, during which calls are
    skipped; then one call may try again (and closes it, or opens it once more).

    Its state is this process's own: each app server finds out for itself that Redis is back,
    which costs at most one timeout per process and pause."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.open_until = 0.0  # 0: closed
        self._lock = threading.Lock()

    def allow(self) -> bool:
        if not self.open_until:
            return True
        with self._lock:
            now = monotonic()
            if now < self.open_until:
                return False
            self.open_until = now + self.pause  # this call tries; the others wait for it
            return True

    def succeeded(self) -> None:
        if self.open_until:
            with self._lock:
                self.open_until = 0.0
            logger.warning("Redis answers again; the cache is back in use.")

    def failed(self, error: Exception) -> None:
        with self._lock:
            self.open_until = monotonic() + self.pause
        logger.warning("Redis failed (%s); skipping the cache for %g s.", error, self.pause)


# One breaker per connection pool, shared by the process's threads (each has its own client).
_breakers: "weakref.WeakKeyDictionary[redis.ConnectionPool, CircuitBreaker]" = (
    weakref.WeakKeyDictionary()
)
_breakers_lock = threading.Lock()

OUTAGE = (redis.ConnectionError, redis.TimeoutError)


class CircuitBreakingRedis(redis.Redis):
    """redis-py's client for django-redis (its REDIS_CLIENT_CLASS option), failing at once while
    its pool's breaker is open. django-redis's IGNORE_EXCEPTIONS then turns each failure into a
    miss, so a Redis that is down or silent costs one timeout per pause, not one per call."""

    def __init__(self, *args, pause: float = 10.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        with _breakers_lock:
            self.breaker = _breakers.setdefault(self.connection_pool, CircuitBreaker(pause))

    def execute_command(self, *args, **options) -> Any:
        if not self.breaker.allow():
            raise redis.ConnectionError("Redis is skipped for a while after a failure.")
        try:
            result = super().execute_command(*args, **options)
        except OUTAGE as error:
            self.breaker.failed(error)
            raise
        self.breaker.succeeded()
        return result

    def pipeline(self, *args, **kwargs) -> redis.client.Pipeline:
        if not self.breaker.allow():
            raise redis.ConnectionError("Redis is skipped for a while after a failure.")
        return super().pipeline(*args, **kwargs)


class DatabaseCache(db.DatabaseCache):
    """Django's database cache, but writing a value is one upsert instead of a count of the whole
    table and a transaction of three statements; the table is culled on every `cull_every`-th
    value a process writes instead.

    A cull deletes the expired rows, then the rows that expire soonest (never-expiring ones sort
    last) until MAX_ENTRIES are left; CULL_FREQUENCY is not used. So the table holds at most
    MAX_ENTRIES rows, plus `cull_every` (or one `set_many`) for each process that has written
    since the last cull. Reads, `add` and `touch` are Django's (those two still count the table,
    and cull this way). Database errors raise: Django ignores them while saving only because two
    inserts of one key could collide, which an upsert cannot."""

    cull_every = 100
    # One count per process, shared by its threads and requests; starting it at random lets
    # processes that write fewer than `cull_every` values (commands, recycled workers) cull too.
    _writes = itertools.count(random.randrange(cull_every))

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> None:
        self.set_many({key: value}, timeout, version)

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version=None) -> list:
        """Store all of `data` in one statement (per batch, for SQLite's parameter limit)."""
        if not data:
            return []
        values = {self.make_and_validate_key(key, version=version): v for key, v in data.items()}
        expires_at = self.get_backend_timeout(timeout)
        if expires_at is not None and expires_at <= time.time():  # timeout 0 or negative
            self._base_delete_many(list(values))
            return []
        using = router.db_for_write(self.cache_model_class)
        connection = connections[using]
        expires = connection.ops.adapt_datetimefield_value(self._expiry(expires_at))
        rows = [(key, self._encode(value), expires) for key, value in values.items()]
        size = connection.ops.bulk_batch_size(["cache_key", "value", "expires"], rows)
        writes = [next(self._writes) for _ in rows]  # one per value, so set_many counts in full
        cull_due = any(write % self.cull_every == 0 for write in writes)
        with connection.cursor() as cursor:
            for start in range(0, len(rows), size):
                batch = rows[start : start + size]
                cursor.execute(
                    self._upsert_sql(connection, len(batch)),
                    [param for row in batch for param in row],
                )
            if cull_due:
                self._cull(using, cursor, timezone.now())
        return []

    def _upsert_sql(self, connection, rows: int) -> str:
        quote = connection.ops.quote_name
        table, key, value, expires = map(quote, (self._table, "cache_key", "value", "expires"))
        return (
            f"INSERT INTO {table} ({key}, {value}, {expires}) "
            f"VALUES {', '.join(['(%s, %s, %s)'] * rows)} "
            f"ON CONFLICT ({key}) DO UPDATE "
            f"SET {value} = excluded.{value}, {expires} = excluded.{expires}"
        )

    def _encode(self, value: Any) -> str:
        """Pickled, then base64 for the text column: what Django's `get` decodes."""
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("ascii")

    def _expiry(self, expires_at: float | None) -> datetime:
        """The `expires` column's value, to the second and never-expiring at `datetime.max`, as
        Django writes it."""
        tz = UTC if settings.USE_TZ else None
        if expires_at is None:
            return datetime.max.replace(microsecond=0, tzinfo=tz)
        return datetime.fromtimestamp(expires_at, tz=tz).replace(microsecond=0)

    def _cull(
        self, using: str, cursor: CursorWrapper, now: datetime, num: int | None = None
    ) -> None:
        """Delete the expired rows, then the soonest to expire down to MAX_ENTRIES. Django's `add`
        and `touch` call this when their count (`num`) is over MAX_ENTRIES."""
        connection = connections[using]
        quote = connection.ops.quote_name
        table, key, expires = map(quote, (self._table, "cache_key", "expires"))
        now = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(f"DELETE FROM {table} WHERE {expires} < %s", [now])
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        if (excess := cursor.fetchone()[0] - self._max_entries) > 0:
            cursor.execute(
                f"DELETE FROM {table} WHERE {key} IN "
                f"(SELECT {key} FROM {table} ORDER BY {expires} LIMIT %s)",
                [excess],
            )
