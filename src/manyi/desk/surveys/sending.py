"""Send due invitations and reminders: fatigue, opt-out and reopened cases are decided here.

An invitation becomes due at ``send_at``. Under its row lock (and, on PostgreSQL, an advisory
lock on the person, so two workers cannot both send one customer a survey on the same day) it is

* suppressed when the address or the customer opted out;
* cancelled when its case was reopened since it was scheduled;
* suppressed when the same person (customer, or address) was sent or shown a survey in the last
  ``fatigue_days`` (``SurveySettings``, 30 by default);
* otherwise issued: the current version of each of the rule's instruments is pinned, the link
  opens for ``link_days``, and the e-mail goes out after the commit — or, without an address,
  it is "link only" for staff to show or export.

One reminder is sent ``reminder_after_days`` after an unanswered e-mail, while the link is open
and the person has not opted out since.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from manyi.desk.surveys import emails
from manyi.desk.surveys.models import (
    InstrumentVersion,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    InvitationVersion,
    RuleInstrument,
    SuppressionReason,
    SurveySettings,
    VersionStatus,
)
from manyi.desk.surveys.selectors import (
    get_settings,
    is_opted_out,
    opted_out_subquery,
    person_filter,
)
from manyi.desk.surveys.triggers import RESOLVED_STATUSES

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    emailed: int = 0
    link_only: int = 0
    fatigue: int = 0
    opted_out: int = 0
    cancelled: int = 0

    def summary(self) -> str:
        return (
            f"{self.emailed} e-mailed, {self.link_only} link only, {self.fatigue} skipped "
            f"(surveyed recently), {self.opted_out} skipped (opted out), "
            f"{self.cancelled} cancelled"
        )


def issue_due_invitations(now: datetime | None = None, *, limit: int = 500) -> SendResult:
    """Issue, suppress or cancel up to ``limit`` invitations due at ``now``, oldest first."""
    now = now or timezone.now()
    settings = get_settings()
    result = SendResult()
    due = list(
        Invitation.objects.filter(status=InvitationStatus.SCHEDULED, send_at__lte=now)
        .order_by("send_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return result
    current = {
        v.instrument_id: v for v in InstrumentVersion.objects.filter(status=VersionStatus.PUBLISHED)
    }
    asks: dict[str, list[str]] = {}
    for rule_id, code in RuleInstrument.objects.order_by("rule", "position").values_list(
        "rule_id", "instrument_id"
    ):
        asks.setdefault(rule_id, []).append(code)
    for pk in due:
        with transaction.atomic():
            query = Invitation.objects.select_related("case").filter(
                pk=pk, status=InvitationStatus.SCHEDULED
            )
            if connection.features.has_select_for_update_skip_locked:
                query = query.select_for_update(skip_locked=True, of=("self",))
            else:
                query = query.select_for_update(of=("self",))
            invitation = query.first()
            if invitation is None:  # another worker has it, or it was cancelled
                continue
            _lock_person(invitation)
            versions = [current[c] for c in asks.get(invitation.rule_id, []) if c in current]
            _decide(invitation, versions, now, settings, result)
    return result


def _decide(
    invitation: Invitation,
    versions: list[InstrumentVersion],
    now: datetime,
    settings: SurveySettings,
    result: SendResult,
) -> None:
    if is_opted_out(invitation.email, invitation.customer_id):
        _suppress(invitation, SuppressionReason.OPTED_OUT)
        result.opted_out += 1
        return
    if invitation.case is not None and invitation.case.status not in RESOLVED_STATUSES:
        invitation.status = InvitationStatus.CANCELLED
        invitation.reason = SuppressionReason.CASE_REOPENED
        invitation.save(update_fields=["status", "reason"])
        result.cancelled += 1
        return
    if not versions:
        log.warning("survey rule %s asks no published instrument", invitation.rule_id)
        invitation.status = InvitationStatus.CANCELLED
        invitation.save(update_fields=["status"])
        result.cancelled += 1
        return
    if _recently_surveyed(invitation, now, settings.fatigue_days):
        _suppress(invitation, SuppressionReason.FATIGUE)
        result.fatigue += 1
        return
    invitation.status = InvitationStatus.ISSUED
    invitation.issued_at = now
    invitation.expires_at = now + timedelta(days=settings.link_days)
    invitation.channel = InvitationChannel.EMAIL if invitation.email else InvitationChannel.LINK
    invitation.save(update_fields=["status", "issued_at", "expires_at", "channel"])
    InvitationVersion.objects.bulk_create(
        InvitationVersion(invitation=invitation, version=v, position=n)
        for n, v in enumerate(versions, start=1)
    )
    if invitation.email:
        pk = invitation.pk
        transaction.on_commit(lambda: emails.send_invitation_email(pk))
        result.emailed += 1
    else:
        result.link_only += 1


def _suppress(invitation: Invitation, reason: str) -> None:
    invitation.status = InvitationStatus.SUPPRESSED
    invitation.reason = reason
    invitation.save(update_fields=["status", "reason"])


def _recently_surveyed(invitation: Invitation, now: datetime, days: int) -> bool:
    if not days:
        return False
    return (
        Invitation.objects.filter(
            person_filter(invitation.email, invitation.customer_id),
            status=InvitationStatus.ISSUED,
            issued_at__gt=now - timedelta(days=days),
        )
        .exclude(pk=invitation.pk)
        .exists()
    )


def _lock_person(invitation: Invitation) -> None:
    # On SQLite every write transaction is IMMEDIATE, so senders are already serialised.
    if connection.vendor != "postgresql":
        return
    keys = []
    if invitation.customer_id:
        keys.append(f"manyi.survey.c:{invitation.customer_id}")
    if invitation.email:
        keys.append(f"manyi.survey.e:{invitation.email}")
    with connection.cursor() as cursor:
        for key in sorted(keys):  # one order everywhere: no deadlock between two people's locks
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def send_reminders(now: datetime | None = None, *, limit: int = 500) -> int:
    """Remind once, ``reminder_after_days`` after sending, whoever has not answered yet."""
    now = now or timezone.now()
    days = get_settings().reminder_after_days
    if not days:
        return 0
    due = list(
        Invitation.objects.filter(
            ~opted_out_subquery(),
            status=InvitationStatus.ISSUED,
            channel=InvitationChannel.EMAIL,
            answered_at=None,
            reminded_at=None,
            closed_at=None,
            issued_at__lte=now - timedelta(days=days),
            expires_at__gt=now,
        )
        .order_by("issued_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            query = Invitation.objects.filter(pk=pk, reminded_at=None, answered_at=None)
            if connection.features.has_select_for_update_skip_locked:
                query = query.select_for_update(skip_locked=True)
            invitation = query.first()
            if invitation is None:
                continue
            invitation.reminded_at = now
            invitation.save(update_fields=["reminded_at"])
            transaction.on_commit(partial(emails.send_invitation_email, pk, reminder=True))
            sent += 1
    return sent
