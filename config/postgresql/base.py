"""Django's PostgreSQL backend with a health check that needs no round trip.

With `CONN_HEALTH_CHECKS`, Django checks a persistent connection before each request's first
query by running `SELECT 1`: a round trip that costs as much as a cached page's own query. An idle
connection the server has dropped (restart, `pg_terminate_backend`, an idle timeout) has a
message or end-of-file waiting on its socket, while a healthy idle one has nothing to read; so
the check here only asks the socket.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()  # mid-transaction: ask the server, as Django does
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        # Anything unread on an idle connection is the server saying goodbye (or a notice no
        # request asked for): either way a fresh connection is the safe answer.
        return not readable
