"""Alerts on the desk: a rule stored through the page, judged by the worker on the real daily
series of the bundled Olist sample, recorded once, sent by e-mail and as a signed webhook to a
local HTTP server, acknowledged, and kept in the history.

The statistics are the library's (tested in tests/insight/monitor); the oracle here is the
library itself on the same desk database, so these tests check the desk's side: storage, the
once-per-period rule, the cooldown state, delivery, signatures, retries and the pages.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from manyi.desk.api import signatures
from manyi.desk.dashboards.delivery import deliver_due
from manyi.desk.dashboards.jobs import run_alerts
from manyi.desk.dashboards.models import AlertDelivery, AlertEvent, AlertRule
from manyi.desk.dashboards.source import desk_source
from manyi.insight.monitor import check_rules, notifications, rule_from_dict

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def worker_at(day: str, hour: int = 9) -> datetime:
    """The worker's clock on the morning after ``day`` (the day it then judges)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI) + timedelta(days=1)


def _form(receiver_url: str, **extra: str) -> dict[str, str]:
    return {
        "name": "Orders surge",
        "type": "change",
        "metric": "orders",
        "freq": "day",
        "window": "1",
        "min_n": "0",
        "cooldown": "2",
        "advanced": '{"direction": "up"}',
        "emails": "ops@shop.example\nmei@shop.example",
        "webhook_url": receiver_url,
        "language": "zh-hans",
        "enabled": "on",
        **extra,
    }


def _expected(rule: AlertRule, days: list[str]) -> list[Any]:
    library_rule = rule_from_dict(rule.rule)
    with desk_source() as src:
        return [check_rules(src, [library_rule], datetime.fromisoformat(day))[0] for day in days]


