"""Turn events into scheduled invitations: cases resolved, orders delivered.

Each active :class:`SurveyRule` remembers the instant it has scanned up to (``checkpoint_at``).
A scan looks at events from ``checkpoint_at − grace_days`` to ``now``: the overlap catches a
resolution that committed after the previous scan had passed its timestamp, and deliveries that
arrive days late by import. Looking twice at an event is harmless, because an invitation is
keyed by ``(rule, trigger_key)`` — a unique constraint, so a trigger never invites twice, even
with two workers or the worker and ``manyi surveys invite`` at the same time.

Invitations are created ``scheduled`` for ``event + delay_hours``; ``sending.py`` decides at that
moment whether to send them (fatigue, opt-out, a case reopened in between).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus
from manyi.desk.commerce.models import Order, OrderStatus
from manyi.desk.surveys.errors import SurveyError, SurveyErrorCode
from manyi.desk.surveys.models import Invitation, SurveyRule, Trigger

#: Case statuses in which a resolution still stands (a reopened case is surveyed later, if
#: it is resolved again within the scan window, else not at all).
RESOLVED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
_CHUNK = 500


@dataclass
class ScanResult:
    rules: int = 0
    created: int = 0

    def summary(self) -> str:
        return f"{self.created} invitations scheduled by {self.rules} rules"


def scan_triggers(now: datetime | None = None) -> ScanResult:
    """Schedule invitations for every active rule's new events up to ``now``."""
    now = now or timezone.now()
    result = ScanResult()
    for code in (
        SurveyRule.objects.filter(active=True).order_by("code").values_list("code", flat=True)
    ):
        created = scan_rule(code, now)
        if created is not None:
            result.rules += 1
            result.created += created
    return result


def scan_rule(code: str, now: datetime) -> int | None:
    """Scan one rule and move its checkpoint to ``now``; ``None`` if another worker holds it."""
    with transaction.atomic():
        query = SurveyRule.objects.filter(code=code, active=True)
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        else:
            query = query.select_for_update()
        rule = query.first()
        if rule is None:
            return None
        start = rule.checkpoint_at - timedelta(days=rule.grace_days)
        created = create_invitations(plan_invitations(rule, start, now), now)
        if now > rule.checkpoint_at:
            rule.checkpoint_at = now
            rule.save(update_fields=["checkpoint_at"])
        return created


def plan_invitations(rule: SurveyRule, start: datetime, end: datetime) -> list[Invitation]:
    """Unsaved invitations for the rule's events in ``[start, end]`` that have none yet."""
    if rule.trigger == Trigger.CASE_RESOLVED:
        return list(_case_invitations(rule, start, end))
    if rule.trigger == Trigger.ORDER_DELIVERED:
        return list(_order_invitations(rule, start, end))
    return []


def create_invitations(planned: Sequence[Invitation], now: datetime) -> int:
    """Insert ``planned``; ones another process created meanwhile are skipped by the unique
    constraint. Returns how many of ``planned`` exist now that did not before."""
    if not planned:
        return 0
    for invitation in planned:
        invitation.created_at = now
    Invitation.objects.bulk_create(planned, ignore_conflicts=True, batch_size=_CHUNK)
    rule_id = planned[0].rule_id
    keys = [i.trigger_key for i in planned]
    return sum(
        Invitation.objects.filter(rule_id=rule_id, trigger_key__in=chunk, created_at=now).count()
        for chunk in _chunks(keys)
    )


def _language(value: str | None, default: str) -> str:
    value = (value or "").lower()
    if value.startswith("en"):
        return "en"
    if value.startswith("zh"):
        return "zh-hans"
    return default


def _case_invitations(rule: SurveyRule, start: datetime, end: datetime) -> Iterator[Invitation]:
    # The event log is indexed on ``at``; the case's current status says whether the
    # resolution still stands.
    resolved = CaseEvent.objects.filter(
        kind=CaseEventKind.TRANSITION, to_status=CaseStatus.RESOLVED, at__gte=start, at__lte=end
    ).values("case_id")
    done = Invitation.objects.filter(rule=rule, case__isnull=False).values("case_id")
    cases = (
        Case.objects.filter(
            pk__in=resolved, status__in=RESOLVED_STATUSES, resolved_at__isnull=False
        )
        .exclude(pk__in=done)
        .order_by("resolved_at", "case_id")
        .values_list(
            "case_id", "customer_id", "order_id", "contact_email", "language", "resolved_at"
        )
    )
    delay = timedelta(hours=rule.delay_hours)
    for case_id, customer_id, order_id, email, language, resolved_at in cases:
        assert resolved_at is not None  # filtered above
        yield Invitation(
            rule=rule,
            trigger_key=f"case:{case_id}",
            case_id=case_id,
            customer_id=customer_id,
            order_id=order_id,
            email=(email or "").strip().lower(),
            language=_language(language, rule.default_language),
            event_at=resolved_at,
            send_at=resolved_at + delay,
        )


