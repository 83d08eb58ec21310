"""Recording a read on SQLite: the post's UPDATE … RETURNING and the day's upsert in one IMMEDIATE
transaction (or a savepoint of the caller's), on the driver's connection."""

import datetime as dt
import sqlite3
import time
from functools import lru_cache

from django.db import connection
from django.utils import timezone

from blog.counting.contract import Read
from blog.counting.sql import daily_upsert, quoted_names
from blog.models import PUBLISHED_STATUS, Post, published_sql


def record_read(post_id: int, day: dt.date) -> Read:
    """The `Recorder` for SQLite: on the driver's connection, since Django's cursor costs as much
    again as the two statements."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    day_value = connection.ops.adapt_datefield_value(day)
    connection.ensure_connection()
    with connection.wrap_database_errors:
        views = write(connection.connection, [post_id, PUBLISHED_STATUS, now], day_value)
    return Read(views is not None, views)


def write(db: sqlite3.Connection, post: list, day: str) -> int | None:
    """The new count of post [id, status, now], or None when it is not published and due."""
    if connection.in_atomic_block:
        begin, end, undo = "SAVEPOINT count_view", "RELEASE count_view", "ROLLBACK TO count_view"
    else:
        begin, end, undo = "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"
    run(db, begin)
    try:
        row = run(db, view_sql(), post)
        if row is not None:
            run(db, daily_upsert("?"), (post[0], day, 1))
        run(db, end)
    except BaseException:
        if db.in_transaction:
            run(db, undo)
            if connection.in_atomic_block:
                run(db, end)
        raise
    return None if row is None else row[0]


def run(db: sqlite3.Connection, sql: str, params: tuple | list = ()) -> tuple | None:
    """One statement's first row; logged where Django logs queries (DEBUG, tests' pins)."""
    started = time.monotonic()
    row = db.execute(sql, params).fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row


@lru_cache(maxsize=1)
def view_sql() -> str:
    """Add the read to a published post (parameters: id, PUBLISHED_STATUS, now)."""
    table, pk, views = quoted_names(Post, "id", "view_count")
    return (
        f"UPDATE {table} SET {views} = {views} + 1 "
        f"WHERE {pk} = ? AND {published_sql(table, '?', '?')} RETURNING {views}"
    )