def test_a_rule_on_real_orders_fires_once_is_sent_signed_and_acknowledged(
    olist_desk: None, login: Any, webhook_receiver: Any
) -> None:
    manager = login("mei")
    response = manager.post("/desk/alerts/new/", _form(webhook_receiver.url))
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.rule["direction"] == "up"
    assert rule.webhook_secret
    quiet, fired = _expected(rule, ["2017-11-20", "2017-11-24"])
    assert (quiet.fired, fired.fired) == (False, True)  # Black Friday 2017 doubled the orders

    run_alerts(worker_at("2017-11-20"))
    rule.refresh_from_db()
    assert (rule.last_period, rule.last_status) == ("2017-11-20", quiet.status)
    assert AlertEvent.objects.count() == 0
    assert mail.outbox == []

    summary = run_alerts(worker_at("2017-11-24"))
    again = run_alerts(worker_at("2017-11-24", hour=15))  # the next rounds of the same day

    assert "1 fired, 1 recorded, 1 notified" in summary
    assert "0 rules judged" in again
    event = AlertEvent.objects.get()
    assert (event.period, event.value, event.expected) == (
        "2017-11-24",
        fired.value,
        fired.expected,
    )
    assert event.p_value == pytest.approx(fired.p_value)
    assert (event.message_en, event.message_zh) == (fired.message_en, fired.message_zh)
    assert sorted(m.to[0] for m in mail.outbox) == ["mei@shop.example", "ops@shop.example"]
    assert mail.outbox[0].subject == "[manyi] Orders surge: 2017-11-24"
    assert fired.message_zh in mail.outbox[0].body
    assert len(webhook_receiver.requests) == 1
    hook = webhook_receiver.requests[0]
    signatures.verify(
        hook.headers[signatures.HEADER], hook.body, rule.webhook_secret, now=time.time()
    )
    body = json.loads(hook.body)
    assert (body["event"], body["id"], body["period"], body["value"]) == (
        "alert.fired",
        event.pk,
        "2017-11-24",
        fired.value,
    )
    assert body["message"] == {"en": fired.message_en, "zh": fired.message_zh}
    assert hook.headers["X-Manyi-Delivery"] in {
        str(pk) for pk in event.deliveries.values_list("pk", flat=True)
    }
    assert set(event.deliveries.values_list("status", flat=True)) == {"sent"}

    response = manager.post(
        f"/desk/alerts/events/{event.pk}/ack/", {"note": "大促，已加派人手"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "大促，已加派人手" in response.content.decode()
    event.refresh_from_db()
    assert (event.acknowledged_by.username, event.note) == ("mei", "大促，已加派人手")
    acknowledged = manager.get("/desk/alerts/history/?state=acknowledged")
    assert [e.pk for e in acknowledged.context["page"]] == [event.pk]
    assert list(manager.get("/desk/alerts/history/?state=open").context["page"]) == []
    assert manager.get(f"/desk/alerts/{rule.pk}/").context["page"][0] == event


def test_the_cooldown_records_a_fired_period_without_sending_it_again(
    olist_desk: None, login: Any, webhook_receiver: Any
) -> None:
    # Notify again within 2 days only if orders rose by more than 10 a day over the last sent.
    advanced = '{"direction": "up", "worsen_by": 10}'
    login("mei").post("/desk/alerts/new/", _form(webhook_receiver.url, advanced=advanced))
    rule = AlertRule.objects.get()
    days = ["2017-11-24", "2017-11-25", "2017-11-26"]
    results = _expected(rule, days)
    sent = {r.period for r in notifications(rule_from_dict(rule.rule), results)}

    for day in days:
        run_alerts(worker_at(day))

    events = {e.period: e for e in AlertEvent.objects.all()}
    assert set(events) == {r.period for r in results if r.fired}
    assert {p for p, e in events.items() if e.notified} == sent
    assert len(webhook_receiver.requests) == len(sent)
    assert len(mail.outbox) == 2 * len(sent)
    quiet = [e for e in events.values() if not e.notified]
    assert quiet  # the sample's Saturday after Black Friday fired again, within the cooldown
    assert all(e.deliveries.count() == 0 for e in quiet)
    assert rule.state is None
    rule.refresh_from_db()
    assert rule.state["period"] == max(sent)


def test_a_failed_webhook_is_retried_with_backoff_and_logged(
    olist_desk: None, login: Any, webhook_receiver: Any
) -> None:
    webhook_receiver.statuses[:] = [500, 204]
    login("mei").post("/desk/alerts/new/", _form(webhook_receiver.url, emails=""))
    rule = AlertRule.objects.get()
    now = worker_at("2017-11-24")

    run_alerts(now)
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert delivery.next_attempt_at == now + timedelta(seconds=60)

    assert deliver_due(now + timedelta(seconds=30)) == 0
    assert deliver_due(now + timedelta(seconds=61)) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert [a["ok"] for a in delivery.log] == [False, True]
    assert [a["status"] for a in delivery.log] == [500, 204]
    first, second = webhook_receiver.requests
    assert first.body == second.body
    assert first.headers["X-Manyi-Delivery"] == second.headers["X-Manyi-Delivery"]
    for hook in (first, second):
        signatures.verify(
            hook.headers[signatures.HEADER], hook.body, rule.webhook_secret, now=time.time()
        )
    page = login("mei").get(f"/desk/alerts/events/{delivery.event_id}/").content.decode()
    assert "HTTP 500" in page


def test_a_refused_rule_is_shown_with_its_reason_and_nothing_is_stored(login: Any) -> None:
    data = _form("", advanced='{"test": "welch"}')  # orders is a count: Welch does not fit

    response = login("mei").post("/desk/alerts/new/", data)

    assert response.status_code == 200
    assert "does not fit orders" in str(response.context["form"].errors)
    assert AlertRule.objects.count() == 0


def test_editing_a_rule_keeps_its_settings_and_a_new_definition_resets_its_state(
    login: Any,
) -> None:
    client = login("mei")
    client.post("/desk/alerts/new/", _form("https://hooks.example/x"))
    rule = AlertRule.objects.get()
    AlertRule.objects.filter(pk=rule.pk).update(
        last_period="2017-11-24", state={"rule_id": "x", "period": "2017-11-24", "value": 1.0}
    )
    form = client.get(f"/desk/alerts/{rule.pk}/edit/").context["form"]
    assert form.initial["advanced"] == '{"direction": "up"}'
    assert form.initial["cooldown"] == 2

    client.post(f"/desk/alerts/{rule.pk}/edit/", _form("https://hooks.example/x", cooldown="5"))

    rule.refresh_from_db()
    assert (rule.rule["cooldown"], rule.rule["direction"]) == (5, "up")
    assert (rule.last_period, rule.state) == ("", None)


def test_alert_e_mail_goes_through_a_real_smtp_server(
    shop: Any, staff: Any, settings: Any, now: datetime
) -> None:
    from aiosmtpd.controller import Controller

    from manyi.desk.dashboards.alerts import save_rule

    class Sink:
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port for the sink
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        shop(5, days_ago=1)  # an order purchased 7 days before NOW
        save_rule(
            {"type": "threshold", "metric": "orders", "op": ">=", "value": 1},
            name="Any order",
            emails="ops@shop.example",
            language="en",
        )
        run_alerts(now + timedelta(days=-6))  # judges the purchase day
    finally:
        controller.stop()

    assert [e.rcpt_tos for e in sink.messages] == [["ops@shop.example"]]
    text = sink.messages[0].content.decode()
    assert "Subject: [manyi] Any order:" in text
    assert AlertDelivery.objects.get().status == "sent"
