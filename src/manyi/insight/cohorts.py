"""Cohort retention curves by the rating of the first order.

For each first-order tier (see :mod:`manyi.insight.repeat`) and each month ``k`` = 1..``months``
the curve gives the share of customers who placed a second counted order within ``k × 30`` days
of their first. Only customers first seen at least ``k × 30`` days before the last purchase in
the data count at point ``k`` (right-censoring: nobody is counted as lost before they could
have come back), so ``eligible`` shrinks along the curve.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> from manyi.insight.cohorts import retention_by_first_rating
>>> curves = retention_by_first_rating(src, months=6)
>>> list(curves.columns)
['tier', 'month', 'eligible', 'retained', 'rate', 'rate_low', 'rate_high']
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.intervals import proportion
from manyi.insight.repeat import DAY, TIERS, customer_summary
from manyi.insight.slicing import as_number, run_grouped

if TYPE_CHECKING:
    from manyi.insight.sources import Source

MONTH_DAYS = 30


def retention_by_first_rating(
    src: Source,
    *,
    months: int = 12,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Cumulative share of customers who ordered again within ``k`` months, by first-order tier.

    Parameters
    ----------
    months
        Length of the curves (>= 1).

    Returns
    -------
    pandas.DataFrame
        ``tier``, ``month``, ``eligible``, ``retained``, ``rate`` (+ ``rate_low``/``rate_high``,
        Wilson 95 %; ``rate`` is ``None`` when nobody is eligible).
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    people = customer_summary(src, since=since, until=until)
    # the last counted purchase in the data is the latest of the customers' last purchases
    people = people.mutate(end_s=people.last_s.max().as_scalar())
    aggs = {}
    for k in range(1, months + 1):
        span = k * MONTH_DAYS * DAY
        eligible = people.first_s <= people.end_s - span
        back = eligible & people.second_s.notnull() & (people.second_s - people.first_s <= span)
        aggs[f"e{k}"] = ibis.cases((eligible, 1), else_=0).sum()
        aggs[f"r{k}"] = ibis.cases((back, 1), else_=0).sum()
    raw = run_grouped(src, people, ["tier"], **aggs)
    found = {str(row["tier"]): row for _, row in raw.iterrows()}
    records = []
    for tier in TIERS:
        row = found.get(tier)
        for k in range(1, months + 1):
            eligible_n = as_number(row[f"e{k}"]) if row is not None else 0.0
            retained = as_number(row[f"r{k}"]) if row is not None else 0.0
            est = proportion(retained, eligible_n)
            records.append(
                {
                    "tier": tier,
                    "month": k,
                    "eligible": int(eligible_n),
                    "retained": int(retained),
                    "rate": est.value,
                    "rate_low": est.low,
                    "rate_high": est.high,
                }
            )
    return pd.DataFrame(records)
