"""End to end on the bundled Olist sample: import the shop, let the worker invite after each
delivery week by week, answer from the orders' real review ratings, and read the DSR per seller
against its industry in the report built on the desk database.

How the answers are simulated (deterministic, from the real data): a buyer answers only if they
really reviewed the order; with ``r`` their review rating, ``as_described = service = r``,
``logistics = r`` when the order arrived by its estimated date and ``max(1, r − 1)`` when late;
NPS is ``2 r`` (0–10). They answer two hours after the invitation is issued.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from manyi.data import open_reader
from manyi.data.samples import sample_path
from manyi.desk.commerce.models import Order, OrderItem, Review
from manyi.desk.commerce.services import import_source
from manyi.desk.surveys.jobs import run_survey_jobs
from manyi.desk.surveys.models import (
    Invitation,
    InvitationChannel,
    InvitationStatus,
    SurveyRule,
    SurveySettings,
)
from manyi.desk.surveys.services import submit_response
from manyi.insight.report.build import build_report
from manyi.insight.report.html import render_html
from manyi.insight.report.satisfaction_sections import SHOP_RATINGS
from manyi.insight.sources import open_source

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW_DAYS = 180  # the DSR window, as in manyi.insight.dsr.DSRPolicy
DIMENSIONS = ("as_described", "service", "logistics")


def simulated_answers(order: Order, rating: int) -> dict[str, str]:
    late = (
        order.delivered_at is not None
        and order.estimated_delivery_at is not None
        and order.delivered_at > order.estimated_delivery_at
    )
    return {
        "dsr.as_described": str(rating),
        "dsr.service": str(rating),
        "dsr.logistics": str(max(1, rating - 1) if late else rating),
        "nps.nps": str(2 * rating),
    }


def day_number(at: datetime) -> int:
    return int(at.timestamp() // 86400)  # UTC days since 1970, as the desk source counts them


def main_categories() -> dict[str, str | None]:
    """Each seller's category with the most order lines (ties by name), over all lines."""
    counts: dict[str, Counter[str | None]] = defaultdict(Counter)
    for seller_id, category in OrderItem.objects.values_list("seller_id", "product__category"):
        counts[seller_id][category] += 1
    return {
        seller: min(c.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))[0]
        for seller, c in counts.items()
    }


def test_dsr_from_olist_deliveries_reaches_the_report(desk_database_url: str) -> None:
    import_source(open_reader("olist", sample_path("olist")), kind="olist", source="sample")
    last = Order.objects.exclude(delivered_at=None).latest("delivered_at").delivered_at
    assert last is not None
    start = last - timedelta(days=WINDOW_DAYS)
    SurveyRule.objects.filter(code="after_case").update(active=False)
    SurveyRule.objects.filter(code="after_delivery").update(checkpoint_at=start)
    SurveySettings.objects.filter(pk=1).update(reminder_after_days=None)

    # the worker, once a week over the last 180 days of the sample
    at = start
    while at <= last + timedelta(days=8):
        run_survey_jobs(at)
        at += timedelta(days=7)

    invitations = list(Invitation.objects.filter(rule_id="after_delivery").select_related("order"))
    delivered = Order.objects.filter(
        status="delivered", delivered_at__gte=start - timedelta(days=7), delivered_at__lte=last
    ).count()
    assert len(invitations) == delivered  # every delivered order in the scanned range, once
    issued = [i for i in invitations if i.status == InvitationStatus.ISSUED]
    assert {i.channel for i in issued} == {InvitationChannel.LINK}  # Olist has no addresses
    assert {i.reason for i in invitations if i.status != InvitationStatus.ISSUED} <= {"fatigue"}

    # buyers answer from their real review ratings
    # the latest review of each order (a later one overwrites an earlier one)
    ratings = dict(Review.objects.order_by("created_at").values_list("order_id", "rating"))
    counted: dict[tuple[str, str], list[float]] = defaultdict(list)
    answered_days: list[tuple[int, list[str], dict[str, str]]] = []
    sellers_of: dict[str, set[str]] = defaultdict(set)
    for order_id, seller_id in OrderItem.objects.values_list("order_id", "seller_id"):
        sellers_of[order_id].add(seller_id)
    for invitation in issued:
        order = invitation.order
        assert order is not None
        if order.order_id not in ratings:
            continue  # no review: the buyer gives no score
        assert invitation.issued_at is not None
        answered_at = invitation.issued_at + timedelta(hours=2)
        data = simulated_answers(order, ratings[order.order_id])
        submit_response(invitation.pk, data, now=answered_at)
        assert order.delivered_at is not None
        assert 0 <= day_number(answered_at) - day_number(order.delivered_at) <= 15
        answered_days.append((day_number(answered_at), sorted(sellers_of[order.order_id]), data))
    assert len(answered_days) > 1000

    # hand computation: ratings of the 180 days up to the last rating day, per seller
    end = max(day for day, _s, _d in answered_days)
    for day, sellers, data in answered_days:
        if day > end - WINDOW_DAYS:
            for seller in sellers:
                for dim in DIMENSIONS:
                    counted[(seller, dim)].append(float(data[f"dsr.{dim}"]))
    category = main_categories()
    industry: dict[tuple[str | None, str], list[float]] = defaultdict(list)
    for (seller, dim), values in counted.items():
        industry[(category[seller], dim)].extend(values)

    src = open_source(desk_database_url)
    try:
        doc = build_report(src, sections=[SHOP_RATINGS])
    finally:
        src.close()
    section = doc["sections"]["shop_ratings"]
    assert section["status"] == "ok"
    assert section["data"]["source"] == "surveys"
    scores = {(r["seller_id"], r["dimension"]): r for r in section["data"]["scores"]}
    assert set(scores) == set(counted)
    for key, values in counted.items():
        row = scores[key]
        peers = industry[(category[key[0]], key[1])]
        shop, mean = sum(values) / len(values), sum(peers) / len(peers)
        assert row["n"] == len(values)
        assert row["score"] == pytest.approx(shop)
        assert row["industry_score"] == pytest.approx(mean)
        assert row["vs_industry"] == pytest.approx((shop - mean) / mean)

    # the report page states the basis and names the seller furthest below its industry
    html = render_html(doc, lang="en", sections=[SHOP_RATINGS], include_plotlyjs=False)
    assert "Based on DSR surveys, 180-day window" in html
    eligible = [r for r in scores.values() if r["n"] >= 10]
    assert eligible
    worst = min(eligible, key=lambda r: r["vs_industry"])
    assert f"Worst: {worst['seller_id'][:8]}" in html
