"""Shop rows, staff, resolved cases and invitations for survey tests.

Rows come from small factories; state (cases, invitations, answers) is built through the real
services and the worker's jobs. Shared through fixtures (tests run with importlib imports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case
from manyi.desk.cases.services import NewCase, open_case, transition_case
from manyi.desk.commerce.models import Customer, Order, OrderItem, Product, Seller
from manyi.desk.surveys.jobs import SurveyRound, run_survey_jobs
from manyi.desk.surveys.links import make_survey_token
from manyi.desk.surveys.models import Invitation, SurveyRule, SurveySettings
from manyi.desk.surveys.services import submit_response
from manyi.desk.surveys.standard import install_standard

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.get_fixed_timezone(480))
PASSWORD = "a-long-password-1"


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(autouse=True)
def standard_surveys(request: pytest.FixtureRequest) -> None:
    """The standard instruments, settings and rules, with the rules' checkpoints a day before
    ``NOW``. A flushing (transactional) test elsewhere removes migration data, so it is
    reinstalled here when missing (``install_standard`` skips what exists)."""
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")  # transactional when the test asked for it
    install_standard(django_apps, NOW - timedelta(days=1))
    SurveyRule.objects.update(checkpoint_at=NOW - timedelta(days=1), grace_days=7, active=True)
    SurveySettings.objects.filter(pk=1).update(fatigue_days=30, link_days=28, reminder_after_days=3)


@pytest.fixture
def agent(db: None) -> User:
    create_staff_user("ana", PASSWORD, role=Role.AGENT, teams=("returns",))
    return User.objects.get(username="ana")


def _make_order(
    order_id: str = "o1",
    *,
    customer_id: str = "c1",
    delivered: datetime | None = NOW - timedelta(days=2),
    prices: tuple[str, ...] = ("120.00",),
    category: str = "bed_bath_table",
    seller_id: str = "s1",
) -> Order:
    customer, _ = Customer.objects.get_or_create(customer_id=customer_id)
    seller, _ = Seller.objects.get_or_create(seller_id=seller_id)
    product, _ = Product.objects.get_or_create(
        product_id=f"p-{category}", defaults={"category": category}
    )
    order = Order.objects.create(
        order_id=order_id,
        customer=customer,
        status="delivered" if delivered else "shipped",
        purchased_at=(delivered or NOW) - timedelta(days=5),
        delivered_at=delivered,
        estimated_delivery_at=(delivered or NOW) + timedelta(days=1),
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
    return order


@pytest.fixture
def make_order(db: None) -> Callable[..., Order]:
    """``make_order(order_id, customer_id=, delivered=, prices=, category=, seller_id=)``."""
    return _make_order


@pytest.fixture
def resolved_case(agent: User) -> Callable[..., Case]:
    """``resolved_case(order=None, email=..., language=..., at=..., agent=...)``: a question
    opened by the customer, triaged and resolved by the agent through the case services."""

    def make(
        order: Order | None = None,
        *,
        email: str = "wang@example.com",
        language: str = "zh-hans",
        at: datetime = NOW - timedelta(days=2),
        by: User | None = None,
        lines: tuple[int, ...] = (),
    ) -> Case:
        by = by or agent
        case = open_case(
            NewCase(
                kind="question",
                channel="email",
                subject="发票什么时候开？",
                order_id=order.order_id if order else None,
                order_lines=lines,
                contact_name="王女士",
                contact_email=email,
                language=language,
                team="returns",
                assignee_id=by.pk,
            ),
            actor=Actor.customer(),
            now=at - timedelta(hours=3),
        )
        transition_case(
            case.case_id,
            "triage",
            actor=Actor.staff(by),
            fields={"diagnosis": "发票问题"},
            now=at - timedelta(hours=1),
        )
        return transition_case(case.case_id, "resolve", actor=Actor.staff(by), now=at)

    return make


@pytest.fixture
def run_jobs(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[datetime], SurveyRound]:
    """One worker round at ``now``, with the e-mails queued on commit actually sent."""

    def run(at: datetime) -> SurveyRound:
        with django_capture_on_commit_callbacks(execute=True):
            return run_survey_jobs(at)

    return run


@pytest.fixture
def invite(
    resolved_case: Callable[..., Case],
    make_order: Callable[..., Order],
    run_jobs: Callable[[datetime], SurveyRound],
) -> Callable[..., Invitation]:
    """``invite(kind="case"|"order", at=..., **case_options)``: an issued invitation of the
    standard after-case (CSAT + CES) or after-delivery (DSR + NPS) rule, made by the worker."""
    counter = iter(range(1, 10_000))

    def make(kind: str = "case", *, at: datetime = NOW, **options: Any) -> Invitation:
        n = next(counter)
        if kind == "case":
            case = resolved_case(at=at - timedelta(hours=25), **options)
            run_jobs(at)
            return Invitation.objects.get(case=case)
        order = make_order(
            options.pop("order_id", f"o-{n}"),
            delivered=at - timedelta(hours=25),
            **options,
        )
        run_jobs(at)
        return Invitation.objects.get(order=order)

    return make


@pytest.fixture
def submit() -> Callable[..., Any]:
    """``submit(invitation, {"csat.csat": "5", ...}, at=...)`` through the service."""

    def run(invitation: Invitation, data: dict[str, str], *, at: datetime = NOW) -> Any:
        return submit_response(invitation.pk, data, now=at)

    return run


@pytest.fixture
def token() -> Callable[[Invitation], str]:
    return lambda invitation: make_survey_token(invitation.pk)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """``clock(at)``: code that reads ``timezone.now()`` itself (the views) sees ``at``."""

    def set_to(at: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: at)

    return set_to


@pytest.fixture
def desk_database_url() -> Iterator[str]:
    """The URL ``manyi report --source`` would be given for this test's desk database."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        yield f"sqlite:///{settings['NAME']}"
        return
    auth = quote(settings["USER"] or "", safe="")
    if settings.get("PASSWORD"):
        auth += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    yield f"postgresql://{auth}@{host}{port}/{settings['NAME']}"
