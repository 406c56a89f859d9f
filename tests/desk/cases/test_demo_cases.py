"""The demo's cases come from the sample's real bad reviews and are built by the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from manyi.data import open_reader
from manyi.data.samples import sample_path
from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user
from manyi.desk.cases.demo import guess_reason, seed_demo_cases
from manyi.desk.cases.models import Case, CaseEvent, Macro
from manyi.desk.commerce.models import Review
from manyi.desk.commerce.services import import_source

pytestmark = pytest.mark.django_db


def test_demo_cases_are_real_complaints_worked_through_the_workflow(staff: Any) -> None:
    import_source(open_reader("olist", sample_path("olist")), kind="olist", source="sample")
    create_staff_user("admin", "a-long-password-1", role=Role.MANAGER, superuser=True)
    create_staff_user("agent", "a-long-password-1", role=Role.AGENT, teams=("returns", "service"))
    now = timezone.now()
    summary = seed_demo_cases(now, limit=25)
    assert summary.opened == 25
    assert Case.objects.count() == 25
    for case in Case.objects.select_related("order"):
        review = Review.objects.filter(order=case.order).order_by("rating").first()
        assert review is not None
        assert review.rating <= 2
        assert case.description == review.body
        assert case.opened_at < now
        assert case.events.filter(seq=1, kind="opened").exists()
    assert len(set(Case.objects.values_list("status", flat=True))) >= 3
    assert Macro.objects.filter(language="zh-hans").exists()
    # A re-run does not add a second batch.
    events = CaseEvent.objects.count()
    assert seed_demo_cases(now, limit=25).opened == 0
    assert CaseEvent.objects.count() == events


def test_reasons_are_read_from_portuguese_complaints() -> None:
    assert guess_reason("Produto chegou quebrado") == "damaged"
    assert guess_reason("Ainda não recebi meu pedido") == "late_delivery"
    assert guess_reason("Veio a cor errada") == "wrong_item"
    assert guess_reason("Ótimo") == "other"
