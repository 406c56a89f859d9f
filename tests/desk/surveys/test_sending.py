"""Sending: the e-mail in the customer's language, fatigue, opt-out, reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from manyi.desk.surveys.links import make_opt_out_token
from manyi.desk.surveys.models import (
    Invitation,
    InvitationChannel,
    InvitationStatus,
    OptOut,
    SuppressionReason,
    SurveySettings,
)
from manyi.desk.surveys.services import record_opt_out

pytestmark = pytest.mark.django_db


def survey_mails(mailoutbox: list[Any], *, reminders: bool = False) -> list[Any]:
    """Survey invitations (and, with ``reminders``, reminders) among the mails sent."""
    return [
        m
        for m in mailoutbox
        if "X-Manyi-Survey" in m.extra_headers
        and (reminders or not m.subject.startswith(("提醒", "Reminder")))
    ]


def test_the_invitation_email_is_in_the_customers_language_with_an_opt_out_link(
    invite: Any, mailoutbox: list[Any]
) -> None:
    zh = invite("case", email="wang@example.com", language="zh-hans")
    en = invite("case", email="ana@example.com", language="en", at=zh.issued_at + timedelta(days=1))

    mails = {m.to[0]: m for m in survey_mails(mailoutbox)}
    assert set(mails) == {"wang@example.com", "ana@example.com"}
    chinese, english = mails["wang@example.com"], mails["ana@example.com"]
    assert chinese.subject == f"[#{zh.case_id}] 我们的服务怎么样？"
    assert "已经处理完毕" in chinese.body
    assert english.subject == f"[#{en.case_id}] How did we do?"
    assert "has been resolved" in english.body
    for mail, invitation in ((chinese, zh), (english, en)):
        opt_out = reverse("surveys:opt_out", args=[make_opt_out_token(invitation.pk)])
        assert opt_out.split("/")[-2].split(":")[0] in mail.body  # the signed opt-out link
        assert mail.extra_headers["List-Unsubscribe"].startswith("<http")
        assert mail.extra_headers["Auto-Submitted"] == "auto-generated"
        assert "/s/" in mail.body
    assert (zh.channel, en.channel) == (InvitationChannel.EMAIL, InvitationChannel.EMAIL)


def test_at_most_one_survey_per_customer_in_the_fatigue_window(
    resolved_case: Any, make_order: Any, run_jobs: Any, now: datetime, mailoutbox: list[Any]
) -> None:
    # given a customer surveyed after a case today
    order = make_order("o1", delivered=now - timedelta(days=20))
    resolved_case(order, at=now - timedelta(hours=25))
    run_jobs(now)
    assert len(survey_mails(mailoutbox)) == 1

    # when another case of theirs is resolved and due 10 days later
    second = resolved_case(order, at=now + timedelta(days=9))
    run_jobs(now + timedelta(days=10))

    # then it is not sent, and says why
    suppressed = Invitation.objects.get(case=second)
    assert (suppressed.status, suppressed.reason) == (
        InvitationStatus.SUPPRESSED,
        SuppressionReason.FATIGUE,
    )
    assert len(survey_mails(mailoutbox)) == 1

    # and a third one, 31 days after the first, goes out
    third = resolved_case(order, at=now + timedelta(days=30))
    run_jobs(now + timedelta(days=31))
    assert Invitation.objects.get(case=third).status == InvitationStatus.ISSUED
    assert len(survey_mails(mailoutbox)) == 2


def test_the_fatigue_window_is_configurable_and_matches_by_address_too(
    resolved_case: Any, run_jobs: Any, now: datetime
) -> None:
    SurveySettings.objects.filter(pk=1).update(fatigue_days=7)
    # two cases without a customer record, from the same address in another case
    resolved_case(email="Wang@Example.com", at=now - timedelta(hours=25))
    run_jobs(now)
    same_address = resolved_case(email="wang@example.com", at=now + timedelta(days=4))
    run_jobs(now + timedelta(days=5))
    after_window = resolved_case(email="wang@example.com", at=now + timedelta(days=7))
    run_jobs(now + timedelta(days=8))

    assert Invitation.objects.get(case=same_address).reason == SuppressionReason.FATIGUE
    assert Invitation.objects.get(case=after_window).status == InvitationStatus.ISSUED


def test_an_opted_out_customer_gets_nothing_more(
    invite: Any,
    resolved_case: Any,
    make_order: Any,
    run_jobs: Any,
    now: datetime,
    mailoutbox: list[Any],
) -> None:
    # given an invitation, and the customer's click on the opt-out link (GET asks, POST does)
    old_order = make_order("o1", delivered=now - timedelta(days=30))
    first = invite("case", email="wang@example.com", order=old_order)
    assert first.status == InvitationStatus.ISSUED
    client = Client(enforce_csrf_checks=True)
    url = reverse("surveys:opt_out", args=[make_opt_out_token(first.pk)])
    page = client.get(url)
    assert page.status_code == 200
    assert not OptOut.objects.exists()  # a mail scanner opening the link changes nothing
    csrf = page.cookies["csrftoken"].value
    done = client.post(url, {"csrfmiddlewaretoken": csrf})
    assert done.status_code == 200
    assert "不会再" in done.content.decode()
    assert set(OptOut.objects.values_list("email", "customer_id")) == {
        ("wang@example.com", None),
        (None, "c1"),
    }
    sent_before = len(survey_mails(mailoutbox))

    # when another case (same customer) and a delivery (same customer) are due, past fatigue
    order = make_order("o7", delivered=now + timedelta(days=40))
    second = resolved_case(order, email="other@example.com", at=now + timedelta(days=40))
    run_jobs(now + timedelta(days=42))
    # and an address-only case from the opted-out address
    third = resolved_case(email="WANG@example.com", at=now + timedelta(days=50))
    run_jobs(now + timedelta(days=52))

    # then nothing is sent and every invitation says why
    for invitation in Invitation.objects.exclude(pk=first.pk):
        assert (invitation.status, invitation.reason) == (
            InvitationStatus.SUPPRESSED,
            SuppressionReason.OPTED_OUT,
        ), invitation
    assert {second.case_id, third.case_id} <= set(
        Invitation.objects.values_list("case_id", flat=True)
    )
    assert len(survey_mails(mailoutbox)) == sent_before


def test_opting_out_suppresses_invitations_already_scheduled(
    resolved_case: Any, run_jobs: Any, now: datetime
) -> None:
    case = resolved_case(email="li@example.com", at=now - timedelta(hours=2))
    run_jobs(now)  # scheduled for tomorrow
    assert record_opt_out(email=" LI@example.com ", now=now) == 1
    assert record_opt_out(email="li@example.com", now=now) == 0  # idempotent

    run_jobs(now + timedelta(days=1))

    invitation = Invitation.objects.get(case=case)
    assert (invitation.status, invitation.reason) == (
        InvitationStatus.SUPPRESSED,
        SuppressionReason.OPTED_OUT,
    )


def test_one_reminder_after_the_configured_days_if_unanswered(
    invite: Any, submit: Any, run_jobs: Any, mailoutbox: list[Any]
) -> None:
    unanswered = invite("case", email="wang@example.com")
    answered = invite("case", email="li@example.com")
    submit(answered, {"csat.csat": "5", "ces_effort_5.ces": "1"})
    start = unanswered.issued_at
    assert start is not None

    assert run_jobs(start + timedelta(days=2, hours=23)).reminded == 0
    assert run_jobs(start + timedelta(days=3, hours=1)).reminded == 1
    assert run_jobs(start + timedelta(days=10)).reminded == 0  # only one

    reminders = [
        m for m in survey_mails(mailoutbox, reminders=True) if m.subject.startswith("提醒")
    ]
    assert [m.to for m in reminders] == [["wang@example.com"]]
    assert "提醒您" in reminders[0].body
    unanswered.refresh_from_db()
    assert unanswered.reminded_at == start + timedelta(days=3, hours=1)


def test_no_reminder_for_link_only_opted_out_or_when_turned_off(
    invite: Any, run_jobs: Any, now: datetime
) -> None:
    invite("order")  # no address: link only
    opted = invite("case", email="wang@example.com", at=now + timedelta(hours=1))
    record_opt_out(email="wang@example.com", now=now + timedelta(hours=2))

    assert run_jobs(now + timedelta(days=4)).reminded == 0
    opted.refresh_from_db()
    assert opted.reminded_at is None

    SurveySettings.objects.filter(pk=1).update(reminder_after_days=None)
    later = invite("case", email="zhao@example.com", at=now + timedelta(days=40))
    assert run_jobs(later.issued_at + timedelta(days=5)).reminded == 0


def test_a_refused_email_is_noted_and_the_invitation_stays_issued(
    invite: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there

    invitation = invite("case", email="wang@example.com")

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ISSUED
    assert invitation.email_error
