"""Recording a read on SQLite: the upsert of the post's total … RETURNING, the day's upsert and
the content version's tokens in one IMMEDIATE transaction (or a savepoint of the caller's), on
the driver's connection, in turn with the other worker processes that count."""

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from blog.caching.version import SITE_WIDE, post_scope, state_of
from blog.counting.contract import Read
from blog.counting.sql import add_views_sql, daily_upsert, quoted_names
from blog.models import PUBLISHED_STATUS, ContentVersion

# The open turn files, by database file: (process id, file descriptor).
_turn_files: dict[str, tuple[int, int]] = {}


def record_read(post_id: int, day: dt.date) -> Read:
    """The `Recorder` for SQLite, answering with the tokens of the scopes the article's cached
    page needs, read in the same transaction as PostgreSQL's function does (one more statement
    there instead of a query through Django's cursor after it: 0.05 ms less per counted read).

    On the driver's connection, since Django's cursor costs as much again as the statements;
    the thread's connection is looked up once (each attribute of `django.db.connection` looks it
    up again, a few µs each, 10 % of a counted read)."""
    db = connections[DEFAULT_DB_ALIAS]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    scopes = [*SITE_WIDE, post_scope(post_id)]
    db.ensure_connection()
    with db.wrap_database_errors:
        views, tokens = write(
            db, [post_id, PUBLISHED_STATUS, now], db.ops.adapt_datefield_value(day), scopes
        )
    return Read(views is not None, views, None if tokens is None else state_of(scopes, tokens))


def write(
    db: BaseDatabaseWrapper, post: list, day: str, scopes: list[str]
) -> tuple[int | None, list[tuple] | None]:
    """The new count of post [id, status, now], None when it is not published and due, and the
    (scope, token, valid_until) rows of `scopes` (None in a caller's transaction)."""
    in_atomic = db.in_atomic_block
    if in_atomic:
        begin, end, undo = "SAVEPOINT count_view", "RELEASE count_view", "ROLLBACK TO count_view"
    else:
        begin, end, undo = "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"
    # Inside a caller's transaction, which may hold SQLite's write lock already, waiting for a
    # turn could wait for a process that waits for this one.
    with nullcontext() if in_atomic else write_turn(db):
        statements = Statements(db)
        statements.run(begin)
        try:
            counted = statements.run(view_sql(), post)
            if counted:
                statements.run(daily_upsert("?"), (post[0], day, 1))
            # In a caller's transaction its own changes decide the version (pending_change).
            tokens = None if in_atomic else statements.run(version_sql(len(scopes)), scopes)
            statements.run(end)
        except BaseException:
            if db.connection.in_transaction:
                statements.run(undo)
                if in_atomic:
                    statements.run(end)
            raise
    return (counted[0][0] if counted else None), tokens


class Statements:
    """Statements run on the driver's connection, each logged where Django logs queries (DEBUG,
    tests' pins)."""

    def __init__(self, db: BaseDatabaseWrapper) -> None:
        self.sqlite = db.connection
        self.log = db.queries_log if db.queries_logged else None

    def run(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """The statement's rows."""
        started = time.monotonic()
        rows = self.sqlite.execute(sql, params).fetchall()
        if self.log is not None:
            self.log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
        return rows


@contextmanager
def write_turn(db: BaseDatabaseWrapper) -> Iterator[None]:
    """This process's turn at the database's write lock, among the processes counting reads.

    SQLite's busy handler retries a taken write lock after sleeping 1 ms, then 2, 5, 10 …: with
    two workers counting every request, 6-9 % of reads slept so, 0.13-0.18 ms per read on
    average, longer than the write itself (~0.1 ms). Processes queued on an OS file lock (one
    file per database, `<database>-counting.lock`) are woken as soon as it is released. The
    lock only orders the writers: SQLite's own lock keeps the data safe, and a process that
    dies releases it. Threads of one process share their process's turn.
    """
    descriptor = turn_file(db)
    if descriptor is None:
        yield
        return
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def turn_file(db: BaseDatabaseWrapper) -> int | None:
    """The open turn file of `db`'s database in this process (a forked process opens its own);
    None for a database in memory, which one process owns, and where no file can be made."""
    database, pid = db.settings_dict["NAME"], os.getpid()
    opened = _turn_files.get(database)
    if opened is not None and opened[0] == pid:
        return opened[1]
    if db.creation.is_in_memory_db(database):
        return None
    try:
        descriptor = os.open(f"{database}-counting.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None
    _turn_files[database] = (pid, descriptor)
    return descriptor


@lru_cache(maxsize=1)
def view_sql() -> str:
    """Add the read to a published post's total (parameters: id, PUBLISHED_STATUS, now)."""
    return add_views_sql("?", "1", ("?", "?"))


@lru_cache(maxsize=4)
def version_sql(size: int) -> str:
    """The (scope, token, valid_until) rows of `size` scopes."""
    table, scope, token, valid_until = quoted_names(ContentVersion, "scope", "token", "valid_until")
    return (
        f"SELECT {scope}, {token}, {valid_until} FROM {table} "
        f"WHERE {scope} IN ({', '.join(['?'] * size)})"
    )
