"""One SQL statement at the client cost of the statement, for the few that run on every request.

On PostgreSQL in autocommit (as requests run), the statement goes to libpq directly through
psycopg's documented `pgconn`, with parameters as text. psycopg's cursor and Django's wrapper
around it cost the client about twice the call itself (84 µs against 29 µs for the counted read,
measured in a loop). In a transaction, and on SQLite, Django's cursor runs it, so that psycopg
opens the transaction it expects. Either way the statement is logged where Django logs queries
(DEBUG, the tests' pins).

Each statement is prepared once per connection under a name taken from its text: parsing and
planning it again on every request cost the server about a fifth of the counted read (121 µs
against 96 µs of backend CPU, in a loop). A server that does not know the name (a pooler in
transaction mode handed over another server connection, `DISCARD ALL`, a plan made stale by a
migration) makes the statement prepared again, and if that fails too it runs unnamed once.

Rows come back as text from libpq and typed from Django's cursor: callers convert each value
(`int(value)`, `float(value)`, `str(value)`), which gives the same result for both.
"""

import datetime as dt
import hashlib
import itertools
import re
import time
import weakref
from collections.abc import Sequence
from functools import lru_cache

import psycopg
import psycopg.errors
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import pq

PLACEHOLDER = re.compile(r"%s")
# What the server answers when it does not know a prepared statement, and when a schema change
# has made its plan stale ("cached plan must not change result type").
STALE = {b"26000", b"0A000"}
DUPLICATE = b"42P05"  # another client on a pooled server connection prepared it first

# The statements prepared on each open connection, by name.
_prepared: "weakref.WeakKeyDictionary[psycopg.Connection, set[bytes]]" = weakref.WeakKeyDictionary()


def query(sql: str, params: Sequence[object] = ()) -> list[tuple]:
    """The rows of `sql` (placeholders `%s`, as for Django's cursor) with `params`."""
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per attribute
    if db.vendor != "postgresql" or db.in_atomic_block or not db.get_autocommit():
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    db.close_if_health_check_failed()
    db.ensure_connection()
    started = time.monotonic()
    with db.wrap_database_errors:
        result = run_prepared(db.connection, sql, list(map(as_text, params)))
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise result_error(result)
    if db.queries_logged:
        db.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    columns = range(result.nfields)
    return [
        tuple(
            None if (value := result.get_value(row, column)) is None else value.decode()
            for column in columns
        )
        for row in range(result.ntuples)
    ]


def run_prepared(
    connection: psycopg.Connection, sql: str, params: list[bytes | None]
) -> pq.abc.PGresult:
    """The result of `sql` as a statement prepared on `connection`, preparing it when needed."""
    pgconn, name = connection.pgconn, statement_name(sql)
    prepared = _prepared.get(connection)
    if prepared is None:
        prepared = _prepared[connection] = set()
    for _ in range(2):
        if name not in prepared:
            made = pgconn.prepare(name, numbered(sql))
            if made.status != pq.ExecStatus.COMMAND_OK and sqlstate(made) != DUPLICATE:
                return made
            prepared.add(name)
        result = pgconn.exec_prepared(name, params)
        if sqlstate(result) not in STALE:
            return result
        prepared.discard(name)
        pgconn.exec_(b"DEALLOCATE " + name)  # fails harmlessly where the name is unknown
    return pgconn.exec_params(numbered(sql), params)


def sqlstate(result: pq.abc.PGresult) -> bytes | None:
    return result.error_field(pq.DiagnosticField.SQLSTATE)


@lru_cache(maxsize=64)
def statement_name(sql: str) -> bytes:
    """A name for `sql` as a prepared statement: the same in every process and on every server."""
    return b"spaces_" + hashlib.sha256(sql.encode()).hexdigest()[:24].encode()


@lru_cache(maxsize=64)
def numbered(sql: str) -> bytes:
    """`sql` with libpq's placeholders: `$1`, `$2`, … for each `%s` in turn."""
    counter = itertools.count(1)
    return PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql).encode()


def as_text(value: object) -> bytes | None:
    """A parameter in PostgreSQL's text format (the statement casts where the type matters)."""
    if value is None:
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat().encode()
    if isinstance(value, bool | int | float | str):
        return str(value).encode()
    raise TypeError(f"no text format for {type(value).__name__}")


def result_error(result: pq.abc.PGresult) -> psycopg.Error:
    """The psycopg exception for a failed libpq result, by its SQLSTATE, as psycopg raises it."""
    message = (result.error_message or b"").decode(errors="replace").strip()
    state = sqlstate(result)
    if state is None:  # no answer from the server: the connection is gone
        return psycopg.OperationalError(message or "lost the connection to the server")
    return psycopg.errors.lookup(state.decode())(message)
