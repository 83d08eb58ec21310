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
