"""The PostgreSQL backend's health check (``manyi.desk.config.postgresql``), against the test
harness's PostgreSQL server (``MANYI_TEST_DATABASE_URL``; ``make test`` starts one)."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db.utils import ConnectionHandler

from manyi.desk.config.database import parse_database_url

URL = os.environ.get("MANYI_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def wrapper(django_db_blocker: Any) -> Iterator[Any]:
    """A connection of the backend as settings make it, outside pytest-django's databases."""
    settings = parse_database_url(URL)
    settings["CONN_MAX_AGE"] = None
    handler = ConnectionHandler({"default": settings})
    connection = handler["default"]
    with django_db_blocker.unblock():
        try:
            connection.ensure_connection()
        except Exception as exc:
            pytest.fail(f"PostgreSQL at {URL} is not reachable: {exc}")
        yield connection
        connection.close()


def _terminate(connection: Any) -> None:
    """End the connection's server process from another connection, as a restart or an
    administrator would, and wait until the news reaches its socket."""
    pid = connection.connection.info.backend_pid
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100):
        assert time.monotonic() < deadline, "the server did not close the connection"


def test_the_backend_is_the_one_settings_name(wrapper: Any) -> None:
    assert type(wrapper).__module__ == "manyi.desk.config.postgresql.base"
    assert wrapper.vendor == "postgresql"


def test_an_idle_connection_is_usable_without_a_query(wrapper: Any) -> None:
    raw = wrapper.connection
    with raw.cursor() as cursor:
        cursor.execute("SELECT 1")
    before = raw.pgconn.socket, raw.info.transaction_status
    assert wrapper.is_usable()
    # Nothing was sent: the connection is still idle and no result is pending.
    assert (raw.pgconn.socket, raw.info.transaction_status) == before
    assert not raw.pgconn.is_busy()


def test_a_terminated_connection_is_replaced_before_the_query(wrapper: Any) -> None:
    old_pid = wrapper.connection.info.backend_pid
    _terminate(wrapper)
    assert not wrapper.is_usable()
    # What Django does before a request's first query: the dead connection is closed, a new
    # one opened, and the query succeeds.
    wrapper.health_check_done = False
    wrapper.close_if_health_check_failed()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert new_pid != old_pid


def test_inside_a_transaction_the_check_asks_the_server(wrapper: Any) -> None:
    wrapper.set_autocommit(False)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert wrapper.is_usable()
        _terminate(wrapper)
        assert not wrapper.is_usable()
    finally:
        wrapper.close()
