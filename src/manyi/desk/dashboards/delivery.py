"""Sending alert events: e-mail through Django's mail backend, and signed webhooks.

A webhook is a ``POST`` of the event as JSON with the same signature scheme as the desk's
inbound webhooks (:mod:`manyi.desk.api.signatures`)::

    X-Manyi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
    X-Manyi-Event: alert.fired
    X-Manyi-Delivery: <delivery id>    (the same id on every retry: deduplicate on it)

with the rule's own secret (shown on its page). Any 2xx answer counts as received. A failed
attempt (network error, timeout, any other status) is retried after 1, 2, 4, 8 and 16 minutes;
after :data:`MAX_ATTEMPTS` attempts the delivery is marked failed. Every attempt is logged on
the delivery (when, HTTP status, error), and the alert history shows it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from manyi.desk.api import signatures
from manyi.desk.dashboards.models import (
    AlertDelivery,
    AlertEvent,
    DeliveryChannel,
    DeliveryStatus,
)

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 60
TIMEOUT_SECONDS = 10
EVENT_NAME = "alert.fired"


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, 8, 16 minutes."""
    return timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def event_url(event: AlertEvent) -> str:
    return settings.MANYI_SITE_URL.rstrip("/") + reverse("dashboards:alert_event", args=[event.pk])


def payload(event: AlertEvent) -> dict[str, Any]:
    """The webhook's JSON body."""
    rule = event.rule
    return {
        "event": EVENT_NAME,
        "id": event.pk,
        "rule": {"id": rule.pk, "name": rule.name, "definition": rule.rule},
        "period": event.period,
        "fired_at": event.fired_at.isoformat(),
        "metric": event.metric,
        "value": event.value,
        "expected": event.expected,
        "p_value": event.p_value,
        "q_value": event.q_value,
        "score": event.score,
        "message": {"en": event.message_en, "zh": event.message_zh},
        "evidence": event.evidence,
        "url": event_url(event),
    }


def _send_email(delivery: AlertDelivery) -> tuple[bool, int | None, str]:
    event = delivery.event
    lang = event.rule.language
    with translation.override(lang):
        subject = f"[manyi] {event.rule.name}: {event.period}"
        body = "\n\n".join(
            [
                event.message(lang),
                translation.gettext("Acknowledge it or see the history: %(url)s")
                % {"url": event_url(event)},
                event.message("en") if lang.startswith("zh") else event.message("zh"),
            ]
        )
    message = EmailMessage(subject, body, to=[delivery.target])
    message.extra_headers["X-Manyi-Event"] = EVENT_NAME
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP refusals, connection errors: retried
        return False, None, f"{type(exc).__name__}: {exc}"[:1000]
    return True, None, ""


def _send_webhook(delivery: AlertDelivery) -> tuple[bool, int | None, str]:
    event = delivery.event
    body = json.dumps(payload(event), ensure_ascii=False).encode("utf-8")
    secret = event.rule.webhook_secret
    request = urllib.request.Request(
        delivery.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "manyi-alerts/1",
            signatures.HEADER: signatures.sign(body, secret, timestamp=int(time.time())),
            "X-Manyi-Event": EVENT_NAME,
            "X-Manyi-Delivery": str(delivery.pk),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return False, exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, None, f"{type(exc).__name__}: {exc}"[:1000]
    return 200 <= status < 300, status, "" if 200 <= status < 300 else f"HTTP {status}"


#: A claimed delivery is left alone by other workers for this long (a crashed sender's claim
#: expires and the delivery is retried).
CLAIM = timedelta(minutes=2)


def attempt(delivery_pk: int, now: datetime | None = None) -> AlertDelivery:
    """Try one delivery now and record the attempt.

    The delivery is claimed with one conditional ``UPDATE`` (its next attempt pushed
    :data:`CLAIM` ahead), sent with no transaction open — a slow receiver must not hold a
    lock on the database (SQLite has one writer) — and the outcome is written afterwards.
    """
    now = now or timezone.now()
    claimed = (
        AlertDelivery.objects.filter(pk=delivery_pk, status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .update(next_attempt_at=now + CLAIM)
    )
    if not claimed:  # sent meanwhile, not due, or another worker holds it
        return AlertDelivery.objects.get(pk=delivery_pk)
    delivery = AlertDelivery.objects.select_related("event__rule").get(pk=delivery_pk)
    send = _send_webhook if delivery.channel == DeliveryChannel.WEBHOOK else _send_email
    ok, status, error = send(delivery)
    delivery.attempts += 1
    delivery.log = [
        *delivery.log,
        {"at": now.isoformat(), "ok": ok, "status": status, "error": error},
    ]
    if ok:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = error
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.last_error = error
    delivery.save(
        update_fields=["attempts", "log", "status", "sent_at", "next_attempt_at", "last_error"]
    )
    return delivery


def deliver_event(event_pk: int, now: datetime | None = None) -> None:
    """Try every pending delivery of a new event at once."""
    pending = AlertDelivery.objects.filter(event_id=event_pk, status=DeliveryStatus.PENDING)
    for pk in pending.values_list("pk", flat=True):
        attempt(pk, now)


def deliver_due(now: datetime | None = None) -> int:
    """Retry the deliveries whose next attempt is due (the worker); returns how many tried."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(status=DeliveryStatus.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
    )
    tried = 0
    for pk in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:200]:
        attempt(pk, now)
        tried += 1
    return tried
