"""Staff with tokens, shop rows, cases opened through the real services, and a JSON client.

Tests run with ``--import-mode=importlib``: helpers reach the tests as fixtures, not imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from manyi.desk.accounts.models import ApiToken
from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user
from manyi.desk.accounts.tokens import create_api_token
from manyi.desk.api.models import IdempotencyKey
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseEvent, Message
from manyi.desk.cases.services import NewCase, open_case
from manyi.desk.commerce.models import Customer, Order, OrderItem, Payment, Product, Seller

PASSWORD = "a-long-password-1"
WEBHOOK_SECRET = "whsec-test-0123456789abcdef"


@dataclass
class Staff:
    """ana and bo are agents of the returns and vip teams, mei a manager, li an analyst."""

    users: dict[str, User]
    tokens: dict[str, str]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


@pytest.fixture
def staff(db: None) -> Staff:
    roles = {
        "ana": (Role.AGENT, ("returns",)),
        "bo": (Role.AGENT, ("vip",)),
        "mei": (Role.MANAGER, ()),
        "li": (Role.ANALYST, ()),
    }
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    for name, (role, teams) in roles.items():
        create_staff_user(name, PASSWORD, role=role, teams=teams)
        users[name] = User.objects.get(username=name)
        tokens[name], _row = create_api_token(users[name], f"{name}'s test token")
    return Staff(users, tokens)


@dataclass
class Api:
    """Django's test client speaking JSON, with a user's token (``as_="ana"``) or none."""

    staff: Staff
    client: Client = field(default_factory=lambda: Client(HTTP_ACCEPT_LANGUAGE="en"))

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_: str | None = "mei",
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> Any:
        sent = dict(headers or {})
        bearer = token if token is not None else (self.staff.tokens[as_] if as_ else None)
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(
            method, path, data=data, content_type="application/json", headers=sent
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)


@pytest.fixture
def api(staff: Staff) -> Api:
    return Api(staff)


def _make_order(
    order_id: str = "o1", *, customer_id: str = "c1", prices: tuple[str, ...] = ("120.00", "80.00")
) -> Order:
    """A delivered order with one item per price, paid in full (plus 10.00 freight per item)."""
    now = timezone.now()
    items = sum((Decimal(p) for p in prices), Decimal(0))
    freight = Decimal("10.00") * len(prices)
    customer, _ = Customer.objects.get_or_create(customer_id=customer_id)
    seller, _ = Seller.objects.get_or_create(seller_id="s1")
    product, _ = Product.objects.get_or_create(product_id="p1", defaults={"category": "toys"})
    order = Order.objects.create(
        order_id=order_id,
        customer=customer,
        status="delivered",
        purchased_at=now - timedelta(days=10),
        delivered_at=now - timedelta(days=2),
        estimated_delivery_at=now - timedelta(days=1),
        currency="CNY",
        item_total=items,
        freight_total=freight,
    )
    for n, price in enumerate(prices, start=1):
        OrderItem.objects.create(
            order=order,
            line_no=n,
            product=product,
            seller=seller,
            price=Decimal(price),
            freight=Decimal("10.00"),
        )
    Payment.objects.create(
        order=order,
        seq=1,
        method="alipay",
        installments=1,
        amount=items + freight,
    )
    return order


@pytest.fixture
def make_order(db: None) -> Any:
    """``make_order(order_id, customer_id=..., prices=...)``."""
    return _make_order


@pytest.fixture
def order(db: None) -> Order:
    return _make_order()


@pytest.fixture
def make_case(staff: Staff, order: Order) -> Any:
    """``make_case(**NewCase fields)``: a case opened by the customer on the web form, for the
    returns team on order o1 unless told otherwise."""

    def make(**overrides: Any) -> Case:
        values: dict[str, Any] = {
            "kind": "return_refund",
            "channel": "web",
            "subject": "Pillowcase arrived torn",
            "description": "There is a hole in it; I want to send it back.",
            "reason": "quality",
            "order_id": order.order_id,
            "order_lines": (1,),
            "contact_name": "Ms Wang",
            "contact_email": "wang@example.com",
            "team": "returns",
            "refund_amount": Decimal("130.00"),
        }
        values.update(overrides)
        return open_case(NewCase(**values), actor=Actor.customer())

    return make


@pytest.fixture
def state(db: None) -> Any:
    """``state()``: everything an API call could change, to assert that a refusal changed
    nothing (counts, and every case's version, status and fields that the API sets)."""

    def snapshot() -> dict[str, Any]:
        return {
            "cases": list(
                Case.objects.order_by("case_id").values_list(
                    "case_id",
                    "version",
                    "status",
                    "priority",
                    "reason",
                    "subject",
                    "team",
                    "assignee",
                    "refund_amount",
                    "diagnosis",
                )
            ),
            "events": CaseEvent.objects.count(),
            "messages": Message.objects.count(),
            "keys": IdempotencyKey.objects.count(),
            "orders": list(
                Order.objects.order_by("order_id").values_list("order_id", "status", "delivered_at")
            ),
            "tokens": list(
                ApiToken.objects.order_by("pk").values_list("pk", "revoked_at", "expires_at")
            ),
        }

    return snapshot


@pytest.fixture
def webhook_secret(settings: Any) -> str:
    settings.MANYI_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET
