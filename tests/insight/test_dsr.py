"""DSR shop ratings: a rolling window computed by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from manyi.insight.dsr import DSRPolicy, dsr_scores
from manyi.insight.errors import ScaleError
from manyi.insight.sources import Source

# order, seller, buyer, delivered, answered, (as_described, service, logistics)
PLAN: list[tuple[str, str, str, str | None, str, tuple[int, int, int]]] = [
    ("o1", "S1", "c1", "2024-06-01", "2024-06-10", (5, 4, 3)),  # 9 days after: counts
    ("o2", "S1", "c2", "2024-06-01", "2024-06-20", (1, 1, 1)),  # 19 days after: too late
    ("o3", "S1", "c3", "2024-01-01", "2024-01-02", (1, 1, 1)),  # before the window
    ("o4", "S1", "c2", "2024-03-01", "2024-03-16", (3, 3, 3)),  # day 15: still counts
    ("o5", "S1", "c1", "2024-05-01", "2024-05-03", (4, 4, 4)),  # counts (c1's second)
    ("o6", "S1", "c4", None, "2024-05-03", (1, 1, 1)),  # never delivered
    ("o7", "S1", "c5", "2024-06-28", "2024-07-02", (1, 1, 1)),  # after as_of
    ("o8", "S2", "c6", "2024-06-01", "2024-06-02", (2, 2, 2)),
    ("o9", "S3", "c7", "2024-06-01", "2024-06-02", (5, 5, 5)),
]
CATEGORY = {"S1": "a", "S2": "a", "S3": "b", "S4": "a"}


def _source(
    make_source: Callable[..., Source], helpers: SimpleNamespace, plan: list[Any] = PLAN
) -> Source:
    orders, items, responses, answers = [], [], [], []
    for order_id, seller, buyer, delivered, answered, values in plan:
        extra = {"delivered_at": delivered} if delivered else {}
        orders.append(helpers.order(order_id, buyer, "2024-01-01", **extra))
        items.append(
            {
                "order_id": order_id,
                "line_no": 1,
                "product_id": f"p{seller}",
                "seller_id": seller,
                "price": 10.0,
                "freight": 0.0,
            }
        )
        responses.append(
            {
                "response_id": f"r{order_id}",
                "instrument": "dsr",
                "customer_id": buyer,
                "order_id": order_id,
                "answered_at": helpers.ts(answered),
            }
        )
        for dim, value in zip(("as_described", "service", "logistics"), values, strict=True):
            answers.append({"response_id": f"r{order_id}", "item": dim, "value": value})
    # S4 sold something but nobody rated it
    orders.append(helpers.order("o10", "c8", "2024-01-01", delivered_at="2024-06-01"))
    items.append(
        {
            "order_id": "o10",
            "line_no": 1,
            "product_id": "pS4",
            "seller_id": "S4",
            "price": 10.0,
            "freight": 0.0,
        }
    )
    products = [{"product_id": f"p{s}", "category": c} for s, c in CATEGORY.items()]
    return make_source(
        orders=orders,
        order_items=items,
        products=products,
        survey_responses=responses,
        survey_answers=answers,
    )


def test_dsr_window_by_hand(make_source: Callable[..., Source], helpers: SimpleNamespace) -> None:
    # given the plan above and a 180-day window ending 2024-07-01: (2024-01-03, 2024-07-01]
    src = _source(make_source, helpers)
    scores = dsr_scores(src, as_of=date(2024, 7, 1)).set_index(["seller_id", "dimension"])
    # then S1 counts o1, o4, o5 only: as_described (5+3+4)/3, service (4+3+4)/3, logistics 10/3
    assert scores.loc[("S1", "as_described"), "n"] == 3
    assert scores.loc[("S1", "as_described"), "score"] == pytest.approx(4.0)
    assert scores.loc[("S1", "service"), "score"] == pytest.approx(11 / 3)
    assert scores.loc[("S1", "logistics"), "score"] == pytest.approx(10 / 3)
    # and the industry of category a is S1's three ratings and S2's one: (5+3+4+2)/4 = 3.5
    assert scores.loc[("S1", "as_described"), "industry_score"] == pytest.approx(3.5)
    assert scores.loc[("S1", "as_described"), "vs_industry"] == pytest.approx(0.5 / 3.5)
    assert scores.loc[("S2", "as_described"), "vs_industry"] == pytest.approx(-1.5 / 3.5)
    assert scores.loc[("S3", "service"), "vs_industry"] == pytest.approx(0.0)
    # and silence gives no score: S4 has none
    assert "S4" not in scores.index.get_level_values("seller_id")


def test_dsr_policy_changes_the_window_period_and_cap(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    src = _source(make_source, helpers)
    end = date(2024, 7, 1)
    # a 30-day window (2024-06-01, 2024-07-01] keeps only o1 for S1
    short = dsr_scores(src, as_of=end, policy=DSRPolicy(window_days=30)).set_index(
        ["seller_id", "dimension"]
    )
    assert short.loc[("S1", "as_described"), "score"] == 5.0
    # a 20-day rating period also admits o2 (19 days after delivery)
    long = dsr_scores(src, as_of=end, policy=DSRPolicy(accept_days=20)).set_index(
        ["seller_id", "dimension"]
    )
    assert long.loc[("S1", "as_described"), "n"] == 4
    # one rating per buyer per 180-day block: c1's first (o5, 4★) counts, o1 does not
    capped = dsr_scores(src, as_of=end, policy=DSRPolicy(max_per_buyer=1, cap_period_days=180))
    capped = capped.set_index(["seller_id", "dimension"])
    assert capped.loc[("S1", "as_described"), "score"] == pytest.approx((4 + 3) / 2)


def test_dsr_default_as_of_is_the_latest_accepted_rating(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # the latest accepted rating is o7's on 2024-07-02 (4 days after delivery), so the window is
    # (2024-01-04, 2024-07-02]: o1, o4, o5 and now o7 count for S1 (o3 still does not)
    src = _source(make_source, helpers)
    scores = dsr_scores(src).set_index(["seller_id", "dimension"])
    assert scores.loc[("S1", "as_described"), "n"] == 4
    assert scores.loc[("S1", "service"), "score"] == pytest.approx((4 + 3 + 4 + 1) / 4)


def test_dsr_edge_cases(make_source: Callable[..., Source], helpers: SimpleNamespace) -> None:
    # no accepted ratings at all: an empty table, not a default score
    late_only = [PLAN[1]]
    assert dsr_scores(_source(make_source, helpers, late_only)).empty
    # a single rating: its own score without interval
    one = dsr_scores(_source(make_source, helpers, [PLAN[0]])).set_index("dimension")
    assert (one.loc["service", "score"], one.loc["service", "score_low"]) == (4.0, None)
    # a rating of 6 is rejected
    bad = [("o1", "S1", "c1", "2024-06-01", "2024-06-02", (6, 5, 5))]
    with pytest.raises(ScaleError, match="dsr"):
        dsr_scores(_source(make_source, helpers, bad))
    with pytest.raises(ValueError, match="max_per_buyer"):
        DSRPolicy(max_per_buyer=0)


def test_dsr_from_olist_reviews(olist: Source) -> None:
    # the review rating as one "overall" dimension: every score lies in 1–5 and the industry
    # score is the rating-weighted mean of its sellers
    scores = dsr_scores(olist, source="reviews")
    assert set(scores["dimension"]) == {"overall"}
    assert scores["score"].between(1, 5).all()
    one_cat = scores[scores["category"] == "beleza_saude"]
    weighted = (one_cat["score"] * one_cat["n"]).sum() / one_cat["n"].sum()
    assert one_cat["industry_score"].iloc[0] == pytest.approx(weighted)
