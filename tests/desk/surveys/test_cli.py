"""``manyi surveys``: invite after delivery (dry run, idempotent), export answers and links."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from typer.testing import CliRunner

from manyi.cli import app
from manyi.desk.surveys.models import Invitation, InvitationChannel, InvitationStatus

pytestmark = pytest.mark.django_db

runner = CliRunner()


@pytest.fixture
def deliveries(make_order: Any, clock: Any, now: datetime) -> list[str]:
    """Three orders delivered since 2026-11-15 (shop time) and one before; the worker's scan
    has not run, and its checkpoint is past them all."""
    clock(now)
    make_order(
        "o-before", customer_id="c0", delivered=datetime.fromisoformat("2026-11-14T20:00+08:00")
    )
    ids = []
    for n, day in enumerate((15, 18, 22), start=1):
        make_order(
            f"o{n}",
            customer_id=f"c{n}",
            delivered=datetime.fromisoformat(f"2026-11-{day}T09:00+08:00"),
        )
        ids.append(f"o{n}")
    return ids


def test_a_dry_run_says_what_would_happen_and_writes_nothing(deliveries: list[str]) -> None:
    result = runner.invoke(
        app,
        [
            "surveys",
            "invite",
            "--instrument",
            "dsr",
            "--delivered-since",
            "2026-11-15",
            "--dry-run",
        ],
    )

    assert result.exit_code == 0, result.output
    assert (
        "Would invite 3 orders delivered since 2026-11-15 to after_delivery (dsr, nps)"
        in result.output
    )
    assert "0 by e-mail, 3 link only; 3 due now" in result.output
    assert not Invitation.objects.exists()


def test_invite_sends_what_is_due_and_never_twice(deliveries: list[str]) -> None:
    args = ["surveys", "invite", "--instrument", "dsr", "--delivered-since", "2026-11-15"]

    first = runner.invoke(app, args)
    again = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "3 invitations scheduled for after_delivery (dsr, nps)" in first.output
    assert "3 link only" in first.output
    assert "0 invitations scheduled" in again.output
    invitations = Invitation.objects.order_by("order_id")
    assert [i.order_id for i in invitations] == deliveries
    assert {(i.status, i.channel) for i in invitations} == {
        (InvitationStatus.ISSUED, InvitationChannel.LINK)
    }


def test_invite_names_what_is_missing(deliveries: list[str]) -> None:
    result = runner.invoke(
        app, ["surveys", "invite", "--instrument", "servqual", "--delivered-since", "2026-11-15"]
    )
    bad_date = runner.invoke(
        app, ["surveys", "invite", "--instrument", "dsr", "--delivered-since", "15.11.2026"]
    )

    assert result.exit_code == 2
    assert "No active delivery survey rule asks servqual" in result.output
    assert bad_date.exit_code == 2
    assert not Invitation.objects.exists()


def test_links_and_export(
    deliveries: list[str], submit: Any, tmp_path: Path, client: Client, now: datetime
) -> None:
    runner.invoke(
        app, ["surveys", "invite", "--instrument", "dsr", "--delivered-since", "2026-11-15"]
    )
    links_file = tmp_path / "links.csv"

    listed = runner.invoke(app, ["surveys", "links", "--out", str(links_file)])

    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(links_file.open(encoding="utf-8")))
    assert sorted(r["order_id"] for r in rows) == deliveries
    assert client.get(rows[0]["link"].removeprefix("http://localhost:8000")).status_code == 200

    answered = Invitation.objects.get(order_id="o1")
    submit(
        answered,
        {
            "dsr.as_described": "5",
            "dsr.service": "4",
            "dsr.logistics": "3",
            "dsr.comment": '包装很好, "thanks"',
            "nps.nps": "9",
        },
        at=now + timedelta(hours=1),
    )
    out = tmp_path / "responses.csv"
    exported = runner.invoke(app, ["surveys", "export", "--out", str(out)])

    assert exported.exit_code == 0, exported.output
    assert "5 answers written" in exported.output
    got = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {(r["instrument"], r["item"], r["value"], r["text"]) for r in got} == {
        ("dsr", "as_described", "5", ""),
        ("dsr", "service", "4", ""),
        ("dsr", "logistics", "3", ""),
        ("dsr", "comment", "", '包装很好, "thanks"'),
        ("nps", "nps", "9", ""),
    }
    assert {r["order_id"] for r in got} == {"o1"}
    assert {r["customer_id"] for r in got} == {"c1"}
    # answered invitations are no longer listed as links to pass on
    relisted = runner.invoke(app, ["surveys", "links"])
    assert "2 open link-only invitations" in relisted.output
