"""One SQL statement at the client cost of the statement, for the few that run on every request.

On PostgreSQL in autocommit (as requests run), the statement goes to libpq directly through
psycopg's documented `pgconn`: parameters as text, one unnamed statement, so that poolers in
transaction mode still work. psycopg's cursor and Django's wrapper around it cost the client
about twice the call itself (84 µs against 29 µs for the counted read, measured in a loop). In
a transaction, and on SQLite, Django's cursor runs it, so that psycopg opens the transaction it
expects. Either way the statement is logged where Django logs queries (DEBUG, the tests' pins).

Rows come back as text from libpq and typed from Django's cursor: callers convert each value
(`int(value)`, `float(value)`, `str(value)`), which gives the same result for both.
"""

import datetime as dt
import itertools
import re
import time
from collections.abc import Sequence
from functools import lru_cache

import psycopg
import psycopg.errors
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import pq

PLACEHOLDER = re.compile(r"%s")


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
        result = db.connection.pgconn.exec_params(numbered(sql), list(map(as_text, params)))
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
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    if sqlstate is None:  # no answer from the server: the connection is gone
        return psycopg.OperationalError(message or "lost the connection to the server")
    return psycopg.errors.lookup(sqlstate.decode())(message)
