import contextlib
import datetime as dt

import pytest
from django.db import DataError, connection, transaction

from blog import rawsql

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("in_atomic", [False, True])
def test_rows_convert_alike_from_libpq_text_and_djangos_cursor(in_atomic):
    with transaction.atomic() if in_atomic else contextlib.nullcontext():
        rows = rawsql.query("SELECT CAST(%s AS integer) + 1, %s, %s", [41, "引用 %s", None])
    assert [(int(a), str(b), c) for a, b, c in rows] == [(42, "引用 %s", None)]


def test_the_statement_is_logged_like_djangos(django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        rawsql.query("SELECT %s", ["x"])
    assert captured.captured_queries[0]["sql"] in {"SELECT %s", "SELECT 'x'"}  # PG, SQLite


def test_parameters_go_as_text():
    assert rawsql.as_text(dt.date(2026, 11, 21)) == b"2026-11-21"
    moment = dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.UTC)
    assert rawsql.as_text(moment) == b"2026-11-21T08:30:00+00:00"
    assert rawsql.as_text(7) == b"7"
    assert rawsql.as_text(None) is None
    with pytest.raises(TypeError):
        rawsql.as_text(object())


def test_a_failing_statement_raises_djangos_error_and_the_connection_goes_on():
    if connection.vendor != "postgresql":
        pytest.skip("the libpq path is PostgreSQL's")
    with pytest.raises(DataError, match="division by zero"):
        rawsql.query("SELECT 1 / CAST(%s AS integer)", [0])
    assert rawsql.query("SELECT CAST(%s AS integer)", [5]) == [("5",)]


def prepared_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'spaces%%'")
        return [name for (name,) in cursor.fetchall()]


def test_a_statement_is_prepared_once_per_connection(postgres):
    sql = "SELECT CAST(%s AS integer) * 2"
    assert rawsql.query(sql, [4]) == [("8",)]
    assert rawsql.query(sql, [5]) == [("10",)]
    assert prepared_names() == [rawsql.statement_name(sql).decode()]


def test_a_statement_the_server_forgot_is_prepared_again(postgres):
    # As after DISCARD ALL, or a pooler handing over another server connection.
    sql = "SELECT CAST(%s AS integer) + 3"
    rawsql.query(sql, [1])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert rawsql.query(sql, [2]) == [("5",)]
    assert prepared_names() == [rawsql.statement_name(sql).decode()]


def test_a_name_the_server_already_knows_is_used(postgres):
    # A pooled server connection where another client prepared the same statement first.
    sql = "SELECT CAST(%s AS integer) - 1"
    name = rawsql.statement_name(sql).decode()
    connection.ensure_connection()
    connection.connection.pgconn.prepare(name.encode(), rawsql.numbered(sql))
    assert rawsql.query(sql, [10]) == [("9",)]
    assert prepared_names() == [name]


def test_a_plan_a_schema_change_made_stale_is_prepared_again(postgres):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE rawsql_stale (a integer)")
        cursor.execute("INSERT INTO rawsql_stale VALUES (1)")
    sql = "SELECT * FROM rawsql_stale WHERE a = CAST(%s AS integer)"
    assert rawsql.query(sql, [1]) == [("1",)]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE rawsql_stale ADD COLUMN b text DEFAULT 'new'")
    assert rawsql.query(sql, [1]) == [("1", "new")]
