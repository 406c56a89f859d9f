"""Alert rules: saving them, the worker's evaluation round, acknowledgement.

The round (:func:`evaluate_due_rules`) judges every enabled rule on the latest *complete*
period (yesterday for daily rules, the last full hour for hourly ones, in the shop's zone):
today's half-day would look like a collapse of every count. A rule is due when that period is
not its ``last_period`` yet, so each (rule, period) is judged once however often the worker
runs; a second worker that meets the same rule waits for the row lock and then sees it done.

The figures come from :func:`manyi.insight.monitor.check_rules` on the desk database (one series
per metric and frequency for all rules). A fired result is recorded as one
:class:`~manyi.desk.dashboards.models.AlertEvent` (unique per rule and period); the library's
:func:`~manyi.insight.monitor.should_notify` decides with the stored cooldown state whether it is
*sent*, and then one delivery per e-mail address and webhook is queued and tried at once
(:mod:`manyi.desk.dashboards.delivery`).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.db import transaction
from django.utils import timezone

from manyi.desk.dashboards.models import (
    AlertDelivery,
    AlertEvent,
    AlertRule,
    DeliveryChannel,
)
from manyi.desk.dashboards.source import desk_source, shop_timezone
from manyi.insight.monitor import (
    AlertResult,
    AlertState,
    check_rules,
    rule_from_dict,
    should_notify,
)
from manyi.insight.monitor.evaluate import period_label


class AlertError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def save_rule(
    rule_data: dict[str, Any],
    *,
    name: str,
    emails: str = "",
    webhook_url: str = "",
    language: str = "zh-hans",
    enabled: bool = True,
    actor: Any = None,
    rule: AlertRule | None = None,
    now: datetime | None = None,
) -> AlertRule:
    """Create or update a rule after the library has accepted its JSON.

    Raises :class:`AlertError` when the library refuses the rule. Changing what the rule
    judges (its JSON) clears its cooldown state and last judged period, so the new rule is
    judged from the next round on.
    """
    from manyi.insight.errors import InsightError
    from manyi.insight.monitor import rule_to_dict

    try:
        parsed = rule_from_dict(rule_data)
    except InsightError as exc:
        raise AlertError(str(exc), "rule") from None
    stored = rule_to_dict(parsed)
    now = now or timezone.now()
    with transaction.atomic():
        if rule is None:
            rule = AlertRule(created_by=actor, created_at=now, webhook_secret=new_webhook_secret())
        else:
            rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
            if rule.rule != stored:
                rule.state = None
                rule.last_period = ""
                rule.last_status = ""
        rule.name = name
        rule.rule = stored
        rule.emails = emails
        rule.webhook_url = webhook_url
        if webhook_url and not rule.webhook_secret:
            rule.webhook_secret = new_webhook_secret()
        rule.language = language
        rule.enabled = enabled
        rule.updated_at = now
        rule.save()
    return rule


def judged_period(freq: str, now: datetime) -> datetime:
    """The latest complete period at ``now``: its first instant, shop-local and naive."""
    local = now.astimezone(ZoneInfo(shop_timezone())).replace(tzinfo=None)
    if freq == "hour":
        return local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return datetime.combine(local.date() - timedelta(days=1), datetime.min.time())


@dataclass
class RoundSummary:
    judged: int = 0
    fired: int = 0
    recorded: int = 0
    notified: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"{self.judged} rules judged, {self.fired} fired, {self.recorded} recorded, "
            f"{self.notified} notified"
        )
        return text + (f", {len(self.errors)} errors" if self.errors else "")


def evaluate_due_rules(now: datetime | None = None) -> RoundSummary:
    """One evaluation round (the worker's ``Alerts`` job); see the module docs."""
    now = now or timezone.now()
    summary = RoundSummary()
    due: dict[datetime, list[AlertRule]] = defaultdict(list)
    for rule in AlertRule.objects.filter(enabled=True).order_by("pk"):
        at = judged_period(rule.freq, now)
        if rule.last_period != period_label(pd.Timestamp(at), rule.freq):
            due[at].append(rule)
    if not due:
        return summary
    with desk_source() as src:
        for at, rules in due.items():
            parsed = []
            for rule in rules:
                try:
                    parsed.append((rule, rule_from_dict(rule.rule)))
                except Exception as exc:  # a rule stored by an older library version
                    summary.errors.append(f"{rule.pk}: {exc}")
            results = check_rules(src, [p for _r, p in parsed], at)
            for (rule, library_rule), result in zip(parsed, results, strict=True):
                _record(rule.pk, library_rule, result, now, summary)
    return summary


def _record(
    rule_pk: int, library_rule: Any, result: AlertResult, now: datetime, summary: RoundSummary
) -> None:
    """Store one verdict under the rule's lock: at most one event per (rule, period)."""
    from manyi.desk.dashboards.delivery import deliver_event

    with transaction.atomic():
        rule = AlertRule.objects.select_for_update().get(pk=rule_pk)
        if rule.last_period == result.period:  # another worker judged it meanwhile
            return
        summary.judged += 1
        rule.last_period = result.period
        rule.last_status = result.status
        rule.last_message_en = result.message_en
        rule.last_message_zh = result.message_zh
        rule.last_evaluated_at = now
        event = None
        if result.fired:
            summary.fired += 1
            state = AlertState.from_dict(rule.state) if rule.state else None
            notify, new_state = should_notify(library_rule, result, state)
            event, created = AlertEvent.objects.get_or_create(
                rule=rule,
                period=result.period,
                defaults={
                    "fired_at": now,
                    "rule_type": result.rule_type,
                    "metric": result.metric,
                    "value": result.value,
                    "expected": result.expected,
                    "p_value": result.p_value,
                    "q_value": result.q_value,
                    "score": result.score,
                    "message_en": result.message_en,
                    "message_zh": result.message_zh,
                    "evidence": result.to_dict().get("evidence") or {},
                    "notified": notify,
                },
            )
            if created:
                summary.recorded += 1
                if notify:
                    summary.notified += 1
                    rule.state = new_state.to_dict() if new_state else None
                    _queue_deliveries(rule, event, now)
            else:
                event = None
        rule.save(
            update_fields=[
                "last_period",
                "last_status",
                "last_message_en",
                "last_message_zh",
                "last_evaluated_at",
                "state",
            ]
        )
        if event is not None:
            event_pk = event.pk
            transaction.on_commit(lambda: deliver_event(event_pk, now))


def _queue_deliveries(rule: AlertRule, event: AlertEvent, now: datetime) -> None:
    rows = [
        AlertDelivery(
            event=event, channel=DeliveryChannel.EMAIL, target=address, next_attempt_at=now
        )
        for address in rule.recipients()
    ]
    if rule.webhook_url:
        rows.append(
            AlertDelivery(
                event=event,
                channel=DeliveryChannel.WEBHOOK,
                target=rule.webhook_url,
                next_attempt_at=now,
            )
        )
    AlertDelivery.objects.bulk_create(rows)


def acknowledge(
    event_pk: int, *, actor: Any, note: str = "", now: datetime | None = None
) -> AlertEvent:
    """Mark an event as seen and handled (idempotent: the first acknowledgement stays)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = AlertEvent.objects.select_for_update().get(pk=event_pk)
        if event.acknowledged_at is None:
            event.acknowledged_at = now
            event.acknowledged_by = actor
            event.note = note.strip()[:2000]
            event.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    return event
