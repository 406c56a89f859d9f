"""SLA clocks of real cases: computed from the event log, recomputed after a corrected history,
and watched by the background check."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.core import mail

from manyi.desk.cases.clocks import refresh_sla
from manyi.desk.cases.events import Actor, record_event
from manyi.desk.cases.models import BusinessCalendar, Case, CaseEvent, SlaPolicy
from manyi.desk.cases.services import NewCase, open_case, reply_to_case, transition_case
from manyi.desk.cases.sla_checks import check_sla

pytestmark = pytest.mark.django_db

CST = dt_timezone(timedelta(hours=8))
#: Monday 2026-11-23, 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)


@pytest.fixture
def office_hours(db: None) -> SlaPolicy:
    """Weekdays 09:00–12:00 and 13:30–18:00; first response 2 h, resolution 8 working hours."""
    calendar = BusinessCalendar.objects.create(
        name="office",
        config={
            "tz": "Asia/Shanghai",
            "weekly": {
                d: [["09:00", "12:00"], ["13:30", "18:00"]]
                for d in ("mon", "tue", "wed", "thu", "fri")
            },
        },
    )
    SlaPolicy.objects.all().delete()
    return SlaPolicy.objects.create(
        name="office",
        calendar=calendar,
        first_response_minutes=120,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
    )


def question(at: datetime, **extra: Any) -> Case:
    return open_case(
        NewCase(kind="question", channel="web", subject="发票怎么开", **extra),
        actor=Actor.customer(),
        now=at,
    )


def test_due_times_follow_the_calendar_across_lunch_and_the_night(
    staff: Any, office_hours: SlaPolicy
) -> None:
    case = question(MONDAY_10)
    # 2 working hours from 10:00: 10:00–12:00 uses them all → due at 12:00.
    assert case.first_response_due_at == datetime(2026, 11, 23, 12, 0, tzinfo=CST)
    # 8 working hours: Monday 10–12 (2) + 13:30–18 (4.5) = 6.5, then Tuesday 09:00 + 1.5 h.
    assert case.resolution_due_at == datetime(2026, 11, 24, 10, 30, tzinfo=CST)
    assert case.sla_state == "running"
    # The worker's next look: the first-response clock turns at risk at 80 % (96 min → 11:36).
    assert case.sla_check_at == datetime(2026, 11, 23, 11, 36, tzinfo=CST)


def test_a_corrected_history_recomputes_the_clocks(staff: Any, office_hours: SlaPolicy) -> None:
    case = question(MONDAY_10)
    transition_case(
        case.case_id,
        "triage",
        actor=staff.actor("manager"),
        fields={"diagnosis": "d"},
        now=MONDAY_10 + timedelta(minutes=5),
    )
    transition_case(
        case.case_id,
        "wait_on_customer",
        actor=staff.actor("manager"),
        note="要订单号",
        now=MONDAY_10 + timedelta(hours=1),
    )
    at_14 = datetime(2026, 11, 23, 14, 0, tzinfo=CST)
    case.refresh_from_db()
    assert case.sla_state == "paused"
    assert case.resolution_due_at is None  # paused before any breach: no due instant
    # An administrator corrects the log: the customer was asked at 11:30, not 11:00.
    CaseEvent.objects.filter(case=case, to_status="waiting_on_customer").update(
        at=MONDAY_10 + timedelta(hours=1, minutes=30)
    )
    refresh_sla(case, at_14)
    # Elapsed before the pause is now 1.5 working hours (10:00–11:30).
    from manyi.desk.cases.clocks import compute_case_clocks

    computed = compute_case_clocks(case, at_14)
    assert computed is not None
    assert computed[0].resolution.elapsed_seconds == 1.5 * 3600
    assert computed[0].resolution.state == "paused"


def test_the_background_check_warns_once_then_records_the_breach(
    staff: Any, office_hours: SlaPolicy, django_capture_on_commit_callbacks: Any
) -> None:
    staff.agent.email = "ana@shop.example"
    staff.agent.save()
    case = question(MONDAY_10, team="returns", assignee_id=staff.agent.pk)
    assert check_sla(MONDAY_10 + timedelta(minutes=30)).checked == 0  # nothing due yet
    with django_capture_on_commit_callbacks(execute=True):
        first = check_sla(datetime(2026, 11, 23, 11, 40, tzinfo=CST))
    assert first.warned == [case.case_id]
    assert Case.objects.get(pk=case.case_id).sla_state == "at_risk"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@shop.example"]
    # A second run at the same instant changes nothing.
    assert check_sla(datetime(2026, 11, 23, 11, 40, tzinfo=CST)).warned == []
    with django_capture_on_commit_callbacks(execute=True):
        late = check_sla(datetime(2026, 11, 23, 12, 1, tzinfo=CST))
    assert late.breached == [case.case_id]
    case.refresh_from_db()
    assert case.sla_state == "breached"
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["opened", "sla_warning", "sla_breach"]
    # Answering late keeps the breach on record.
    reply_to_case(
        case.case_id,
        "您好",
        actor=staff.actor("agent"),
        now=datetime(2026, 11, 23, 14, 0, tzinfo=CST),
    )
    case.refresh_from_db()
    assert case.first_response_due_at == datetime(2026, 11, 23, 12, 0, tzinfo=CST)
    assert case.first_response_at > case.first_response_due_at


def test_record_event_numbers_events_per_case(staff: Any, office_hours: SlaPolicy) -> None:
    a, b = question(MONDAY_10), question(MONDAY_10)
    record_event(a, "note", actor=Actor.system(), at=MONDAY_10)
    assert list(CaseEvent.objects.filter(case=a).values_list("seq", flat=True)) == [1, 2]
    assert list(CaseEvent.objects.filter(case=b).values_list("seq", flat=True)) == [1]
