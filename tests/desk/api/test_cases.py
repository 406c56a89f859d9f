"""The cases API on the happy paths: each call's answer, and the state it left behind."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.utils import timezone

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseEvent, CaseStatus, Message
from manyi.desk.cases.services import transition_case

pytestmark = pytest.mark.django_db


def test_creating_a_case_returns_it_with_its_version_and_stores_it(api: Any, order: Any) -> None:
    body = {
        "kind": "return_refund",
        "channel": "api",
        "subject": "Wrong colour delivered",
        "description": "Ordered blue, got red.",
        "reason": "wrong_item",
        "order_id": "o1",
        "order_lines": [2],
        "contact_email": "wang@example.com",
        "team": "returns",
        "refund_amount": "90.00",
    }
    response = api.post("/api/cases", body, as_="ana")
    assert response.status_code == 201, response.json()
    out = response.json()
    case = Case.objects.get()
    assert out["id"] == case.case_id
    assert out["number"] == f"#{case.case_id}"
    assert out["version"] == case.version == 1
    assert (out["status"], out["kind"], out["reason"], out["team"]) == (
        "new",
        "return_refund",
        "wrong_item",
        "returns",
    )
    assert out["order_lines"] == [2]
    assert out["customer_id"] == "c1"
    assert out["refund_amount"] == "90.00"
    assert out["sla"]["policy"] == "Returns and exchanges"
    assert out["sla"]["first_response"]["state"] == "running"
    assert [t["name"] for t in out["allowed_transitions"]] == ["triage"]
    opened = CaseEvent.objects.get(case=case)
    assert (opened.kind, opened.actor) == ("opened", "ana")


def _without_clock_readings(out: dict[str, Any]) -> dict[str, Any]:
    """The case without what moves with the clock (elapsed and remaining seconds)."""
    sla = {
        name: {k: v for k, v in clock.items() if k not in ("elapsed_seconds", "remaining_seconds")}
        if isinstance(clock, dict)
        else clock
        for name, clock in out["sla"].items()
    }
    return {**out, "sla": sla}


@pytest.mark.parametrize(
    ("kind", "reason", "lines"),
    [("return_refund", "wrong_item", [2, 1]), ("question", "other", [])],
)
def test_the_create_answer_is_what_the_next_read_shows(
    api: Any, order: Any, kind: str, reason: str, lines: list[int]
) -> None:
    """The create answers from what it wrote (lines, opening event), not from a re-read."""
    body = {"kind": kind, "channel": "api", "subject": "Wrong colour", "reason": reason,
            "order_id": "o1", "order_lines": lines, "team": "returns"}  # fmt: skip
    created = api.post("/api/cases", body, as_="ana")
    assert created.status_code == 201, created.json()
    read = api.get(f"/api/cases/{created.json()['id']}", as_="ana")
    assert read.status_code == 200
    assert created.json()["order_lines"] == sorted(lines)
    assert _without_clock_readings(created.json()) == _without_clock_readings(read.json())


def test_list_pages_through_the_visible_cases_in_a_stable_order(api: Any, make_case: Any) -> None:
    ids = [make_case(subject=f"case {n}").case_id for n in range(5)]
    make_case(subject="for VIPs", team="vip")
    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:
        page = api.get(f"/api/cases?queue=all&limit=2&offset={offset}", as_="ana").json()
        assert page["count"] == 5
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        offset = page["next_offset"]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    # The manager sees the VIP team's case too, and filters narrow the list.
    assert api.get("/api/cases?queue=all", as_="mei").json()["count"] == 6
    vip = api.get("/api/cases?queue=all&team=vip", as_="mei").json()
    assert [item["subject"] for item in vip["items"]] == ["for VIPs"]
    found = api.get("/api/cases?queue=all&q=case%203", as_="mei").json()
    assert [item["id"] for item in found["items"]] == [ids[3]]
    by_status = api.get("/api/cases?status=closed", as_="mei").json()
    assert by_status["count"] == 0


def test_dates_with_any_offset_are_one_instant_and_out_of_range_ones_a_422(
    api: Any, make_case: Any
) -> None:
    """ISO 8601 and Python allow UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: the
    API turns every instant into UTC before it reaches the database (schemathesis found a 500
    on ``opened_from=0379-09-20T03:59:57-23:40``)."""
    case = make_case()
    opened = case.opened_at.astimezone(dt.UTC)
    minute = dt.timedelta(minutes=1)
    west = dt.timezone(-dt.timedelta(hours=23, minutes=40))
    east = dt.timezone(dt.timedelta(hours=23, minutes=59))
    far_west, far_east = (opened - minute).astimezone(west), (opened + minute).astimezone(east)
    query = urlencode(
        {"queue": "all", "opened_from": far_west.isoformat(), "opened_to": far_east.isoformat()}
    )

    found = api.get(f"/api/cases?{query}", as_="mei")

    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == [case.case_id]
    # An instant before year 1 in UTC cannot be stored anywhere: a field error, not a 500.
    early = urlencode({"queue": "all", "opened_from": "0001-01-01T00:00:00+05:00"})
    refused = api.get(f"/api/cases?{early}", as_="mei")
    assert refused.status_code == 422
    assert "opened_from" in refused.content.decode()


def test_get_shows_allowed_transitions_and_sla_clocks(api: Any, make_case: Any) -> None:
    case = make_case()
    out = api.get(f"/api/cases/{case.case_id}", as_="ana").json()
    assert out["id"] == case.case_id
    assert out["allowed_transitions"] == [
        {
            "name": "triage",
            "label": "Diagnose",
            "target": "triaged",
            "requires": ["diagnosis"],
            "primary": True,
        }
    ]
    sla = out["sla"]
    assert sla["state"] in {"running", "at_risk", "breached"}
    assert sla["first_response"]["target_seconds"] == 3600
    assert sla["resolution"]["target_seconds"] == 120 * 3600
    # Every instant is shown in UTC, also those the clocks compute in the calendar's zone.
    assert sla["first_response"]["due_at"].endswith("Z")
    assert out["opened_at"].endswith("Z")
    # The analyst reads the same case but is offered no moves.
    assert api.get(f"/api/cases/{case.case_id}", as_="li").json()["allowed_transitions"] == []


def test_transition_moves_the_case_and_bumps_its_version(api: Any, make_case: Any) -> None:
    case = make_case()
    response = api.post(
        f"/api/cases/{case.case_id}/transitions",
        {
            "name": "triage",
            "expected_version": 1,
            "note": "Photo shows the tear.",
            "fields": {"diagnosis": "Torn seam, manufacturing fault"},
        },
        as_="ana",
    )
    assert response.status_code == 200, response.json()
    out = response.json()
    assert (out["status"], out["version"]) == ("triaged", 2)
    assert out["diagnosis"] == "Torn seam, manufacturing fault"
    assert {t["name"] for t in out["allowed_transitions"]} >= {"approve", "reject"}
    case.refresh_from_db()
    assert (case.status, case.version) == (CaseStatus.TRIAGED, 2)
    event = case.events.order_by("-seq").first()
    assert event is not None
    assert (event.kind, event.from_status, event.to_status, event.note) == (
        "transition",
        "new",
        "triaged",
        "Photo shows the tear.",
    )


def test_reply_is_stored_mailed_and_stops_the_first_response_clock(
    api: Any, make_case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/cases/{case.case_id}/replies",
            {"body": "Sorry about that, please send it back.", "expected_version": 1},
            as_="ana",
        )
    assert response.status_code == 201, response.json()
    out = response.json()
    assert (out["direction"], out["channel"], out["author"]) == ("out", "email", "ana")
    assert out["case_version"] == 2
    message = Message.objects.get(pk=out["id"])
    assert message.body == "Sorry about that, please send it back."
    case.refresh_from_db()
    assert case.first_response_at is not None
    sent = [m for m in mail.outbox if "please send it back" in m.body]
    assert [m.to for m in sent] == [["Ms Wang <wang@example.com>"]]
    detail = api.get(f"/api/cases/{case.case_id}", as_="ana").json()
    assert detail["sla"]["first_response"]["state"] == "met"


def test_notes_and_contacts_land_on_the_timeline(api: Any, make_case: Any) -> None:
    case = make_case()
    note = api.post(f"/api/cases/{case.case_id}/notes", {"body": "Check stock."}, as_="ana")
    assert note.status_code == 201
    assert note.json()["direction"] == "internal"
    # Logged afterwards: the call happened between the opening and now.
    called = (case.opened_at + (timezone.now() - case.opened_at) / 2).isoformat()
    contact = api.post(
        f"/api/cases/{case.case_id}/contacts",
        {"channel": "phone", "direction": "out", "body": "Called her back.", "at": called},
        as_="ana",
    )
    assert contact.status_code == 201, contact.json()
    assert contact.json()["case_version"] == 3
    timeline = api.get(f"/api/cases/{case.case_id}/events", as_="ana").json()
    kinds = [entry["kind"] for entry in timeline]
    # The opening and the customer's description (a message without an event) come first.
    assert sorted(kinds[:2]) == ["message", "opened"]
    assert "note" in kinds
    assert "reply" in kinds
    reply = next(e for e in timeline if e["kind"] == "reply")
    assert reply["channel"] == "phone"
    assert reply["message"]["body"] == "Called her back."
    note_entry = next(e for e in timeline if e["kind"] == "note")
    assert note_entry["message"]["body"] == "Check stock."
    # The description the customer wrote is a message of its own.
    assert any(
        e["message"] and e["message"]["body"].startswith("There is a hole") for e in timeline
    )


def test_patch_changes_details_and_repicks_the_sla_policy(api: Any, make_case: Any) -> None:
    case = make_case()
    response = api.patch(
        f"/api/cases/{case.case_id}",
        {"expected_version": 1, "priority": "urgent", "subject": "Torn pillowcase (VIP)"},
        as_="ana",
    )
    assert response.status_code == 200, response.json()
    out = response.json()
    assert (out["priority"], out["subject"], out["version"]) == (
        "urgent",
        "Torn pillowcase (VIP)",
        2,
    )
    assert out["sla"]["policy"] == "Urgent"


def test_assign_gives_the_case_to_a_team_member(api: Any, staff: Any, make_case: Any) -> None:
    case = make_case()
    response = api.post(
        f"/api/cases/{case.case_id}/assign",
        {"assignee_id": staff["ana"].pk, "expected_version": 1},
        as_="mei",
    )
    assert response.status_code == 200, response.json()
    out = response.json()
    assert (out["assignee_id"], out["assignee"], out["version"]) == (staff["ana"].pk, "ana", 2)
    mine = api.get("/api/cases?queue=mine", as_="ana").json()
    assert [item["id"] for item in mine["items"]] == [case.case_id]


def test_session_login_works_with_csrf_for_writes(api: Any, staff: Any, make_case: Any) -> None:
    from django.test import Client

    case = make_case()
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    assert browser.login(username="ana", password="a-long-password-1")
    assert browser.get(f"/api/cases/{case.case_id}").status_code == 200
    body = '{"body": "From the console."}'
    refused = browser.post(
        f"/api/cases/{case.case_id}/notes", body, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert Message.objects.filter(body="From the console.").count() == 0
    browser.get("/accounts/login/")  # sets the CSRF cookie, as the console's pages do
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        f"/api/cases/{case.case_id}/notes",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 201, accepted.json()
    assert Message.objects.filter(body="From the console.").count() == 1


def test_the_openapi_document_and_docs_page_are_served(api: Any) -> None:
    schema = api.get("/api/openapi.json", as_=None).json()
    assert schema["info"]["title"] == "manyi desk API"
    assert {
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/cases/{case_id}/events",
        "/api/cases/{case_id}/transitions",
        "/api/cases/{case_id}/replies",
        "/api/cases/{case_id}/notes",
        "/api/cases/{case_id}/contacts",
        "/api/cases/{case_id}/assign",
        "/api/webhooks/orders",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/cases/{case_id}"]) == {"get", "patch"}
    docs = api.get("/api/docs", as_=None)
    assert docs.status_code == 200
    assert b"/api/openapi.json" in docs.content


def test_a_transition_made_elsewhere_shows_in_the_next_read(
    api: Any, make_case: Any, staff: Any
) -> None:
    case = make_case()
    transition_case(
        case.case_id,
        "triage",
        actor=Actor.staff(staff["mei"]),
        fields={"diagnosis": "seen"},
    )
    out = api.get(f"/api/cases/{case.case_id}", as_="ana").json()
    assert (out["status"], out["version"]) == ("triaged", 2)
