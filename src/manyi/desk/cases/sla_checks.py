"""The background SLA check: warn before a breach, record the breach, keep the queues true.

Only cases whose cached ``sla_check_at`` has passed are looked at, so a run over a large desk
costs one indexed query plus the few cases that are due. Each case is recomputed from its event
log (``clocks.refresh_sla``) under its row lock; refreshing the cache does not bump the case's
``version``, since nobody changed the case. Warnings and breaches are written to the case's log
once per clock and due instant, and e-mailed to the assignee (or the team) through the outbox
(sent after the commit, retried if the mail server is away).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk.cases.clocks import compute_case_clocks, refresh_sla
from manyi.desk.cases.events import Actor, record_event
from manyi.desk.cases.models import Case, CaseEventKind
from manyi.desk.cases.notifications import mail_domain
from manyi.desk.cases.states import OPEN_STATUSES
from manyi.desk.channels.models import MailPurpose
from manyi.desk.channels.outbox import queue_mail

log = logging.getLogger(__name__)

CLOCK_NAMES = ("first_response", "next_response", "resolution")


@dataclass
class SlaCheckResult:
    checked: int = 0
    warned: list[int] = field(default_factory=list)
    breached: list[int] = field(default_factory=list)


def check_sla(now: datetime | None = None, *, limit: int = 500) -> SlaCheckResult:
    """Recompute the clocks of every open case due for a check at ``now``; warn and record."""
    now = now or timezone.now()
    result = SlaCheckResult()
    due = list(
        Case.objects.filter(status__in=OPEN_STATUSES, sla_check_at__lte=now)
        .order_by("sla_check_at")
        .values_list("case_id", flat=True)[:limit]
    )
    for case_id in due:
        with transaction.atomic():
            query = Case.objects.select_related("sla_policy__calendar", "assignee", "team")
            if connection.features.has_select_for_update_skip_locked:
                query = query.select_for_update(skip_locked=True, of=("self",))
            case = query.filter(case_id=case_id).first()
            if case is None:  # taken by another worker, or gone
                continue
            result.checked += 1
            _check_case(case, now, result)
    return result


def _check_case(case: Case, now: datetime, result: SlaCheckResult) -> None:
    changed = refresh_sla(case, now)
    computed = compute_case_clocks(case, now)
    if computed is not None:
        clocks = computed[0]
        seen = {
            (e["clock"], e["due"], k)
            for k, e in (
                (kind, data)
                for kind, data in case.events.filter(
                    kind__in=[CaseEventKind.SLA_WARNING, CaseEventKind.SLA_BREACH]
                ).values_list("kind", "data")
            )
            if isinstance(e, dict) and "clock" in e
        }
        for name in CLOCK_NAMES:
            clock = getattr(clocks, name)
            state = str(clock.state)
            if state == "at_risk" and clock.due_at is not None:
                key = (name, clock.due_at.isoformat(), CaseEventKind.SLA_WARNING)
                if key not in seen:
                    _record(case, CaseEventKind.SLA_WARNING, name, clock.due_at, now)
                    if case.case_id not in result.warned:
                        result.warned.append(case.case_id)
            elif state == "breached" and clock.breached_at is not None and clock.stopped_at is None:
                key = (name, clock.breached_at.isoformat(), CaseEventKind.SLA_BREACH)
                if key not in seen:
                    _record(case, CaseEventKind.SLA_BREACH, name, clock.breached_at, now)
                    if case.case_id not in result.breached:
                        result.breached.append(case.case_id)
    if changed:
        case.save(update_fields=changed)
    elif case.sla_check_at is not None and case.sla_check_at <= now:
        # Nothing further is due for this case until something happens on it.
        case.sla_check_at = None
        case.save(update_fields=["sla_check_at"])


def _record(case: Case, kind: str, clock: str, due: datetime, now: datetime) -> None:
    record_event(
        case,
        kind,
        actor=Actor.system(),
        at=now,
        data={"clock": clock, "due": due.isoformat()},
    )
    case_id, number, subject = case.case_id, case.number, case.subject
    recipients = _recipients(case)
    if not recipients:
        return
    if kind == CaseEventKind.SLA_WARNING:
        title = _("[%(number)s] %(clock)s due at %(due)s") % {
            "number": number,
            "clock": clock.replace("_", " "),
            "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
        }
    else:
        title = _("[%(number)s] %(clock)s target breached") % {
            "number": number,
            "clock": clock.replace("_", " "),
        }
    link = f"{settings.MANYI_SITE_URL.rstrip('/')}/desk/cases/{case_id}/"
    queue_mail(
        purpose=MailPurpose.SLA,
        to=recipients,
        subject=title,
        body=f"{subject}\n\n{link}\n",
        # Not one of the case's signed ids: an agent answering this mail must not land on
        # the customer's thread.
        message_id=make_msgid(domain=mail_domain()),
        case=case,
    )


def _recipients(case: Case) -> list[str]:
    if case.assignee is not None and case.assignee.email:
        return [case.assignee.email]
    if case.team is not None:
        return [u.email for u in case.team.members.all() if u.email]
    return []
