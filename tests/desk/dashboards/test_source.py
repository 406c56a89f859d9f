"""The desk database as an analysis source while the desk writes to it.

On SQLite, DuckDB's sqlite scanner opening the live WAL file in the process that writes it crashed
that process (issue 7; ``manyi.desk.dashboards.snapshot``): here analyses run while another
thread opens cases through the service on its own connections, as the server's request threads
do. A crash takes the test worker down; a torn read fails the assertions.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from django.db import connection
from django.utils import timezone

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case
from manyi.desk.cases.services import NewCase, open_case
from manyi.desk.dashboards.source import desk_source, open_desk_source

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.get_fixed_timezone(480))
WRITES = 120


def _read(src: Any) -> tuple[int, int]:
    """(cases, cases with their opening event) as the analysis sees them, in one query."""
    cases, events = src.table("cases"), src.table("case_events")
    opened = events.filter(events.seq == 1).case_id
    row = src.execute(cases.aggregate(cases=cases.count(), opened=cases.case_id.isin(opened).sum()))
    opened_count = row["opened"].iloc[0]  # SUM over no rows is NULL (None or NaN)
    return int(row["cases"].iloc[0]), 0 if pd.isna(opened_count) else int(opened_count)


def test_analysis_sees_whole_commits_while_the_desk_writes(staff: Any) -> None:
    # Given a thread opening cases through the service, one connection per case
    failures: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(WRITES):
                open_case(
                    NewCase(kind="complaint", channel="web", subject=f"late {i}",
                            reason="late_delivery", contact_email=f"b{i}@example.com"),
                    actor=Actor.customer(),
                    now=NOW + timedelta(minutes=i),
                )  # fmt: skip
                connection.close()
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()
            done.set()

    # When dashboards analyse the desk database meanwhile, from two threads
    seen: list[tuple[int, int]] = []

    def analyse() -> None:
        try:
            while not done.is_set():
                with desk_source() as src:
                    seen.append(_read(src))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write), threading.Thread(target=analyse)]
    for thread in threads:
        thread.start()
    while not done.is_set():
        with desk_source() as src:
            seen.append(_read(src))
    for thread in threads:
        thread.join()

    # Then every read held whole transactions (each case with its opening event), and the
    # first analysis after the last commit sees every case
    assert failures == []
    assert seen
    assert all(cases == opened for cases, opened in seen)
    assert Case.objects.count() == WRITES
    with desk_source() as src:
        assert _read(src) == (WRITES, WRITES)


def test_an_opened_desk_source_reads_the_database_as_it_was(staff: Any) -> None:
    # Given one case, and a source opened by hand
    open_case(
        NewCase(kind="question", channel="web", subject="invoice", contact_email="a@example.com"),
        actor=Actor.customer(),
        now=NOW,
    )
    with open_desk_source() as src:
        # When a second case is committed while it is open
        open_case(
            NewCase(kind="question", channel="web", subject="again", contact_email="a@example.com"),
            actor=Actor.customer(),
            now=NOW + timedelta(hours=1),
        )

        # Then it reads what was committed when it was opened (on SQLite: its private copy;
        # on PostgreSQL each query sees the latest commit)
        expected = 1 if connection.vendor == "sqlite" else 2
        assert _read(src) == (expected, expected)
    with desk_source() as src:
        assert _read(src) == (2, 2)
