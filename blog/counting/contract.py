"""The one contract every database's read recorder keeps (sqlite.py, postgresql.py): record one
read of a post if it is published and due, in a transaction (a savepoint inside a caller's)."""

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

from blog.caching.version import ContentState


class Read(NamedTuple):
    """What recording one read answers."""

    counted: bool
    views: int | None = None  # the post's new count, when known
    # The content version, when the database answered it with the count (token "": no row yet).
    version: ContentState | None = None


# (post id, the site's day) -> Read
Recorder = Callable[[int, dt.date], Read]
