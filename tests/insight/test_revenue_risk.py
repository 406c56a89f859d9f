"""Revenue at risk: by hand on a tiny shop, and consistent with the tiers on Olist."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest

from manyi.insight.repeat import repeat_by_first_rating
from manyi.insight.revenue_risk import revenue_at_risk
from manyi.insight.sources import Source


def test_revenue_at_risk_by_hand(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given c1 whose last rated order got 1★ and who spent 10 + 30 (the first order 400 days
    # before the end, outside the 365-day trail); c2 happy at 5★ spending 100
    o = helpers.order
    orders = [
        o("a", "c1", "2023-01-01", item_total=50.0),
        o("b", "c1", "2024-01-01"),
        o("c", "c1", "2024-02-04", item_total=30.0),
        o("d", "c2", "2024-01-01", item_total=100.0),
    ]
    reviews = [
        helpers.review("r1", "a", 5, "2023-01-05"),
        helpers.review("r2", "b", 1, "2024-01-05"),
    ]
    risk = revenue_at_risk(make_source(orders=orders, reviews=reviews))
    # then one customer is at risk with 10 + 30 in the trailing year
    assert (risk.at_risk_customers, risk.revenue_at_risk) == (1, 40.0)
    # both are 4–5★ first-order customers, so there is no 1–2★ tier to compare
    assert risk.low_tier_customers == 0
    assert risk.gap_per_customer.value is None
    assert risk.expected_gap_total is None


def test_gap_uses_the_tier_means_on_olist(olist: Source) -> None:
    risk = revenue_at_risk(olist)
    tiers = repeat_by_first_rating(olist).set_index("tier")
    gap = tiers.loc["4-5", "revenue_per_customer"] - tiers.loc["1-2", "revenue_per_customer"]
    assert risk.gap_per_customer.value == pytest.approx(gap, rel=1e-12)
    assert risk.expected_gap_total == pytest.approx(gap * tiers.loc["1-2", "customers"])
    assert risk.at_risk_customers > 0
