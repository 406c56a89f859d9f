"""Signed order webhooks: recorded once, refused without a valid and fresh signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from manyi.desk.api.signatures import sign
from manyi.desk.cases.models import CaseEvent
from manyi.desk.commerce.models import Order

pytestmark = pytest.mark.django_db

PATH = "/api/webhooks/orders"


def delivered(order_id: str = "o1", at: str = "2026-11-20T15:30:00+08:00") -> bytes:
    return json.dumps(
        {"event": "delivered", "order_id": order_id, "at": at, "data": {"carrier": "SF"}}
    ).encode()


def send(api: Any, body: bytes, header: str | None) -> Any:
    headers = {"X-Manyi-Signature": header} if header is not None else {}
    return api.post(PATH, raw=body, as_=None, headers=headers)


def test_a_signed_event_is_recorded_once(
    api: Any, make_case: Any, webhook_secret: str, state: Any
) -> None:
    case = make_case()
    body = delivered()
    response = send(api, body, sign(body, webhook_secret, timestamp=int(time.time())))
    assert response.status_code == 200, response.content
    assert response.json() == {"event": "delivered", "order_id": "o1", "cases": [case.case_id]}
    order = Order.objects.get(pk="o1")
    assert order.delivered_at is not None
    assert order.delivered_at.isoformat() == "2026-11-20T07:30:00+00:00"
    event = CaseEvent.objects.get(case=case, kind="order_event")
    assert event.data["payload"]["carrier"] == "SF"
    after_first = state()
    # The shop retries (a new signature), even with the instant in another UTC offset.
    same_instant = delivered(at="2026-11-20T07:30:00Z")
    again = send(api, same_instant, sign(same_instant, webhook_secret, timestamp=int(time.time())))
    assert again.status_code == 200
    assert again.json()["cases"] == []
    assert state() == after_first


def test_the_signature_matches_a_plain_hmac_of_timestamp_dot_body(
    api: Any, order: Any, webhook_secret: str
) -> None:
    """What a sender in any language computes, without our helper."""
    body = delivered()
    t = str(int(time.time()))
    digest = hmac.new(webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
    response = send(api, body, f"t={t},v1={digest.hexdigest()}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("v1=abc", "bad_signature"),
        ("t=now,v1=abc", "bad_signature"),
        ("t=1700000000,v1=" + "0" * 64, "bad_signature"),
    ],
)
def test_a_missing_or_malformed_signature_is_401_and_changes_nothing(
    api: Any, order: Any, webhook_secret: str, state: Any, header: str | None, code: str
) -> None:
    before = state()
    response = send(api, delivered(), header)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert state() == before


def test_a_signature_of_another_body_or_secret_is_refused(
    api: Any, order: Any, webhook_secret: str, state: Any
) -> None:
    before = state()
    now = int(time.time())
    tampered = delivered(at="2026-11-01T00:00:00+08:00")
    refused = send(api, tampered, sign(delivered(), webhook_secret, timestamp=now))
    assert refused.json()["code"] == "bad_signature"
    wrong_secret = send(api, delivered(), sign(delivered(), "guessed", timestamp=now))
    assert wrong_secret.json()["code"] == "bad_signature"
    assert refused.status_code == wrong_secret.status_code == 401
    assert state() == before


def test_a_replayed_old_timestamp_is_refused(
    api: Any, make_case: Any, webhook_secret: str, state: Any
) -> None:
    make_case()
    body = delivered()
    before = state()
    for skew in (-301, +301, -86_400):
        stale = send(api, body, sign(body, webhook_secret, timestamp=int(time.time()) + skew))
        assert stale.status_code == 401
        assert stale.json()["code"] == "stale_signature"
    assert state() == before
    # Within the five minutes it is accepted.
    fresh = send(api, body, sign(body, webhook_secret, timestamp=int(time.time()) - 240))
    assert fresh.status_code == 200


def test_a_rotated_secret_may_be_one_of_several_signatures(
    api: Any, order: Any, webhook_secret: str
) -> None:
    body = delivered()
    now = int(time.time())
    old = sign(body, "previous-secret", timestamp=now)
    new = sign(body, webhook_secret, timestamp=now).split(",")[1]
    assert send(api, body, f"{old},{new}").status_code == 200


def test_bad_payloads_are_field_errors_after_a_valid_signature(
    api: Any, order: Any, webhook_secret: str, state: Any
) -> None:
    before = state()
    body = json.dumps(
        {
            "event": "lost",
            "order_id": "o1",
            "at": "2026-11-20T15:30:00",
            "data": {"key": "mine", "note": "a\u0000b"},
            "extra": 1,
        }
    ).encode()
    response = send(api, body, sign(body, webhook_secret, timestamp=int(time.time())))
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"event", "at", "data", "extra"}
    unknown = delivered(order_id="nope")
    missing = send(api, unknown, sign(unknown, webhook_secret, timestamp=int(time.time())))
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert state() == before


def test_without_a_secret_webhooks_are_off(api: Any, order: Any, settings: Any, state: Any) -> None:
    settings.MANYI_WEBHOOK_SECRET = ""
    before = state()
    body = delivered()
    response = send(api, body, sign(body, "", timestamp=int(time.time())))
    assert response.status_code == 403
    assert response.json()["code"] == "webhooks_not_configured"
    assert state() == before
