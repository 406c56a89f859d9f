"""Revenue at risk: what unhappy customers spend, and what the gap between tiers is worth.

* ``at_risk_customers`` / ``revenue_at_risk``: customers whose *last* rated order (latest
  purchase, ties by the larger order id) was rated 1–2★ (its reviews' mean ≤ 2.5), and their
  revenue over the ``trailing_days`` before the last purchase in the data — the spend a shop
  stands to lose if they do not come back.
* ``gap_per_customer``: revenue per customer of the 4–5★ first-order tier minus that of the
  1–2★ tier (Welch 95 % interval), and ``expected_gap_total`` = that gap × customers in the
  1–2★ tier: the revenue the shop would expect if its unhappy first-time buyers had behaved like
  its happy ones (an association, not a proven effect).

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> from manyi.insight.revenue_risk import revenue_at_risk
>>> revenue_at_risk(src).at_risk_customers
405
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from manyi.insight.intervals import Estimate, mean_difference
from manyi.insight.repeat import customer_summary, repeat_by_first_rating
from manyi.insight.slicing import as_number

if TYPE_CHECKING:
    from manyi.insight.sources import Source


@dataclass(frozen=True)
class RevenueAtRisk:
    """See the module docs for each figure."""

    at_risk_customers: int
    revenue_at_risk: float
    trailing_days: int
    gap_per_customer: Estimate
    low_tier_customers: int
    expected_gap_total: float | None


def revenue_at_risk(
    src: Source,
    *,
    trailing_days: int = 365,
    since: date | None = None,
    until: date | None = None,
) -> RevenueAtRisk:
    """Revenue of customers whose last experience was bad, and the tier gap (module docs).

    Read from the per-customer summary (:func:`manyi.insight.repeat.customer_summary`, computed
    once and shared with repeat purchase, retention and value): each customer's last rated order
    and trailing revenue come from the same pass over the orders as the rest of the summary.
    """
    people = customer_summary(src, since=since, until=until, trailing_days=trailing_days)
    at_risk = people.filter(people.last_rating <= 2.5)
    row = src.execute(
        at_risk.aggregate(customers=at_risk.count(), revenue=at_risk.trailing_revenue.sum())
    ).iloc[0]
    tiers = {
        str(r["tier"]): r
        for r in repeat_by_first_rating(src, since=since, until=until).to_dict("records")
    }
    high, low = tiers["4-5"], tiers["1-2"]

    def est(tier: dict[Hashable, Any]) -> Estimate:
        value = as_number(tier["revenue_per_customer"])
        return Estimate(
            value if int(as_number(tier["customers"])) else None, int(as_number(tier["customers"]))
        )

    gap = mean_difference(
        est(high), as_number(high["revenue_sd"]), est(low), as_number(low["revenue_sd"])
    )
    n_low = int(as_number(low["customers"]))
    return RevenueAtRisk(
        at_risk_customers=int(as_number(row["customers"])),
        revenue_at_risk=as_number(row["revenue"]),
        trailing_days=trailing_days,
        gap_per_customer=gap,
        low_tier_customers=n_low,
        expected_gap_total=None if gap.value is None else gap.value * n_low,
    )
