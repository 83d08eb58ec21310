import time

from django.db import connection, connections


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_postgresql_health_check_notices_a_dropped_connection_without_a_query(postgres):
    other = connections.create_connection("default")
    try:
        other.ensure_connection()
        assert other.is_usable()
        with other.cursor() as cursor:  # used and idle, as between two requests
            cursor.execute("SELECT 1")
        assert other.is_usable()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [other.connection.info.backend_pid])
        assert wait_until(lambda: not other.is_usable())
        # Before a request's first query Django asks, closes, and the query gets a new connection.
        other.health_check_enabled, other.health_check_done = True, False
        other.close_if_health_check_failed()
        assert other.connection is None
        with other.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        other.close()


def test_postgresql_health_check_sends_nothing_to_the_server(postgres, monkeypatch):
    other = connections.create_connection("default")
    try:
        other.ensure_connection()

        def round_trip(*args, **kwargs):
            raise AssertionError("the health check sent a query")

        monkeypatch.setattr(other.connection, "execute", round_trip)
        monkeypatch.setattr(other.connection, "cursor", round_trip)
        assert other.is_usable()
    finally:
        monkeypatch.undo()
        other.close()
