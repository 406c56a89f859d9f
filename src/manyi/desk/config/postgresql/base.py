"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a persistent connection before the first query of
each request, and its check is a ``SELECT 1``: one more round trip on every request, about
8 % of the API's busiest call (``benchmarks/desk_load.py``). What the check is for is a
connection the server has dropped (a restart, an idle timeout, ``pg_terminate_backend``): the
server then says so before it closes (a FATAL error message) or simply closes, and either way
the connection's socket becomes readable while no query is running. So an idle connection
whose socket has nothing to read is taken as usable, and one with something to read (or
closed, or broken) is not; Django then opens a new connection, without failing the request.

A connection that is inside a transaction, or whose state psycopg does not know, is checked
the way Django checks it. A dead peer that sends nothing (a cable pulled) is not detected by
either check before the query itself times out.

``MANYI_DATABASE_URL=postgresql://...`` selects this backend (``manyi.desk.config.database``).
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        from psycopg.pq import TransactionStatus

        if connection.info.transaction_status != TransactionStatus.IDLE:
            return bool(super().is_usable())
        try:
            poller = select.poll()  # (select.select fails on descriptors past 1023)
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            # Hang-ups and errors are reported whether asked for or not.
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
