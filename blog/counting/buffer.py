"""The Redis buffer of reads (SPACES_VIEW_BUFFER): reads are added to a Redis hash, and
`flush_views` moves them into the database in sealed batches, each applied exactly once.

It uses the shared cache's Redis connection (REDIS_URL, which SPACES_VIEW_BUFFER requires)."""

import datetime as dt
import logging
import uuid

import redis
from django.utils import timezone
from django_redis import get_redis_connection

from blog.counting.batches import ViewCounts, apply_once
from blog.models import ViewFlushBatch

logger = logging.getLogger(__name__)

# Redis keys share one hash tag, so the Lua script below also works on a Redis Cluster.
PENDING_KEY = "{spaces:views}:pending"
BATCHES_KEY = "{spaces:views}:batches"
BATCH_KEY = "{spaces:views}:batch:%s"
# Seal the pending hits as a batch: rename the hash and register the batch, both or neither.
SEAL_BATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""
# Applied batches are remembered this long after their Redis keys are gone.
BATCH_MEMORY = dt.timedelta(days=1)


def add(post_id: int, day: dt.date) -> None:
    """One read into the pending hash; raises RedisError when Redis cannot be reached, and at
    once while the cache's circuit breaker skips Redis after a failure (SPACES_REDIS_PAUSE)."""
    redis_client().hincrby(PENDING_KEY, f"{post_id}:{day}", 1)


def redis_client() -> redis.Redis:
    """The cache's client from django-redis: its connection pool, its timeouts and its circuit
    breaker (blog.cache.CircuitBreakingRedis)."""
    return get_redis_connection("default")


def parse_batch(fields: dict[bytes, bytes]) -> ViewCounts:
    counts: ViewCounts = {}
    for field, value in fields.items():
        try:
            post_id, day = field.decode().split(":")
            counts[(int(post_id), dt.date.fromisoformat(day))] = int(value)
        except (UnicodeDecodeError, ValueError):
            logger.warning("ignoring a malformed buffered view %r", field)
    return counts


def forget_batch(client: redis.Redis, batch: str) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(BATCH_KEY % batch)
        pipe.srem(BATCHES_KEY, batch)
        pipe.execute()


def apply_batch(client: redis.Redis, batch: str) -> int:
    """Move one sealed batch into the database once, then delete it; returns views added."""
    added = apply_once(batch, parse_batch(client.hgetall(BATCH_KEY % batch)))
    forget_batch(client, batch)
    return added


def flush_buffered_views() -> tuple[int, int]:
    """Move every buffered view into the database; returns (views added, batches handled).

    A batch's row in ViewFlushBatch commits with its counts, so a batch left in Redis by a crash
    (after the commit, before the cleanup) is deleted on the next run without being added again.
    """
    client = redis_client()
    batch = uuid.uuid4().hex
    client.eval(SEAL_BATCH, 3, PENDING_KEY, BATCH_KEY % batch, BATCHES_KEY, batch)
    batches = sorted(name.decode() for name in client.smembers(BATCHES_KEY))
    added = sum(apply_batch(client, name) for name in batches)
    still_registered = [name.decode() for name in client.smembers(BATCHES_KEY)]
    ViewFlushBatch.objects.filter(created_at__lt=timezone.now() - BATCH_MEMORY).exclude(
        batch__in=still_registered
    ).delete()
    return added, len(batches)
