"""The agent console through Django's test client: queues, the case page and its forms, bulk
actions, roles and languages. State is built through the real services."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from manyi.desk.accounts.services import ensure_team
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseEvent, CaseStatus, Macro, Message
from manyi.desk.cases.services import (
    NewCase,
    add_note,
    assign_case,
    open_case,
    reply_to_case,
    transition_case,
)
from manyi.desk.cases.sla_checks import check_sla
from manyi.desk.cases.templatetags.case_console import describe_due
from manyi.desk.commerce.models import Order

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"
QUEUE = reverse("cases:queue")


def open_return(order: Order | None = None, **overrides: Any) -> Case:
    values: dict[str, Any] = {
        "kind": "return_refund",
        "channel": "web",
        "subject": "枕套有破洞",
        "description": "收到的枕套有一个洞，想退货。",
        "reason": "quality",
        "order_id": order.order_id if order else None,
        "order_lines": (1,) if order else (),
        "contact_name": "王女士",
        "contact_email": "wang@example.com",
        "team": "returns",
        "refund_amount": Decimal("130.00") if order else None,
    }
    values.update(overrides)
    return open_case(NewCase(**values), actor=Actor.customer())


def login(client: Client, username: str) -> Client:
    assert client.login(username=username, password=PASSWORD)
    return client


def page(client: Client, case: Case, **headers: Any) -> Any:
    return client.get(reverse("cases:case", args=[case.case_id]), **headers)


def snapshot(case_id: int) -> tuple[object, ...]:
    case = Case.objects.get(pk=case_id)
    return (
        case.status,
        case.version,
        case.assignee_id,
        case.diagnosis,
        CaseEvent.objects.filter(case_id=case_id).count(),
        Message.objects.filter(case_id=case_id).count(),
    )


def hidden_version(html: str, action: str) -> int:
    """The ``version`` posted by the form whose action is ``action``."""
    form = html.split(f'action="{action}"', 1)[1]
    match = re.search(r'name="version" value="(\d+)"', form)
    assert match is not None
    return int(match.group(1))


# Access -----------------------------------------------------------------------------------------


def test_the_console_needs_a_login_and_the_login_lands_on_it(client: Client, staff: Any) -> None:
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    response = client.post(reverse("accounts:login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == QUEUE


def test_an_agent_sees_her_teams_and_untriaged_cases_with_counts(
    client: Client, staff: Any, order: Order
) -> None:
    ours = open_return(order, subject="我们组的退货")
    open_return(order, subject="VIP 的投诉", team="vip", kind="complaint")
    shared = open_return(None, subject="还没分组的咨询", team=None, kind="question")
    assign_case(shared.case_id, actor=staff.actor("agent"), assignee_id=staff.agent.pk)
    login(client, "ana")

    response = client.get(QUEUE, {"queue": "open"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response.context["counts"] == {
        "mine": 1,
        "team": 1,
        "unassigned": 1,
        "at_risk": 0,
        "breached": 0,
        "waiting": 0,
        "open": 2,
    }
    html = response.content.decode()
    assert "我们组的退货" in html
    assert "还没分组的咨询" in html
    assert "VIP 的投诉" not in html
    assert {row.case.case_id for row in response.context["rows"]} == {ours.case_id, shared.case_id}
    # Without a queue in the address an agent lands on her own cases.
    assert client.get(QUEUE).context["filters"].queue == "mine"
    # Each queue is a tab with its count.
    assert re.search(r'data-queue="team">My teams <span class="count">1</span>', html)


def test_each_queue_holds_what_its_name_says(client: Client, staff: Any, order: Order) -> None:
    taken = open_return(order, subject="taken")
    waiting = open_return(order, subject="waiting")
    closed = open_return(order, subject="closed", kind="question")
    open_return(order, subject="fresh")
    ana = staff.actor("agent")
    assign_case(taken.case_id, actor=ana, assignee_id=staff.agent.pk)
    transition_case(waiting.case_id, "triage", actor=ana, fields={"diagnosis": "need photos"})
    transition_case(waiting.case_id, "wait_on_customer", actor=ana, note="photos please")
    transition_case(closed.case_id, "triage", actor=ana, fields={"diagnosis": "answered"})
    transition_case(closed.case_id, "resolve", actor=ana)
    login(client, "ana")

    def subjects(queue: str) -> set[str]:
        response = client.get(QUEUE, {"queue": queue})
        assert response.status_code == 200
        return {row.case.subject for row in response.context["rows"]}

    assert subjects("mine") == {"taken"}
    assert subjects("unassigned") == {"waiting", "fresh"}
    assert subjects("waiting") == {"waiting"}
    assert subjects("open") == {"taken", "waiting", "fresh"}
    assert subjects("all") == {"taken", "waiting", "fresh", "closed"}
    assert subjects("breached") == set()


def test_at_risk_and_breached_queues_follow_the_sla_worker(
    client: Client, staff: Any, order: Order, now: datetime
) -> None:
    # Monday 10:00 in Shanghai, inside working hours; the first response target is 60 minutes.
    late = open_case(
        NewCase(kind="question", channel="web", subject="late", team="returns"),
        actor=Actor.customer(),
        now=now,
    )
    soon = open_case(
        NewCase(kind="question", channel="web", subject="soon", team="returns"),
        actor=Actor.customer(),
        now=now + timedelta(minutes=20),
    )
    result = check_sla(now + timedelta(minutes=70))
    assert (result.breached, result.warned) == ([late.case_id], [soon.case_id])
    login(client, "ana")

    breached = client.get(QUEUE, {"queue": "breached"}, HTTP_ACCEPT_LANGUAGE="en")
    at_risk = client.get(QUEUE, {"queue": "at_risk"}, HTTP_ACCEPT_LANGUAGE="en")

    assert [r.case.subject for r in breached.context["rows"]] == ["late"]
    assert [r.case.subject for r in at_risk.context["rows"]] == ["soon"]
    assert (breached.context["counts"]["breached"], breached.context["counts"]["at_risk"]) == (1, 1)
    row = breached.content.decode().split(f'data-case="{late.case_id}"')[1].split("</tr>")[0]
    assert '<span class="sla sla-breached">Breached</span>' in row
    assert 'class="due overdue">overdue ' in row
    assert "SLA breached" in page(client, late, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_filters_and_search_narrow_the_queue_and_htmx_gets_only_the_table(
    client: Client, staff: Any, make_order: Any
) -> None:
    first = open_return(make_order("o-100", customer_id="c1"), subject="碎了")
    open_return(
        make_order("o-200", customer_id="c2"),
        subject="wrong colour",
        contact_email="lee@example.com",
        kind="exchange",
        priority="high",
    )
    login(client, "ana")

    def found(**params: str) -> set[str]:
        response = client.get(QUEUE, {"queue": "open", **params})
        return {row.case.subject for row in response.context["rows"]}

    assert found(q="o-100") == {"碎了"}
    assert found(q="LEE@example.com") == {"wrong colour"}
    assert found(q=first.number) == {"碎了"}
    assert found(q="colour") == {"wrong colour"}
    assert found(kind="exchange") == {"wrong colour"}
    assert found(priority="high") == {"wrong colour"}
    assert found(channel="email") == set()
    assert found(team="returns") == {"碎了", "wrong colour"}
    assert found(status="new", kind="return_refund") == {"碎了"}
    # Unknown values are ignored rather than failing.
    assert found(kind="nonsense") == {"碎了", "wrong colour"}

    partial = client.get(QUEUE, {"queue": "open", "q": "o-100"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html
    assert 'id="queue-field"' in html
    assert 'hx-swap-oob="true"' in html
    assert "碎了" in html
    full = client.get(QUEUE, {"queue": "open", "q": "o-100"}).content.decode()
    assert "<html" in full
    assert 'value="o-100"' in full


def test_the_queue_is_paginated_and_keeps_its_filters(
    client: Client, staff: Any, order: Order
) -> None:
    for n in range(27):
        open_return(order, subject=f"case {n}")
    login(client, "ana")
    first = client.get(QUEUE, {"queue": "open", "kind": "return_refund"})
    assert len(first.context["rows"]) == 25
    html = first.content.decode()
    assert "queue=open&amp;kind=return_refund&amp;page=2" in html
    second = client.get(QUEUE, {"queue": "open", "kind": "return_refund", "page": "2"})
    assert len(second.context["rows"]) == 2


def test_another_teams_case_is_not_found_everywhere(
    client: Client, staff: Any, order: Order
) -> None:
    theirs = open_return(order, team="vip")
    before = snapshot(theirs.case_id)
    login(client, "ana")
    cid = theirs.case_id

    assert page(client, theirs).status_code == 404
    for name, args, data in (
        ("cases:take", [cid], {"version": 1}),
        ("cases:reply", [cid], {"body": "hi", "mode": "reply"}),
        ("cases:transition", [cid, "triage"], {"diagnosis": "x"}),
        ("cases:update", [cid], {"priority": "high"}),
        ("cases:assign", [cid], {"assignee": staff.agent.pk}),
    ):
        assert client.post(reverse(name, args=args), data).status_code == 404, name
    assert client.get(reverse("cases:macro_preview", args=[cid, 1])).status_code == 404
    assert snapshot(cid) == before


def test_an_analyst_reads_every_case_but_changes_none(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order, team="vip")
    before = snapshot(case.case_id)
    login(client, "li")

    response = page(client, case, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["transition_forms"] == []
    assert "/transition/" not in html
    assert 'id="reply-box"' not in html
    assert "/take/" not in html
    queue = client.get(QUEUE, {"queue": "open"}).content.decode()
    assert 'name="case_ids"' not in queue
    for name, args, data in (
        ("cases:transition", [case.case_id, "triage"], {"diagnosis": "x", "version": 1}),
        ("cases:reply", [case.case_id], {"body": "hi", "mode": "reply"}),
        ("cases:take", [case.case_id], {}),
        ("cases:update", [case.case_id], {"priority": "high"}),
        ("cases:bulk", [], {"case_ids": [case.case_id], "action": "assign_me"}),
    ):
        assert client.post(reverse(name, args=args), data).status_code == 403, name
    assert snapshot(case.case_id) == before


def test_a_user_without_a_role_is_refused(client: Client, django_user_model: Any) -> None:
    django_user_model.objects.create_user("visitor", password=PASSWORD)
    login(client, "visitor")
    assert client.get(QUEUE).status_code == 403


# Taking, replying, moving a case ------------------------------------------------------------------


def test_take_assigns_the_case_to_me_and_opens_it(client: Client, staff: Any, order: Order) -> None:
    case = open_return(order)
    login(client, "ana")

    response = client.post(
        reverse("cases:take", args=[case.case_id]),
        {"version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case", args=[case.case_id])
    case.refresh_from_db()
    assert case.assignee_id == staff.agent.pk
    follow = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert f"You took case {case.number}." in follow.content.decode()
    assert 'data-testid="take"' not in follow.content.decode()


def test_take_from_htmx_redirects_the_browser(client: Client, staff: Any, order: Order) -> None:
    case = open_return(order)
    login(client, "ana")
    response = client.post(
        reverse("cases:take", args=[case.case_id]),
        {"version": case.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("cases:case", args=[case.case_id])


def test_reply_note_and_logged_call_land_on_the_timeline(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    login(client, "ana")
    url = reverse("cases:reply", args=[case.case_id])

    for data in (
        {"mode": "reply", "body": "您好，请寄回。"},
        {"mode": "note", "body": "仓库确认有货"},
        {"mode": "contact", "body": "客户来电询问进度", "channel": "phone", "direction": "in"},
    ):
        version = Case.objects.get(pk=case.case_id).version
        response = client.post(url, {**data, "version": version})
        assert response.status_code == 302, response.content

    messages = list(Message.objects.filter(case=case).order_by("id"))
    assert [(m.direction, m.channel, m.body) for m in messages[1:]] == [
        ("out", "email", "您好，请寄回。"),
        ("internal", "web", "仓库确认有货"),
        ("in", "phone", "客户来电询问进度"),
    ]
    html = page(client, case).content.decode()
    note = html.split("仓库确认有货")[0].rsplit("<li", 1)[1]
    assert 'class="msg msg-internal"' in note
    assert Case.objects.get(pk=case.case_id).first_response_at is not None


def test_an_empty_reply_is_refused_with_its_field_and_nothing_changes(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    before = snapshot(case.case_id)
    login(client, "ana")
    response = client.post(
        reverse("cases:reply", args=[case.case_id]),
        {"mode": "reply", "body": "  ", "version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert 'data-field="body"' in response.content.decode()
    assert snapshot(case.case_id) == before


def test_only_the_allowed_moves_are_offered_each_asking_for_its_fields(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    login(client, "ana")

    forms = page(client, case).context["transition_forms"]
    assert [f.transition.name for f in forms] == ["triage"]
    assert [(i.name, i.required) for i in forms[0].inputs] == [
        ("diagnosis", True),
        ("note", False),
    ]

    transition_case(case.case_id, "triage", actor=staff.actor("agent"), fields={"diagnosis": "洞"})
    forms = page(client, case).context["transition_forms"]
    assert [f.transition.name for f in forms] == ["approve", "reject", "wait_on_customer"]
    approve, reject, wait = forms
    assert [(i.name, i.required) for i in approve.inputs] == [
        ("refund_amount", False),
        ("note", False),
    ]
    assert approve.inputs[0].value == Decimal("130.00")
    assert [(i.name, i.required) for i in reject.inputs] == [("note", True)]
    assert [(i.name, i.required) for i in wait.inputs] == [("note", True)]


def test_a_transition_without_its_required_field_shows_the_error_and_changes_nothing(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    before = snapshot(case.case_id)
    login(client, "ana")

    response = client.post(
        reverse("cases:transition", args=[case.case_id, "triage"]),
        {"diagnosis": "   ", "note": "looked at it", "version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert '<p class="error field-error" data-field="diagnosis">Required to Diagnose.</p>' in html
    assert re.search(r'<details class="transition primary" id="transition-triage" open>', html)
    assert ">looked at it</textarea>" in html
    assert snapshot(case.case_id) == before


def test_triage_then_approve_through_the_forms(client: Client, staff: Any, order: Order) -> None:
    case = open_return(order)
    login(client, "ana")
    triage = client.post(
        reverse("cases:transition", args=[case.case_id, "triage"]),
        {"diagnosis": "枕套破洞，质量问题", "version": case.version},
    )
    assert triage.status_code == 302
    version = Case.objects.get(pk=case.case_id).version
    approve = client.post(
        reverse("cases:transition", args=[case.case_id, "approve"]),
        {"refund_amount": "120.00", "note": "照片清楚", "version": version},
    )
    assert approve.status_code == 302

    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert case.diagnosis == "枕套破洞，质量问题"
    assert case.refund_amount == Decimal("120.00")
    assert (case.decision, case.decision_reason, case.decided_by) == (
        "approved",
        "照片清楚",
        staff.agent,
    )
    html = page(client, case, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已审核" in html
    assert "照片清楚" in html


def test_an_approval_over_the_agents_limit_is_refused_with_the_reason(
    client: Client, staff: Any, make_order: Any
) -> None:
    case = open_return(make_order("big", prices=("900.00",)), refund_amount=Decimal("800.00"))
    transition_case(case.case_id, "triage", actor=staff.actor("agent"), fields={"diagnosis": "x"})
    before = snapshot(case.case_id)
    login(client, "ana")
    response = client.post(
        reverse("cases:transition", args=[case.case_id, "approve"]),
        {"version": before[1]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403
    assert "over your approval limit" in response.content.decode()
    assert snapshot(case.case_id) == before


def test_a_conflict_shows_the_fresh_case_and_keeps_the_typed_reply(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    login(client, "ana")
    seen = hidden_version(
        page(client, case).content.decode(), reverse("cases:reply", args=[case.case_id])
    )
    add_note(case.case_id, "bo 先看了一眼", actor=staff.actor("manager"))
    before = snapshot(case.case_id)

    response = client.post(
        reverse("cases:reply", args=[case.case_id]),
        {"mode": "reply", "body": "您好，我们已收到您的申请。", "version": seen},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "was changed by mei since you opened it" in html
    assert ">您好，我们已收到您的申请。</textarea>" in html
    assert "bo 先看了一眼" in html  # the fresh timeline
    fresh = hidden_version(html, reverse("cases:reply", args=[case.case_id]))
    assert fresh == seen + 1
    assert snapshot(case.case_id) == before


def test_a_conflict_on_a_transition_keeps_the_typed_fields(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    login(client, "ana")
    reply_to_case(case.case_id, "收到", actor=staff.actor("manager"))
    before = snapshot(case.case_id)
    response = client.post(
        reverse("cases:transition", args=[case.case_id, "triage"]),
        {"diagnosis": "我写的诊断", "version": case.version},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert ">我写的诊断</textarea>" in html
    assert 'id="transition-triage" open' in html
    assert snapshot(case.case_id) == before


def test_priority_and_assignment_can_be_changed(client: Client, staff: Any, order: Order) -> None:
    case = open_return(order)
    login(client, "mei")
    response = client.post(
        reverse("cases:update", args=[case.case_id]), {"priority": "urgent", "version": 1}
    )
    assert response.status_code == 302
    version = Case.objects.get(pk=case.case_id).version
    ensure_team("vip")
    response = client.post(
        reverse("cases:assign", args=[case.case_id]),
        {"team": "vip", "assignee": staff.other_agent.pk, "version": version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.priority, case.team_id, case.assignee_id) == (
        "urgent",
        "vip",
        staff.other_agent.pk,
    )


def test_assigning_to_someone_outside_the_team_is_refused(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    before = snapshot(case.case_id)
    login(client, "ana")
    response = client.post(
        reverse("cases:assign", args=[case.case_id]),
        {"assignee": staff.other_agent.pk, "version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert "bo is not in team returns." in response.content.decode()
    assert snapshot(case.case_id) == before


# Bulk -------------------------------------------------------------------------------------------


def test_bulk_actions_report_each_case(client: Client, staff: Any, order: Order) -> None:
    mine = [open_return(order, subject=f"bulk {n}") for n in range(2)]
    theirs = open_return(order, subject="vip bulk", team="vip")
    login(client, "ana")
    ids = [c.case_id for c in (*mine, theirs)]

    response = client.post(
        reverse("cases:bulk"),
        {"case_ids": ids, "action": "assign_me", "query": "queue=open"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert [(r.case_id, r.ok) for r in response.context["results"]] == [
        (mine[0].case_id, True),
        (mine[1].case_id, True),
        (theirs.case_id, False),
    ]
    assert response.context["results"][2].message == f"No case #{theirs.case_id}."
    assert response.context["filters"].queue == "open"
    html = response.content.decode()
    assert html.count('data-testid="bulk-result"') == 3
    assert "vip bulk" not in html  # a failed row does not reveal the other team's subject
    assert set(Case.objects.filter(assignee=staff.agent).values_list("case_id", flat=True)) == {
        c.case_id for c in mine
    }
    assert Case.objects.get(pk=theirs.case_id).assignee_id is None


def test_a_bulk_transition_says_which_cases_could_not_move(
    client: Client, staff: Any, order: Order
) -> None:
    ready = open_return(order, subject="ready")
    transition_case(ready.case_id, "triage", actor=staff.actor("agent"), fields={"diagnosis": "ok"})
    fresh = open_return(order, subject="fresh")
    login(client, "mei")

    response = client.post(
        reverse("cases:bulk"),
        {
            "case_ids": [ready.case_id, fresh.case_id],
            "action": "transition",
            "transition": "wait_on_customer",
            "note": "请补充照片",
        },
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    results = {r.case_id: (r.ok, r.message) for r in response.context["results"]}
    assert results[ready.case_id] == (True, "")
    assert results[fresh.case_id][0] is False
    assert "cannot “Wait for the customer”" in results[fresh.case_id][1]
    assert Case.objects.get(pk=ready.case_id).status == CaseStatus.WAITING_ON_CUSTOMER
    assert Case.objects.get(pk=fresh.case_id).status == CaseStatus.NEW


def test_a_bulk_action_without_cases_says_so(client: Client, staff: Any) -> None:
    login(client, "ana")
    response = client.post(
        reverse("cases:bulk"), {"action": "assign_me"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "Select at least one case." in response.content.decode()
    assert response.context["results"] is None


# Macros -----------------------------------------------------------------------------------------


@pytest.fixture
def macros(staff: Any) -> dict[str, Macro]:
    ensure_team("vip")
    return {
        "ack": Macro.objects.create(
            name="确认收到",
            body="{customer_name}您好，工单 {case_number}（订单 {order_id}）已收到，"
            "{agent_name} 会跟进。{unknown}",
        ),
        "wait": Macro.objects.create(
            name="请补充照片", body="请上传照片。", transition="wait_on_customer"
        ),
        "vip": Macro.objects.create(name="VIP", body="VIP only", team_id="vip"),
        "en": Macro.objects.create(name="Thanks", body="Thanks!", language="en"),
    }


def test_macros_are_listed_for_the_team_and_language_and_previewed_filled_in(
    client: Client, staff: Any, order: Order, macros: dict[str, Macro]
) -> None:
    case = open_return(order)
    staff.agent.first_name = "安娜"
    staff.agent.save()
    login(client, "ana")

    assert [m.name for m in page(client, case).context["macros"]] == ["确认收到", "请补充照片"]
    preview = client.get(
        reverse("cases:macro_preview", args=[case.case_id, macros["ack"].pk]),
        HTTP_HX_REQUEST="true",
    )
    assert preview.status_code == 200
    expected = f"王女士您好，工单 {case.number}（订单 o1）已收到，安娜 会跟进。{{unknown}}"
    assert expected in preview.content.decode()
    # Without htmx the same preview is part of the case page.
    redirect = client.get(reverse("cases:macro_preview", args=[case.case_id, macros["ack"].pk]))
    assert redirect.status_code == 302
    assert expected in client.get(redirect["Location"]).content.decode()
    insert = client.get(
        reverse("cases:macro_insert", args=[case.case_id, macros["ack"].pk]),
        HTTP_HX_REQUEST="true",
    )
    assert f">{expected}</textarea>" in insert.content.decode()
    for other in ("vip", "en"):
        url = reverse("cases:macro_preview", args=[case.case_id, macros[other].pk])
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 404


def test_applying_a_macro_replies_and_moves_the_case(
    client: Client, staff: Any, order: Order, macros: dict[str, Macro]
) -> None:
    case = open_return(order)
    transition_case(case.case_id, "triage", actor=staff.actor("agent"), fields={"diagnosis": "?"})
    login(client, "ana")
    version = Case.objects.get(pk=case.case_id).version
    response = client.post(
        reverse("cases:macro_apply", args=[case.case_id, macros["wait"].pk]), {"version": version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_ON_CUSTOMER
    assert Message.objects.filter(case=case, direction="out").get().body == "请上传照片。"


# Attachments ------------------------------------------------------------------------------------


def test_attachments_download_only_for_those_who_see_the_case(
    client: Client, staff: Any, order: Order, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = open_return(order)
    login(client, "ana")
    upload = SimpleUploadedFile("label.html", b"<script>alert(1)</script>", "text/html")
    response = client.post(
        reverse("cases:reply", args=[case.case_id]),
        {"mode": "reply", "body": "退货标签见附件", "version": case.version, "files": [upload]},
    )
    assert response.status_code == 302
    attachment = Message.objects.get(case=case, direction="out").attachments.get()
    url = reverse("cases:attachment", args=[attachment.pk])
    assert url in page(client, case).content.decode()

    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]

    client.logout()
    login(client, "bo")
    assert client.get(url).status_code == 404


# Languages and the customer panel ---------------------------------------------------------------


def test_the_console_speaks_chinese_and_english(client: Client, staff: Any, order: Order) -> None:
    case = open_return(order)
    login(client, "ana")
    zh_queue = client.get(QUEUE, {"queue": "open"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content
    en_queue = client.get(QUEUE, {"queue": "open"}, HTTP_ACCEPT_LANGUAGE="en").content
    for text in ("工单", "退货退款", "待处理", "接单", "未分配"):
        assert text in zh_queue.decode(), text
    for text in ("Cases", "Return and refund", "New", "Take", "Unassigned"):
        assert text in en_queue.decode(), text
    zh_case = page(client, case, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    en_case = page(client, case, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("首次响应", "诊断", "客户", "内部备注", "质量问题"):
        assert text in zh_case, text
    for text in ("First response", "Diagnose", "Customer", "Add internal note", "Quality fault"):
        assert text in en_case, text


def test_the_customer_panel_shows_the_order_and_other_cases(
    client: Client, staff: Any, order: Order
) -> None:
    case = open_return(order)
    earlier = open_return(order, subject="上次的咨询", kind="question")
    reply_to_case(earlier.case_id, "已经回复过", actor=staff.actor("agent"))
    login(client, "ana")
    response = page(client, case, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.context["order"].order_id == "o1"
    for amount in ("120.00", "80.00", "220.00 CNY"):
        assert amount in html
    assert [c.case_id for c in response.context["other_cases"]] == [earlier.case_id]
    assert "已经回复过" in html  # the customer's timeline across cases


@translation.override("en")
def test_relative_due_times_read_like_a_person_would_say_them() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert describe_due(now + timedelta(minutes=35, seconds=20), now) == "in 35 min"
    assert describe_due(now - timedelta(hours=2, minutes=5), now) == "overdue 2 h"
    assert describe_due(now + timedelta(days=3, hours=1), now) == "in 3 d"
    assert describe_due(now + timedelta(seconds=30), now) == "due now"
    assert describe_due(None, now) == ""
