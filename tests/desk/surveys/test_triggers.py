"""Triggers: a resolved case or a delivered order schedules one invitation, exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from manyi.desk.cases.events import Actor
from manyi.desk.cases.services import transition_case
from manyi.desk.surveys.jobs import run_survey_jobs
from manyi.desk.surveys.models import (
    Invitation,
    InvitationChannel,
    InvitationStatus,
    SuppressionReason,
    SurveyRule,
)
from manyi.desk.surveys.sending import issue_due_invitations
from manyi.desk.surveys.triggers import scan_triggers

pytestmark = pytest.mark.django_db


def test_a_resolved_case_is_surveyed_after_the_delay(
    resolved_case: Any, make_order: Any, now: datetime
) -> None:
    order = make_order("o1", delivered=now - timedelta(days=20))  # before the delivery scan
    case = resolved_case(order, at=now - timedelta(hours=2), language="en")

    scanned = scan_triggers(now)

    invitation = Invitation.objects.get(case=case)
    assert scanned.created == 1
    assert (invitation.rule_id, invitation.trigger_key) == ("after_case", f"case:{case.case_id}")
    assert invitation.status == InvitationStatus.SCHEDULED
    assert invitation.send_at == case.resolved_at + timedelta(hours=24)
    assert (invitation.email, invitation.language) == ("wang@example.com", "en")
    assert (invitation.customer_id, invitation.order_id) == ("c1", "o1")
    # not yet due: nothing is sent before the delay
    assert issue_due_invitations(now).emailed == 0
    assert SurveyRule.objects.get(code="after_case").checkpoint_at == now


def test_scanning_again_never_invites_twice(resolved_case: Any, now: datetime) -> None:
    case = resolved_case(at=now - timedelta(hours=2))
    scan_triggers(now)
    # the checkpoint moved, but the grace window looks at the same resolution again
    assert scan_triggers(now + timedelta(minutes=1)).created == 0
    assert scan_triggers(now + timedelta(days=3)).created == 0
    assert Invitation.objects.filter(case=case).count() == 1

    # and the database itself refuses a second invitation for the same trigger
    first = Invitation.objects.get(case=case)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            rule=first.rule,
            trigger_key=first.trigger_key,
            language="zh-hans",
            event_at=now,
            created_at=now,
            send_at=now,
        )
    assert Invitation.objects.filter(case=case).count() == 1


def test_a_case_resolved_again_after_reopening_is_not_surveyed_twice(
    resolved_case: Any, agent: Any, run_jobs: Any, now: datetime
) -> None:
    case = resolved_case(at=now - timedelta(days=2))
    run_jobs(now)
    transition_case(case.case_id, "reopen", actor=Actor.staff(agent), note="还有问题", now=now)
    transition_case(case.case_id, "resolve", actor=Actor.staff(agent), now=now + timedelta(hours=1))

    run_jobs(now + timedelta(days=2))

    assert Invitation.objects.filter(case=case).count() == 1


def test_a_case_reopened_before_sending_is_not_surveyed(
    resolved_case: Any, agent: Any, run_jobs: Any, now: datetime, mailoutbox: list[Any]
) -> None:
    case = resolved_case(at=now - timedelta(hours=2))
    scan_triggers(now)
    transition_case(case.case_id, "reopen", actor=Actor.staff(agent), note="没解决", now=now)

    result = run_jobs(now + timedelta(days=1))

    invitation = Invitation.objects.get(case=case)
    assert result.sent.cancelled == 1
    assert (invitation.status, invitation.reason) == (
        InvitationStatus.CANCELLED,
        SuppressionReason.CASE_REOPENED,
    )
    assert not [m for m in mailoutbox if "X-Manyi-Survey" in m.extra_headers]


def test_a_delivered_order_gets_a_link_only_dsr_and_nps_invitation(
    make_order: Any, run_jobs: Any, now: datetime
) -> None:
    # Olist-like: the customer never wrote to the desk, so there is no address
    order = make_order("o9", customer_id="c9", delivered=now - timedelta(hours=30))
    make_order("o-late", customer_id="c8", delivered=None)  # shipped, not delivered

    result = run_jobs(now)

    invitation = Invitation.objects.get(order=order)
    assert result.scanned.created == 1
    assert result.sent.link_only == 1
    assert (invitation.status, invitation.channel, invitation.email) == (
        InvitationStatus.ISSUED,
        InvitationChannel.LINK,
        "",
    )
    assert [
        v.instrument_id for v in invitation.versions.order_by("invitation_links__position")
    ] == [
        "dsr",
        "nps",
    ]
    assert invitation.expires_at == now + timedelta(days=28)
    assert not Invitation.objects.filter(order_id="o-late").exists()


def test_an_order_customer_who_wrote_to_the_desk_is_mailed_in_their_language(
    make_order: Any, resolved_case: Any, run_jobs: Any, now: datetime, mailoutbox: list[Any]
) -> None:
    earlier = make_order("o-old", delivered=now - timedelta(days=30))
    resolved_case(earlier, email="Ana.Lima@Example.com", language="en", at=now - timedelta(days=20))
    order = make_order("o2", delivered=now - timedelta(hours=30))
    SurveyRule.objects.filter(code="after_case").update(active=False)

    run_jobs(now)

    invitation = Invitation.objects.get(order=order)
    assert (invitation.email, invitation.language) == ("ana.lima@example.com", "en")
    mails = [m for m in mailoutbox if "X-Manyi-Survey" in m.extra_headers]
    assert [m.to for m in mails] == [["ana.lima@example.com"]]
    assert mails[0].subject == "How was your order?"


def test_an_import_of_old_deliveries_is_picked_up_within_the_grace_days(
    make_order: Any, now: datetime
) -> None:
    # the rule scanned up to a day ago; an import now brings orders delivered 5 and 9 days ago
    recent = make_order("o-5", customer_id="c5", delivered=now - timedelta(days=5))
    old = make_order("o-9", customer_id="c6", delivered=now - timedelta(days=9))

    scan_triggers(now)

    assert Invitation.objects.filter(order=recent).exists()
    assert not Invitation.objects.filter(order=old).exists()  # before checkpoint − 7 days


def test_an_inactive_rule_invites_nobody(make_order: Any, now: datetime) -> None:
    SurveyRule.objects.update(active=False)
    make_order("o3", delivered=now - timedelta(hours=3))

    assert scan_triggers(now).created == 0
    assert Invitation.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_invite_and_send_each_trigger_once(
    make_order: Any, now: datetime
) -> None:
    SurveyRule.objects.filter(code="after_case").update(active=False)
    for n in range(12):
        make_order(f"o{n}", customer_id=f"c{n}", delivered=now - timedelta(hours=30))

    def worker() -> None:
        try:
            run_survey_jobs(now)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(worker) for _ in range(2)]:
            future.result()

    invitations = Invitation.objects.filter(rule_id="after_delivery")
    assert invitations.count() == 12
    assert set(invitations.values_list("status", flat=True)) == {InvitationStatus.ISSUED}
    assert Invitation.objects.filter(invitation_versions__isnull=False).distinct().count() == 12
    assert sum(1 for i in invitations for _v in i.versions.all()) == 24  # dsr + nps, once each
