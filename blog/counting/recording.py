"""Recording one counted read, on the site's day: into the Redis buffer when it is on, else into
this machine's journal, else (journal "off", or unwritable) straight to the database through its
vendor's recorder (the contract in contract.py)."""

import datetime as dt
import logging
from pathlib import Path

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from blog.counting import buffer, journal, postgresql, sqlite
from blog.counting.contract import Read, Recorder
from blog.models import Post

logger = logging.getLogger(__name__)

RECORDERS: dict[str, Recorder] = {
    "postgresql": postgresql.record_read,
    "sqlite": sqlite.record_read,
}

# Journal folders this process could not write to, each reported once.
_unwritable: set[Path] = set()

# The site's date, its zone and the Unix times the date starts and ends: worked out again only
# on another day (or in another zone, as tests set).
_day: tuple[dt.date, dt.tzinfo | None, float, float] = (dt.date.min, None, 0.0, 0.0)


def site_today() -> dt.date:
    """Today in the site's TIME_ZONE, which the day of a read is counted in."""
    global _day
    now, zone = timezone.now(), timezone.get_default_timezone()
    day, day_zone, starts, ends = _day
    if zone is not day_zone or not starts <= now.timestamp() < ends:
        day = timezone.localtime(now, zone).date()
        start = dt.datetime.combine(day, dt.time(), zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        _day = (day, zone, start.timestamp(), end.timestamp())
    return day


def add_view(post_id: int) -> Read:
    """Record one read of a published post: whether it counted, and what else is known."""
    day = site_today()
    try:
        if settings.SPACES_VIEW_BUFFER:
            if not Post.objects.published().filter(pk=post_id).exists():
                return Read(False)
            try:
                buffer.add(post_id, day)
                return Read(True)
            except redis.RedisError:
                logger.warning("Redis is unavailable; writing a view to the database directly")
        elif settings.SPACES_VIEW_JOURNAL != "off":
            folder = journal.directory()
            try:
                journal.add(folder, post_id, day)
            except OSError as error:
                if folder not in _unwritable:  # once per process, not a traceback per read
                    _unwritable.add(folder)
                    logger.warning(
                        "cannot write the reads journal (%s): reads go to the database directly",
                        error,
                    )
            else:
                flush_journal(folder)
                return Read(True)  # published or not, as the flush will tell
        return record_read(post_id, day)
    except DatabaseError:
        # A reader's page matters more than one count; the error is logged for the operator.
        logger.exception("could not record a view of post %s", post_id)
        return Read(False)


def flush_journal(folder: Path) -> None:
    """The journal's flush when it is due; a failure leaves the reads in the journal for the
    next one, and the reader's page is served all the same."""
    try:
        journal.flush_if_due(folder)
    except (OSError, DatabaseError):
        logger.exception("could not flush the reads journal; its reads wait for the next flush")


def record_read(post_id: int, day: dt.date) -> Read:
    """One read straight to the database, by the recorder for its vendor."""
    return RECORDERS[connection.vendor](post_id, day)
