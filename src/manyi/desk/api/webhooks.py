"""Inbound webhooks from the shop: order events, signed with ``MANYI_WEBHOOK_SECRET``.

``POST /api/webhooks/orders`` with ``{"event": "delivered" | "refunded", "order_id", "at",
"data"}`` and ``X-Manyi-Signature: t=<unix>,v1=<hex>`` (see ``signatures.py``). The signature is
checked on the raw body before anything is parsed; the event is then recorded by
``cases.services.record_order_event``, which is idempotent: the same event delivered twice
changes nothing the second time, so the shop may retry freely.
"""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import APIKeyHeader
from pydantic import Field, field_validator

from manyi.desk.api import signatures
from manyi.desk.api.errors import ApiError, ErrorOut
from manyi.desk.api.fields import Input, Instant, JsonObject, ShopKey
from manyi.desk.cases.services import record_order_event

#: Keys of ``data`` that the case event uses itself.
RESERVED_DATA_KEYS = frozenset({"key", "event"})
MAX_DATA_BYTES = 16_384


class WebhookSignature(APIKeyHeader):
    """The ``X-Manyi-Signature`` HMAC of the raw body (documented as an API key header)."""

    param_name = signatures.HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        secret = getattr(settings, "MANYI_WEBHOOK_SECRET", "")
        if not secret:
            raise ApiError(
                403,
                "webhooks_not_configured",
                _("Webhooks are off: the desk has no MANYI_WEBHOOK_SECRET."),
            )
        try:
            signatures.verify(key, request.body, secret, now=time.time())
        except signatures.SignatureError as exc:
            raise ApiError(401, exc.code, exc.message) from None
        return "webhook"


router = Router(tags=["webhooks"], auth=WebhookSignature())


class OrderEventIn(Input):
    event: Literal["delivered", "refunded"]
    order_id: ShopKey
    #: When it happened at the shop, with its UTC offset.
    at: Instant
    data: JsonObject = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _data(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(RESERVED_DATA_KEYS & set(value))
        if reserved:
            raise ValueError(
                _("These keys are reserved: %(keys)s.") % {"keys": ", ".join(reserved)}
            )
        if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_DATA_BYTES:
            raise ValueError(_("Keep data under %(kb)s KB.") % {"kb": MAX_DATA_BYTES // 1024})
        return value


class OrderEventOut(Schema):
    event: str
    order_id: str
    #: The open cases of the order that got the event on their timeline (none on a repeat).
    cases: list[int]


@router.post(
    "/orders",
    response={200: OrderEventOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Record an order event from the shop",
)
def order_event(request: HttpRequest, payload: OrderEventIn) -> OrderEventOut:
    """Mark the order delivered (or note a refund) and put the event on its open cases.

    Idempotent: the same event at the same instant, sent again, changes nothing. An unknown
    order is 404, so the shop can retry after the order is imported.
    """
    # One instant, one key: the same moment sent with another UTC offset is the same event.
    at = payload.at.astimezone(UTC)
    cases = record_order_event(payload.order_id, payload.event, at=at, data=payload.data)
    return OrderEventOut(event=payload.event, order_id=payload.order_id, cases=cases)