def _order_invitations(rule: SurveyRule, start: datetime, end: datetime) -> Iterator[Invitation]:
    done = Invitation.objects.filter(rule=rule, order__isnull=False).values("order_id")
    orders = list(
        Order.objects.filter(
            status=OrderStatus.DELIVERED, delivered_at__gte=start, delivered_at__lte=end
        )
        .exclude(pk__in=done)
        .order_by("delivered_at", "order_id")
        .values_list("order_id", "customer_id", "delivered_at")
    )
    contacts = _contacts({customer_id for _o, customer_id, _d in orders})
    delay = timedelta(hours=rule.delay_hours)
    for order_id, customer_id, delivered_at in orders:
        assert delivered_at is not None  # filtered above
        email, language = contacts.get(customer_id, ("", None))
        yield Invitation(
            rule=rule,
            trigger_key=f"order:{order_id}",
            order_id=order_id,
            customer_id=customer_id,
            email=email,
            language=_language(language, rule.default_language),
            event_at=delivered_at,
            send_at=delivered_at + delay,
        )


def _contacts(customer_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Address and language of each customer, from their latest case that has them.

    The shop tables hold no addresses (Olist has none at all): a customer who never wrote to
    the desk gets a link-only invitation.
    """
    out: dict[str, tuple[str, str | None]] = {}
    for chunk in _chunks(sorted(customer_ids)):
        rows = (
            Case.objects.filter(customer_id__in=chunk)
            .order_by("customer_id", "-opened_at", "-case_id")
            .values_list("customer_id", "contact_email", "language")
        )
        for customer_id, email, language in rows:
            email = (email or "").strip().lower()
            known = out.get(customer_id)
            if known is None:
                out[customer_id] = (email, language)
            elif not known[0] and email:
                out[customer_id] = (email, known[1])
    return out


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(values), _CHUNK):
        yield list(values[i : i + _CHUNK])


@dataclass
class DeliveryInvites:
    rule: SurveyRule
    planned: list[Invitation]
    created: int


def invite_deliveries(
    instrument: str,
    since: datetime,
    *,
    rule_code: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> DeliveryInvites:
    """Schedule invitations of the delivery rule that asks ``instrument`` for every order
    delivered from ``since`` to ``now`` that has none (``manyi surveys invite``).

    The rule is the active ``order_delivered`` rule asking ``instrument``, or the one named by
    ``rule_code`` (active or not). Invitations are the same as the worker's, keyed the same way,
    so running both never invites twice. ``dry_run`` plans and writes nothing.
    """
    now = now or timezone.now()
    rules = SurveyRule.objects.filter(
        trigger=Trigger.ORDER_DELIVERED, rule_instruments__instrument_id=instrument
    )
    rules = rules.filter(code=rule_code) if rule_code else rules.filter(active=True)
    found = list(rules.distinct())
    if not found:
        message = (
            _("The delivery survey rule %(rule)s does not ask %(instrument)s.")
            if rule_code
            else _("No active delivery survey rule asks %(instrument)s; add one in the admin.")
        )
        raise SurveyError(
            SurveyErrorCode.NO_RULE, message % {"rule": rule_code, "instrument": instrument}
        )
    if len(found) > 1:
        raise SurveyError(
            SurveyErrorCode.NO_RULE,
            _("Several delivery survey rules ask %(instrument)s (%(codes)s): choose one.")
            % {"instrument": instrument, "codes": ", ".join(r.code for r in found)},
        )
    rule = found[0]
    planned = plan_invitations(rule, since, now)
    if dry_run:
        return DeliveryInvites(rule, planned, 0)
    with transaction.atomic():
        created = create_invitations(planned, now)
    return DeliveryInvites(rule, planned, created)
