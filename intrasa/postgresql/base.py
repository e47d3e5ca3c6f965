"""Django's PostgreSQL backend with a health check that costs no round trip on a busy connection.

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection before each request's first query
with ``SELECT 1``: a whole round trip to PostgreSQL, one more than the request's own statements
(on the transaction page, one in three; ``benchmarks/README.md``).

A connection used within ``RECENTLY_USED_SECONDS`` is checked by its socket instead: one that the
server closed (a restart, ``pg_terminate_backend``, ``idle_session_timeout``, a pooler recycling it)
has received PostgreSQL's FATAL goodbye, so its idle socket is readable; nothing to read means usable.
A connection idle for longer gets Django's ``SELECT 1``, which also finds one that something between
us and the server dropped without a word (a NAT or firewall forgetting an idle flow answers the next
packet with a reset, and only a round trip shows it): those forget flows after minutes of silence,
never within seconds of traffic. A connection not idle (in a transaction, or a failed one) is judged
by the server too. A false alarm costs a reconnection.
"""
import select
import time

from django.db.backends.postgresql import base
from psycopg import pq

RECENTLY_USED_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at = float("-inf")

    def create_cursor(self, name=None):
        self._used_at = time.monotonic()
        return super().create_cursor(name)

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if (connection.info.transaction_status != pq.TransactionStatus.IDLE
                or time.monotonic() - self._used_at > RECENTLY_USED_SECONDS):
            usable = super().is_usable()  # SELECT 1
            if usable:
                self._used_at = time.monotonic()
            return usable
        try:
            poller = select.poll()  # not select.select: file descriptors past 1024 are common in a busy worker
            poller.register(connection.fileno(), select.POLLIN)
            readable = poller.poll(0)
        except (OSError, ValueError):
            return False
        return not readable  # something sent while idle: the server's goodbye (or a notice): connect again
