"""Staff, shop rows, reviews and a JSON client for the review tests.

Rows come from small factories (reviews as the importer writes them); state (analyses,
follow-up cases, replies) is built through the real services. Tests run with
``--import-mode=importlib``: helpers reach them as fixtures, not imports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user, ensure_team
from manyi.desk.accounts.tokens import create_api_token
from manyi.desk.cases.models import Case, CaseEvent
from manyi.desk.commerce.models import (
    Customer,
    Order,
    OrderItem,
    Payment,
    Product,
    Review,
    Seller,
)
from manyi.desk.reviews.models import (
    FollowUpRule,
    ReviewAnalysis,
    ReviewAspect,
    ReviewEvent,
    ReviewFollowUp,
    ReviewReply,
    ReviewState,
)

PASSWORD = "a-long-password-1"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.get_fixed_timezone(480))

#: Review texts in the three languages with a shipped model, one bad and one good each.
TEXTS = {
    "zh_negative": "快递太慢了，等了一个星期，质量也很差",
    "zh_positive": "物流很快，质量不错，包装也很好",
    "en_negative": "The fabric is cheap and it arrived late. Runs small.",
    "en_positive": "Love it! Great quality and fast shipping.",
    "pt_negative": "Produto chegou quebrado e atrasado. Não recomendo",
    "pt_positive": "Produto excelente, chegou antes do prazo",
}


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


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def texts() -> dict[str, str]:
    return dict(TEXTS)


def _make_order(
    order_id: str = "o1",
    *,
    customer_id: str = "c1",
    category: str = "bed_bath_table",
    seller_id: str = "s1",
    purchased: datetime = NOW - timedelta(days=10),
) -> Order:
    customer, _ = Customer.objects.get_or_create(
        customer_id=customer_id, defaults={"city": "Hangzhou", "region": "ZJ"}
    )
    seller, _ = Seller.objects.get_or_create(seller_id=seller_id)
    product, _ = Product.objects.get_or_create(
        product_id=f"p-{category}", defaults={"category": category}
    )
    order = Order.objects.create(
        order_id=order_id,
        customer=customer,
        status="delivered",
        purchased_at=purchased,
        delivered_at=purchased + timedelta(days=5),
        estimated_delivery_at=purchased + timedelta(days=4),
        currency="CNY",
        item_total=Decimal("120.00"),
        freight_total=Decimal("10.00"),
    )
    OrderItem.objects.create(
        order=order,
        line_no=1,
        product=product,
        seller=seller,
        price=Decimal("120.00"),
        freight=Decimal("10.00"),
    )
    Payment.objects.create(
        order=order, seq=1, method="alipay", installments=1, amount=Decimal("130.00")
    )
    return order


@pytest.fixture
def make_order(db: None) -> Callable[..., Order]:
    """``make_order(order_id, customer_id=..., category=..., seller_id=..., purchased=...)``."""
    return _make_order


@pytest.fixture
def make_review(db: None) -> Callable[..., Review]:
    """``make_review(rating, body, *, order_id=..., days_ago=1, title=None, language=None)``:
    a review row as the importer writes it (its order is created when missing)."""
    counter = {"n": 0}

    def make(
        rating: int,
        body: str | None = None,
        *,
        order_id: str | None = None,
        days_ago: float = 1,
        title: str | None = None,
        language: str | None = None,
        category: str = "bed_bath_table",
        seller_id: str = "s1",
        customer_id: str = "c1",
        source: str = "import",
    ) -> Review:
        counter["n"] += 1
        order_id = order_id or f"o{counter['n']}"
        if not Order.objects.filter(order_id=order_id).exists():
            _make_order(order_id, category=category, seller_id=seller_id, customer_id=customer_id)
        return Review.objects.create(
            review_id=f"r{counter['n']}",
            order_id=order_id,
            rating=rating,
            title=title,
            body=body,
            language=language,
            created_at=NOW - timedelta(days=days_ago),
            source=source,
        )

    return make


@pytest.fixture
def set_rule(db: None) -> Callable[..., FollowUpRule]:
    """``set_rule(enabled=..., negative_threshold=..., max_age_days=..., team=...)``."""

    def configure(**values: Any) -> FollowUpRule:
        if "team" in values and isinstance(values["team"], str):
            values["team"] = ensure_team(values["team"])
        rule = FollowUpRule.load()
        for name, value in values.items():
            setattr(rule, name, value)
        rule.save()
        return rule

    return configure


@pytest.fixture
def snapshot(db: None) -> Callable[[], dict[str, Any]]:
    """``snapshot()``: everything a review operation could write, to assert that a refusal
    wrote nothing."""

    def take() -> dict[str, Any]:
        return {
            "reviews": list(
                Review.objects.order_by("pk").values_list(
                    "pk", "review_id", "order_id", "rating", "body", "answered_at", "language"
                )
            ),
            "analyses": ReviewAnalysis.objects.count(),
            "aspects": ReviewAspect.objects.count(),
            "states": list(ReviewState.objects.order_by("pk").values_list("pk", "status")),
            "replies": ReviewReply.objects.count(),
            "events": ReviewEvent.objects.count(),
            "follow_ups": ReviewFollowUp.objects.count(),
            "cases": Case.objects.count(),
            "case_events": CaseEvent.objects.count(),
        }

    return take


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
        headers: dict[str, str] | None = None,
        raw: str | None = None,
    ) -> Any:
        sent = dict(headers or {})
        if as_ is not None:
            sent["Authorization"] = f"Bearer {self.staff.tokens[as_]}"
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(
            method, path, data=data, content_type="application/json", headers=sent
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)


@pytest.fixture
def api(staff: Staff) -> Api:
    return Api(staff)


@pytest.fixture
def login(client: Client, staff: Staff) -> Callable[[str], Client]:
    """``login("ana")``: the test client logged in as that user, speaking English."""

    def as_user(name: str) -> Client:
        client.force_login(staff[name])
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return as_user


@pytest.fixture
def close_connection() -> Callable[[], None]:
    """Close the calling thread's database connection (call at the end of a test's thread)."""

    def close() -> None:
        connection.close()  # looked up when called: each thread has its own connection

    return close
