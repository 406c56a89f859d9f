"""Staff, shop rows, cases and the bundled Olist sample for the dashboards tests.

Figures are computed by DuckDB reading the desk database, which sees committed rows only: tests
that compute use ``django_db(transaction=True)``. Every test gets its own in-memory dashboards
cache, and the pooled DuckDB sources are closed after it (PostgreSQL cannot drop a test database
a scanner is still attached to). Tests run with ``--import-mode=importlib``: helpers reach them
as fixtures, not imports.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user, ensure_team
from manyi.desk.accounts.tokens import create_api_token
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case
from manyi.desk.cases.services import NewCase, open_case
from manyi.desk.commerce.models import (
    Customer,
    Order,
    OrderItem,
    Payment,
    Product,
    Review,
    Seller,
)
from manyi.desk.dashboards.source import close_pooled_sources

PASSWORD = "a-long-password-1"
#: "Now" of the hand-made shop: a Monday noon in Shanghai.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.get_fixed_timezone(480))


@pytest.fixture(autouse=True)
def dashboards_cache(settings: Any) -> Iterator[None]:
    """A fresh in-memory dashboards cache per test; pooled DuckDB sources closed after it."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "dashboards": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"dashboards-test-{next(_COUNTER)}",
        },
    }
    yield
    close_pooled_sources()


_COUNTER = itertools.count()


@dataclass
class Staff:
    """mei manager, li analyst, ana agent of team returns, bo agent without a team, root admin."""

    users: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


@pytest.fixture
def staff(db: None) -> Staff:
    create_staff_user("root", PASSWORD, role=Role.ADMIN, superuser=True)
    create_staff_user("mei", PASSWORD, role=Role.MANAGER, email="mei@shop.example")
    create_staff_user("li", PASSWORD, role=Role.ANALYST)
    create_staff_user("ana", PASSWORD, role=Role.AGENT, teams=("returns",))
    create_staff_user("bo", PASSWORD, role=Role.AGENT)
    ensure_team("vip", "VIP")
    names = ("root", "mei", "li", "ana", "bo")
    return Staff({n: User.objects.get(username=n) for n in names})


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def login(client: Client, staff: Staff) -> Callable[..., Client]:
    """``login("mei", lang="en")``: the test client logged in as that user."""

    def as_user(name: str, lang: str = "en") -> Client:
        client.force_login(staff[name])
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
        return client

    return as_user


@pytest.fixture
def token(staff: Staff) -> Callable[[str], str]:
    """``token("li")``: a fresh API token of that user."""

    def make(name: str) -> str:
        return create_api_token(staff[name], f"{name}-test")[0]

    return make


def _make_order(
    order_id: str,
    *,
    purchased: datetime,
    late_days: int = 0,
    category: str = "bed_bath_table",
    seller_id: str = "s1",
    customer_id: str | None = None,
) -> Order:
    """A delivered order promised 5 days after purchase, delivered ``late_days`` after that."""
    customer, _ = Customer.objects.get_or_create(customer_id=customer_id or f"c-{order_id}")
    seller, _ = Seller.objects.get_or_create(seller_id=seller_id)
    product, _ = Product.objects.get_or_create(
        product_id=f"p-{category}", defaults={"category": category}
    )
    order = Order.objects.create(
        order_id=order_id,
        customer=customer,
        status="delivered",
        purchased_at=purchased,
        estimated_delivery_at=purchased + timedelta(days=5),
        delivered_at=purchased + timedelta(days=5 + late_days),
        currency="CNY",
        item_total=Decimal("100.00"),
        freight_total=Decimal("10.00"),
    )
    OrderItem.objects.create(
        order=order,
        line_no=1,
        product=product,
        seller=seller,
        price=Decimal("100.00"),
        freight=Decimal("10.00"),
    )
    Payment.objects.create(
        order=order, seq=1, method="alipay", installments=1, amount=Decimal("110.00")
    )
    return order


@pytest.fixture
def shop(db: None) -> Callable[..., Review]:
    """``shop(rating, *, days_ago, late_days=0, category=..., seller_id=..., body=None)``:
    an order purchased ``days_ago + 6`` days before NOW and its review written ``days_ago``
    days before NOW."""
    counter = itertools.count(1)

    def make(
        rating: int,
        *,
        days_ago: float,
        late_days: int = 0,
        category: str = "bed_bath_table",
        seller_id: str = "s1",
        body: str | None = None,
    ) -> Review:
        n = next(counter)
        written = NOW - timedelta(days=days_ago)
        order = _make_order(
            f"o{n}",
            purchased=written - timedelta(days=6),
            late_days=late_days,
            category=category,
            seller_id=seller_id,
        )
        return Review.objects.create(
            review_id=f"r{n}",
            order=order,
            rating=rating,
            body=body,
            created_at=written,
            source="import",
        )

    return make


@pytest.fixture
def open_cases(staff: Staff) -> Callable[..., list[Case]]:
    """``open_cases(n, *, days_ago, team=None, channel="web", kind="complaint",
    reason="quality", order_id=None)``: cases opened through the service."""

    def make(
        n: int,
        *,
        days_ago: float,
        team: str | None = None,
        channel: str = "web",
        kind: str = "complaint",
        reason: str = "quality",
        order_id: str | None = None,
    ) -> list[Case]:
        at = NOW - timedelta(days=days_ago)
        return [
            open_case(
                NewCase(
                    kind=kind,
                    channel=channel,
                    subject=f"{kind} {i}",
                    reason=reason,
                    team=team,
                    order_id=order_id,
                    contact_email=f"buyer{i}@example.com",
                ),
                actor=Actor.customer(),
                now=at + timedelta(minutes=i),
            )
            for i in range(n)
        ]

    return make


@pytest.fixture
def olist_desk(transactional_db: None) -> None:
    """The bundled Olist sample (3,000 real orders) imported into the desk, reviews analysed."""
    from manyi.data import open_reader
    from manyi.data.samples import sample_path
    from manyi.desk.commerce.services import import_source
    from manyi.desk.reviews.analysis import analyse_reviews
    from manyi.desk.reviews.models import FollowUpRule

    import_source(open_reader("olist", sample_path("olist")), kind="olist", source="sample")
    rule = FollowUpRule.load()
    rule.enabled = False  # no follow-up cases: the figures below are about the sample alone
    rule.save()
    analyse_reviews(now=timezone.now(), batch_size=1000)


@pytest.fixture
def desk_database_url() -> str:
    """The URL ``manyi report --source`` would be given for this test's desk database."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = quote(settings["USER"] or "", safe="")
    if settings.get("PASSWORD"):
        auth += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgresql://{auth}@{host}{port}/{settings['NAME']}"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server that records webhook requests and answers with ``statuses`` in
    turn (the last one repeats)."""

    url: str
    requests: list[Received]
    statuses: list[int]


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    received: list[Received] = []
    statuses = [204]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(
                Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_port}/hooks/manyi", received, statuses)
    finally:
        server.shutdown()
        server.server_close()
