"""Django's PostgreSQL backend with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection before each request's first query
with ``SELECT 1``: a whole round trip to PostgreSQL, one more than the request's own statements
(on the transaction page, one in three; ``benchmarks/README.md``). A connection the server closed
(a restart, ``pg_terminate_backend``, ``idle_session_timeout``, a pooler recycling it) is told by
its socket: PostgreSQL sends a FATAL message and closes, so the idle socket turns readable. An idle
connection's socket with nothing to read is usable; anything else (readable, closed, broken, or a
connection not idle, in a transaction or a failed one) goes to Django's own check or is closed,
and Django connects again. A false alarm costs a reconnection, never a failed request.
"""
import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()  # SELECT 1: a connection in a (failed) transaction is judged by the server
        try:
            readable, _writable, _failed = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable  # something sent while idle: the server's goodbye (or a notice): connect again
