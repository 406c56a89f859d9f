"""Every transition and guard, through the real services, on the desk database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from manyi.desk.cases.errors import CaseConflict, CaseError, CaseErrorCode
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import (
    AutoApprovalRule,
    Case,
    CaseEvent,
    CaseStatus,
    Decision,
    ReturnPolicy,
)
from manyi.desk.cases.services import (
    NewCase,
    add_note,
    assign_case,
    log_contact,
    open_case,
    record_customer_message,
    record_order_event,
    reply_to_case,
    transition_case,
    update_case,
)
from manyi.desk.commerce.models import Order

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=dt_timezone(timedelta(hours=8)))


pytestmark = pytest.mark.django_db


def new_return(order: Order, **overrides: object) -> NewCase:
    values: dict[str, object] = {
        "kind": "return_refund",
        "channel": "web",
        "subject": "枕套有破洞",
        "description": "收到的枕套有一个洞，想退货。",
        "reason": "quality",
        "order_id": order.order_id,
        "order_lines": (1,),
        "contact_name": "王女士",
        "contact_email": "wang@example.com",
        "team": "returns",
        "refund_amount": Decimal("130.00"),
    }
    values.update(overrides)
    return NewCase(**values)  # type: ignore[arg-type]


def snapshot(case_id: int) -> tuple[object, ...]:
    case = Case.objects.get(pk=case_id)
    return (
        case.status,
        case.version,
        case.refund_amount,
        case.decision,
        CaseEvent.objects.filter(case_id=case_id).count(),
    )


def test_opening_a_case_links_order_customer_items_and_logs_it(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    assert case.status == CaseStatus.NEW
    assert case.customer_id == "c1"
    assert [i.line_no for i in case.items.all()] == [1]
    assert case.currency == "CNY"
    assert case.sla_policy is not None
    assert case.sla_policy.name == "Returns and exchanges"
    events = list(case.events.values_list("seq", "kind", "to_status", "actor"))
    assert events == [(1, "opened", "new", "customer")]
    assert case.messages.get().direction == "in"


def test_open_rejects_inconsistent_input_and_writes_nothing(
    staff: Any, make_order: Any, order: Order
) -> None:
    make_order("o2", customer_id="c2")
    with pytest.raises(CaseError) as err:
        open_case(
            new_return(order, customer_id="c2", order_lines=(7,), refund_amount="999", team="nope"),
            actor=Actor.customer(),
            now=NOW,
        )
    assert err.value.code == CaseErrorCode.INVALID
    assert set(err.value.fields) == {"order_id", "order_lines", "refund_amount", "team"}
    assert "220.00" in err.value.fields["refund_amount"]  # paid: 120 + 80 items, 2 × 10 freight
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def test_bad_choices_and_amounts_are_named_per_field(staff: Any, make_order: Any) -> None:
    with pytest.raises(CaseError) as err:
        open_case(
            NewCase(
                kind="refund", channel="fax", subject=" ", refund_amount="-1", contact_email="x@"
            ),
            actor=Actor.customer(),
        )
    assert set(err.value.fields) == {"kind", "channel", "subject", "refund_amount", "contact_email"}


def walk(case_id: int, staff: Any, steps: list[tuple[str, dict[str, object], str]]) -> Case:
    case = Case.objects.get(pk=case_id)
    for name, fields, note in steps:
        case = transition_case(
            case_id,
            name,
            actor=staff.actor("manager"),
            expected_version=case.version,
            fields=fields,
            note=note,
            now=NOW,
        )
    return case


def test_a_return_goes_all_the_way_and_every_step_is_audited(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    case = walk(
        case.case_id,
        staff,
        [
            ("triage", {"diagnosis": "照片显示做工问题"}, ""),
            ("approve", {}, "质量问题，同意退货"),
            ("request_return", {"return_tracking": "SF123"}, ""),
            ("receive", {"inspection_note": "破洞属实"}, ""),
            ("refund", {}, ""),
            ("resolve", {}, ""),
            ("close", {}, ""),
        ],
    )
    assert case.status == CaseStatus.CLOSED
    assert case.decision == Decision.APPROVED
    assert case.decided_by == staff.manager
    assert case.decision_reason == "质量问题，同意退货"
    assert case.resolved_at == NOW
    assert case.closed_at == NOW
    assert case.version == 8
    transitions = list(
        case.events.filter(kind="transition").values_list("from_status", "to_status", "actor")
    )
    assert transitions == [
        ("new", "triaged", "mei"),
        ("triaged", "approved", "mei"),
        ("approved", "awaiting_return", "mei"),
        ("awaiting_return", "received", "mei"),
        ("received", "refunded", "mei"),
        ("refunded", "resolved", "mei"),
        ("resolved", "closed", "mei"),
    ]
    assert case.events.filter(kind="decision").count() == 1


def test_a_transition_not_in_the_table_is_refused_with_the_allowed_moves(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    before = snapshot(case.case_id)
    with pytest.raises(CaseError) as err:
        transition_case(case.case_id, "refund", actor=staff.actor("manager"), now=NOW)
    assert err.value.code == CaseErrorCode.TRANSITION_NOT_ALLOWED
    assert err.value.details["allowed"] == ["triage"]
    with pytest.raises(CaseError) as err:
        transition_case(case.case_id, "fly", actor=staff.actor("manager"), now=NOW)
    assert err.value.code == CaseErrorCode.TRANSITION_NOT_ALLOWED
    assert snapshot(case.case_id) == before


@pytest.mark.parametrize(
    ("steps", "name", "missing"),
    [
        ([], "triage", "diagnosis"),
        ([("triage", {"diagnosis": "d"}, "")], "reject", "note"),
        (
            [("triage", {"diagnosis": "d"}, ""), ("approve", {}, ""), ("request_return", {}, "")],
            "receive",
            "inspection_note",
        ),
        ([("triage", {"diagnosis": "d"}, "")], "wait_on_customer", "note"),
    ],
)
def test_required_data_is_checked_per_transition(
    staff: Any,
    order: Order,
    steps: list[tuple[str, dict[str, object], str]],
    name: str,
    missing: str,
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    walk(case.case_id, staff, steps)
    before = snapshot(case.case_id)
    with pytest.raises(CaseError) as err:
        transition_case(case.case_id, name, actor=staff.actor("manager"), now=NOW)
    assert err.value.code == CaseErrorCode.MISSING_DATA
    assert list(err.value.fields) == [missing]
    assert snapshot(case.case_id) == before


def test_refund_needs_an_amount_within_what_was_paid(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(
        new_return(order, kind="refund_only", refund_amount=None, order_lines=()),
        actor=Actor.customer(),
        now=NOW,
    )
    walk(case.case_id, staff, [("triage", {"diagnosis": "d"}, ""), ("approve", {}, "")])
    with pytest.raises(CaseError) as err:
        transition_case(case.case_id, "refund", actor=staff.actor("manager"), now=NOW)
    assert list(err.value.fields) == ["refund_amount"]
    with pytest.raises(CaseError) as err:
        transition_case(
            case.case_id,
            "refund",
            actor=staff.actor("manager"),
            fields={"refund_amount": "220.01"},
            now=NOW,
        )
    assert "220.00" in err.value.fields["refund_amount"]
    done = transition_case(
        case.case_id,
        "refund",
        actor=staff.actor("manager"),
        fields={"refund_amount": "220.00"},
        now=NOW,
    )
    assert done.status == CaseStatus.REFUNDED
    assert done.refund_amount == Decimal("220.00")


def test_agents_approve_up_to_their_limit_managers_without(
    staff: Any, make_order: Any, order: Order
) -> None:
    small = open_case(new_return(order, refund_amount="130.00"), actor=Actor.customer(), now=NOW)
    big = open_case(
        new_return(make_order("o9", prices=("900.00",)), refund_amount="600.00"),
        actor=Actor.customer(),
        now=NOW,
    )
    for case in (small, big):
        transition_case(
            case.case_id, "triage", actor=staff.actor("agent"), fields={"diagnosis": "d"}, now=NOW
        )
    assert (
        transition_case(small.case_id, "approve", actor=staff.actor("agent"), now=NOW).status
        == "approved"
    )
    before = snapshot(big.case_id)
    with pytest.raises(CaseError) as err:
        transition_case(big.case_id, "approve", actor=staff.actor("agent"), now=NOW)
    assert err.value.code == CaseErrorCode.OVER_APPROVAL_LIMIT
    assert "500.00" in err.value.message
    assert snapshot(big.case_id) == before
    assert (
        transition_case(big.case_id, "approve", actor=staff.actor("manager"), now=NOW).decided_by
        == staff.manager
    )


def test_analysts_read_but_do_not_change_and_agents_do_not_see_other_teams(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order, team="vip"), actor=Actor.customer(), now=NOW)
    with pytest.raises(CaseError) as err:
        transition_case(
            case.case_id, "triage", actor=staff.actor("analyst"), fields={"diagnosis": "d"}
        )
    assert err.value.code == CaseErrorCode.FORBIDDEN
    with pytest.raises(CaseError) as err:
        transition_case(
            case.case_id, "triage", actor=staff.actor("agent"), fields={"diagnosis": "d"}
        )
    assert err.value.code == CaseErrorCode.NOT_FOUND  # ana is in "returns": the vip case is hidden
    assert (
        transition_case(
            case.case_id, "triage", actor=staff.actor("other_agent"), fields={"diagnosis": "d"}
        ).status
        == "triaged"
    )


def test_a_stale_version_loses_with_a_conflict_and_nothing_is_lost(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    seen = case.version
    transition_case(
        case.case_id,
        "triage",
        actor=staff.actor("agent"),
        expected_version=seen,
        fields={"diagnosis": "first"},
    )
    before = snapshot(case.case_id)
    with pytest.raises(CaseConflict) as err:
        transition_case(
            case.case_id,
            "triage",
            actor=staff.actor("manager"),
            expected_version=seen,
            fields={"diagnosis": "second"},
        )
    assert err.value.code == CaseErrorCode.CONFLICT
    assert "ana" in err.value.message
    assert snapshot(case.case_id) == before
    assert Case.objects.get(pk=case.case_id).diagnosis == "first"


def test_waiting_on_the_customer_resumes_where_it_was_when_they_write(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    walk(
        case.case_id,
        staff,
        [
            ("triage", {"diagnosis": "d"}, ""),
            ("approve", {}, ""),
            ("wait_on_customer", {}, "请提供照片"),
        ],
    )
    assert Case.objects.get(pk=case.case_id).resume_status == "approved"
    record_customer_message(
        case.case_id, "照片在附件", channel="email", now=NOW + timedelta(hours=1)
    )
    case.refresh_from_db()
    assert case.status == "approved"
    assert case.resume_status == ""
    last = case.events.order_by("-seq").first()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor) == (
        "waiting_on_customer",
        "approved",
        "system",
    )


def test_resume_by_an_agent_and_reopen_after_resolve(
    staff: Any, make_order: Any, order: Order
) -> None:
    q = open_case(
        NewCase(kind="question", channel="chat", subject="几天到货？", order_id=order.order_id),
        actor=Actor.customer(),
        now=NOW,
    )
    case = walk(
        q.case_id,
        staff,
        [
            ("triage", {"diagnosis": "物流咨询"}, ""),
            ("wait_on_customer", {}, "等客户确认地址"),
            ("resume", {}, ""),
            ("resolve", {}, ""),
        ],
    )
    assert case.status == "resolved"
    assert case.resolved_at == NOW
    with pytest.raises(CaseError):
        transition_case(q.case_id, "reopen", actor=staff.actor("manager"))  # needs a reason
    case = transition_case(q.case_id, "reopen", actor=staff.actor("manager"), note="客户说还没到")
    assert case.status == "triaged"
    assert case.resolved_at is None


def test_a_customer_reply_reopens_a_resolved_case_and_follows_up_a_closed_one(
    staff: Any, make_order: Any, order: Order
) -> None:
    q = open_case(
        NewCase(kind="question", channel="email", subject="发票", contact_email="a@example.com"),
        actor=Actor.customer(),
        now=NOW,
    )
    walk(q.case_id, staff, [("triage", {"diagnosis": "d"}, ""), ("resolve", {}, "")])
    record_customer_message(q.case_id, "还有问题", channel="email")
    assert Case.objects.get(pk=q.case_id).status == "triaged"
    walk(q.case_id, staff, [("resolve", {}, ""), ("close", {}, "")])
    message = record_customer_message(
        q.case_id, "又有问题", channel="email", email_message_id="<m1@example.com>"
    )
    follow_up = Case.objects.get(follow_up_of=q.case_id)
    assert message.case_id == follow_up.case_id
    assert Case.objects.get(pk=q.case_id).status == "closed"
    # The same e-mail delivered twice is recorded once.
    again = record_customer_message(
        q.case_id, "又有问题", channel="email", email_message_id="<m1@example.com>"
    )
    assert again.pk == message.pk
    assert Case.objects.count() == 2


def test_changed_mind_returns_respect_the_window_and_category_exclusions(
    staff: Any, make_order: Any
) -> None:
    fresh = make_order("fresh", delivered=NOW - timedelta(days=7))
    old = make_order("old", delivered=NOW - timedelta(days=8))
    food = make_order("food", category="food", delivered=NOW - timedelta(days=1))
    ReturnPolicy.objects.update(excluded_categories=["food"])
    ok = open_case(new_return(fresh, reason="changed_mind"), actor=Actor.customer(), now=NOW)
    assert ok.reason == "changed_mind"
    for order in (old, food):
        with pytest.raises(CaseError) as err:
            open_case(new_return(order, reason="changed_mind"), actor=Actor.customer(), now=NOW)
        assert err.value.code == CaseErrorCode.OUTSIDE_RETURN_WINDOW
    # Other reasons are not bound by the no-reason window.
    assert (
        open_case(new_return(old, reason="quality"), actor=Actor.customer(), now=NOW).status
        == "new"
    )


def test_auto_approval_rules_decide_and_record_why(
    staff: Any, make_order: Any, order: Order
) -> None:
    AutoApprovalRule.objects.create(
        name="小额质量问题",
        kinds=["return_refund"],
        reasons=["quality", "damaged"],
        max_amount=Decimal("150"),
    )
    auto = open_case(new_return(order, refund_amount="130.00"), actor=Actor.customer(), now=NOW)
    assert auto.status == CaseStatus.APPROVED
    assert auto.decision == Decision.AUTO_APPROVED
    assert "小额质量问题" in auto.decision_reason
    assert list(auto.events.values_list("kind", "actor")) == [
        ("opened", "customer"),
        ("transition", "system"),
        ("transition", "system"),
        ("decision", "system"),
    ]
    manual = open_case(
        new_return(make_order("o3"), refund_amount="200.00"), actor=Actor.customer(), now=NOW
    )
    assert manual.status == CaseStatus.NEW
    assert manual.decision == ""


def test_replies_notes_and_contacts_build_one_timeline(
    staff: Any, make_order: Any, order: Order, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    add_note(case.case_id, "先查物流", actor=staff.actor("agent"), now=NOW + timedelta(minutes=5))
    assert Case.objects.get(pk=case.case_id).first_response_at is None  # a note is not a response
    log_contact(
        case.case_id,
        "客户来电询问进度",
        actor=staff.actor("agent"),
        channel="phone",
        direction="in",
        at=NOW + timedelta(minutes=10),
        now=NOW + timedelta(minutes=30),
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply_to_case(
            case.case_id,
            "您好，已收到",
            actor=staff.actor("agent"),
            now=NOW + timedelta(minutes=40),
        )
    case.refresh_from_db()
    assert case.first_response_at == NOW + timedelta(minutes=40)
    assert list(case.events.values_list("kind", flat=True)) == [
        "opened",
        "note",
        "customer_message",
        "reply",
    ]
    assert [m.direction for m in case.messages.all()] == ["in", "internal", "in", "out"]
    assert len(mail.outbox) == 2  # the acknowledgement and the reply
    reply = mail.outbox[1]
    assert reply.subject.startswith(f"[#{case.case_id}]")
    assert reply.to == ["王女士 <wang@example.com>"]
    assert case.messages.get(direction="out").email_message_id == reply.extra_headers["Message-ID"]


def test_assignment_checks_team_membership(staff: Any, make_order: Any, order: Order) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    with pytest.raises(CaseError) as err:
        assign_case(case.case_id, actor=staff.actor("manager"), assignee_id=staff.other_agent.pk)
    assert "assignee_id" in err.value.fields
    done = assign_case(case.case_id, actor=staff.actor("manager"), assignee_id=staff.agent.pk)
    assert done.assignee == staff.agent
    assert done.events.filter(kind="assigned").count() == 1
    moved = assign_case(
        case.case_id, actor=staff.actor("manager"), team="vip", assignee_id=staff.other_agent.pk
    )
    assert (moved.team_id, moved.assignee_id) == ("vip", staff.other_agent.pk)


def test_order_events_are_noted_once_on_open_cases(
    staff: Any, make_order: Any, order: Order
) -> None:
    shipped = make_order("o5", delivered=None)
    case = open_case(
        NewCase(kind="question", channel="web", subject="到哪了", order_id="o5"),
        actor=Actor.customer(),
        now=NOW,
    )
    touched = record_order_event("o5", "delivered", at=NOW)
    assert touched == [case.case_id]
    assert record_order_event("o5", "delivered", at=NOW) == []
    shipped.refresh_from_db()
    assert shipped.delivered_at == NOW
    assert shipped.status == "delivered"
    with pytest.raises(CaseError):
        record_order_event("nope", "delivered", at=NOW)


@pytest.mark.django_db(transaction=True)
def test_two_agents_racing_on_one_version_one_wins_one_gets_a_conflict(
    staff: Any, order: Order
) -> None:
    import threading

    from django.db import connection

    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    seen = case.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(who: str, diagnosis: str) -> None:
        barrier.wait()
        try:
            transition_case(
                case.case_id,
                "triage",
                actor=staff.actor(who),
                expected_version=seen,
                fields={"diagnosis": diagnosis},
            )
            outcomes[who] = "won"
        except CaseConflict:
            outcomes[who] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("agent", "A")),
        threading.Thread(target=act, args=("manager", "B")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "won"]
    final = Case.objects.get(pk=case.case_id)
    winner = next(w for w, o in outcomes.items() if o == "won")
    assert final.diagnosis == {"agent": "A", "manager": "B"}[winner]
    assert final.version == seen + 1
    assert final.events.filter(kind="transition").count() == 1


def test_queues_put_the_most_urgent_first_and_hide_other_teams(staff: Any, order: Order) -> None:
    from manyi.desk.cases.selectors import CaseFilters, count_queues, list_cases

    low = open_case(
        NewCase(kind="question", channel="web", subject="a", priority="low", team="returns"),
        actor=Actor.customer(),
        now=NOW,
    )
    urgent = open_case(
        NewCase(kind="question", channel="web", subject="b", priority="urgent", team="returns"),
        actor=Actor.customer(),
        now=NOW,
    )
    high = open_case(
        NewCase(kind="question", channel="web", subject="c", priority="high", team="returns"),
        actor=Actor.customer(),
        now=NOW,
    )
    vip = open_case(
        NewCase(kind="question", channel="web", subject="d", team="vip"),
        actor=Actor.customer(),
        now=NOW,
    )
    seen = [c.case_id for c in list_cases(staff.agent, CaseFilters(queue="open"))]
    # Urgent has the shortest first-response target, so its clock is due first.
    assert seen[0] == urgent.case_id
    assert vip.case_id not in seen
    assert set(seen) == {low.case_id, urgent.case_id, high.case_id}
    assert count_queues(staff.agent)["open"] == 3
    assert count_queues(staff.manager)["open"] == 4
    found = list_cases(staff.manager, CaseFilters(queue="all", search=f"#{vip.case_id}"))
    assert [c.case_id for c in found] == [vip.case_id]


def test_field_lengths_order_event_keys_and_contact_times_are_checked(
    staff: Any, make_order: Any, order: Order
) -> None:
    case = open_case(new_return(order), actor=Actor.customer(), now=NOW)
    before = snapshot(case.case_id)
    with pytest.raises(CaseError) as err:
        update_case(case.case_id, actor=staff.actor("manager"), subject="x" * 201)
    assert list(err.value.fields) == ["subject"]
    with pytest.raises(CaseError) as err:
        transition_case(
            case.case_id,
            "triage",
            actor=staff.actor("manager"),
            fields={"diagnosis": "d", "return_tracking": "9" * 65},
        )
    assert list(err.value.fields) == ["return_tracking"]
    with pytest.raises(CaseError) as err:
        log_contact(
            case.case_id,
            "called",
            actor=staff.actor("agent"),
            channel="phone",
            direction="out",
            at=NOW - timedelta(days=1),
            now=NOW,
        )
    assert list(err.value.fields) == ["at"]
    assert snapshot(case.case_id) == before
    # The same delivery instant written with another offset is the same event.
    question = open_case(
        NewCase(kind="question", channel="web", subject="到哪了", order_id=order.order_id),
        actor=Actor.customer(),
        now=NOW,
    )
    assert sorted(record_order_event(order.order_id, "delivered", at=NOW, data={"key": "x"})) == [
        case.case_id,
        question.case_id,
    ]
    assert record_order_event(order.order_id, "delivered", at=NOW.astimezone(UTC)) == []
    event = question.events.get(kind="order_event")
    assert event.data["payload"] == {"key": "x"}


def test_follow_ups_and_assignees_respect_teams(staff: Any, order: Order) -> None:
    hidden = open_case(
        NewCase(kind="question", channel="web", subject="a", team="vip"),
        actor=Actor.customer(),
        now=NOW,
    )
    with pytest.raises(CaseError) as err:
        open_case(
            NewCase(
                kind="question",
                channel="phone",
                subject="b",
                follow_up_of=hidden.case_id,
                team="returns",
                assignee_id=staff.other_agent.pk,
            ),
            actor=staff.actor("agent"),
            now=NOW,
        )
    assert set(err.value.fields) == {"follow_up_of", "assignee_id"}
