"""Shop rows and staff for case tests: rows from factories, state through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user
from manyi.desk.cases.events import Actor
from manyi.desk.commerce.models import Customer, Order, OrderItem, Payment, Product, Seller

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.get_fixed_timezone(480))


@dataclass
class Staff:
    agent: User
    other_agent: User
    manager: User
    analyst: User

    def actor(self, name: str) -> Actor:
        return Actor.staff(getattr(self, name))


@pytest.fixture
def staff(db: None) -> Staff:
    create_staff_user("ana", "a-long-password-1", role=Role.AGENT, teams=("returns",))
    create_staff_user("bo", "a-long-password-1", role=Role.AGENT, teams=("vip",))
    create_staff_user("mei", "a-long-password-1", role=Role.MANAGER)
    create_staff_user("li", "a-long-password-1", role=Role.ANALYST)
    return Staff(*(User.objects.get(username=n) for n in ("ana", "bo", "mei", "li")))


def _make_order(
    order_id: str = "o1",
    *,
    customer_id: str = "c1",
    delivered: datetime | None = NOW - timedelta(days=2),
    prices: tuple[str, ...] = ("120.00", "80.00"),
    category: str = "bed_bath_table",
) -> Order:
    """An order with one item per price, paid in full (price + 10.00 freight per item)."""
    customer, _ = Customer.objects.get_or_create(customer_id=customer_id)
    seller, _ = Seller.objects.get_or_create(seller_id="s1")
    product, _ = Product.objects.get_or_create(
        product_id=f"p-{category}", defaults={"category": category}
    )
    order = Order.objects.create(
        order_id=order_id,
        customer=customer,
        status="delivered" if delivered else "shipped",
        purchased_at=NOW - timedelta(days=10),
        delivered_at=delivered,
        estimated_delivery_at=NOW - timedelta(days=1),
        currency="CNY",
        item_total=sum(Decimal(p) for p in prices),
        freight_total=Decimal("10.00") * len(prices),
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
        amount=order.item_total + order.freight_total,
    )
    return order


@pytest.fixture
def make_order(db: None) -> Any:
    """``make_order(order_id, customer_id=..., delivered=..., prices=..., category=...)``."""
    return _make_order


@pytest.fixture
def order(db: None) -> Order:
    return _make_order()


@pytest.fixture
def now() -> datetime:
    return NOW
