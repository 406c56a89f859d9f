"""What a point of satisfaction is worth: customer value by satisfaction tier.

Pure functions on arrays.  The revenue change when customers move up a tier assumes that
a customer who moves takes on the *average* value of the tier she moves into.  That is an
association read across tiers, not a causal effect: customers in higher tiers may differ in
other ways (income, category), so state the assumption wherever the figure is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from manyi.insight.clv.estimator import ArrayLike

ASSUMPTIONS: tuple[str, ...] = (
    "A customer who moves up a tier takes on the mean value of the higher tier.",
    "Tier means are associations observed across customers, not causal effects.",
    "The share moved is the same in every tier that moves; the top tier does not move.",
)


def value_by_tier(
    tier: ArrayLike,
    value: ArrayLike,
    *,
    repeat_probability: ArrayLike | None = None,
    tier_order: Sequence[Any] | None = None,
    weights: ArrayLike | None = None,
) -> pd.DataFrame:
    """Customers, mean and total value, and repeat probability per satisfaction tier.

    Parameters
    ----------
    tier : array-like
        Satisfaction tier of each customer (e.g. rating 1–5, or "detractor"/"passive"/
        "promoter").  Customers with a missing tier are left out.
    value : array-like
        Value of each customer (CLV from :func:`customer_lifetime_value`, or revenue).
    repeat_probability : array-like, optional
        Probability (or 0/1 flag) that the customer buys again, e.g. P(alive) or an
        observed repeat flag.
    tier_order : sequence, optional
        Tiers from worst to best (default: sorted values).
    weights : array-like, optional
        Customers each row stands for (rows of identical customers collapsed, e.g. the
        ``(x, t_x, T)`` summaries of one-time buyers); ``customers`` is then their sum.

    Returns
    -------
    pandas.DataFrame
        ``tier``, ``customers``, ``share``, ``mean_value``, ``total_value`` and, if given,
        ``repeat_probability``; one row per tier, worst first.

    Examples
    --------
    >>> value_by_tier([1, 5, 5, 3], [10.0, 50.0, 70.0, 20.0])
       tier  customers  share  mean_value  total_value
    0     1          1   0.25        10.0         10.0
    1     3          1   0.25        20.0         20.0
    2     5          2   0.50        60.0        120.0
    """
    frame = pd.DataFrame({"tier": np.asarray(tier), "value": np.asarray(value, dtype=float)})
    frame["w"] = 1.0 if weights is None else np.asarray(weights, dtype=float)
    if repeat_probability is not None:
        frame["repeat"] = np.asarray(repeat_probability, dtype=float)
    if len(frame) == 0:
        raise ValueError("no customers given")
    frame = frame[frame["tier"].notna()]
    order = list(tier_order) if tier_order is not None else sorted(frame["tier"].unique())
    unknown = set(frame["tier"].unique()) - set(order)
    if unknown:
        raise ValueError(f"tiers {sorted(map(str, unknown))} are not in tier_order {order}")
    frame["wv"] = frame["w"] * frame["value"]
    sums = ["w", "wv"]
    if "repeat" in frame:
        frame["wr"] = frame["w"] * frame["repeat"]
        sums.append("wr")
    totals = frame.groupby("tier")[sums].sum().reindex(order)
    totals = totals[totals["w"] > 0]
    grouped = pd.DataFrame(
        {
            "tier": totals.index,
            "customers": totals["w"].to_numpy(),
            "mean_value": (totals["wv"] / totals["w"]).to_numpy(),
            "total_value": totals["wv"].to_numpy(),
        }
    )
    if "wr" in totals:
        grouped["repeat_probability"] = (totals["wr"] / totals["w"]).to_numpy()
    if weights is None or np.allclose(grouped["customers"], grouped["customers"].round()):
        grouped["customers"] = grouped["customers"].round().astype(int)
    grouped.insert(2, "share", grouped["customers"] / grouped["customers"].sum())
    return grouped


@dataclass(frozen=True)
class TierShiftEstimate:
    """Expected change in value when a share of customers moves up one tier."""

    share: float
    moved_customers: float
    expected_change: float
    by_tier: pd.DataFrame
    assumptions: tuple[str, ...] = field(default=ASSUMPTIONS)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "share": self.share,
            "moved_customers": self.moved_customers,
            "expected_change": self.expected_change,
            "by_tier": self.by_tier.to_dict(orient="records"),
            "assumptions": list(self.assumptions),
        }


def estimate_tier_shift(
    by_tier: pd.DataFrame, *, share: float, from_tiers: Sequence[Any] | None = None
) -> TierShiftEstimate:
    """Expected change in total value if ``share`` of the customers move up one tier.

    Parameters
    ----------
    by_tier : pandas.DataFrame
        Output of :func:`value_by_tier` (tiers worst first).
    share : float
        Fraction (0–1) of the customers of each moving tier who move up one tier.
    from_tiers : sequence, optional
        Tiers that move (default: all but the top tier).

    Returns
    -------
    TierShiftEstimate

    Examples
    --------
    >>> t = value_by_tier([1, 5, 5, 3], [10.0, 50.0, 70.0, 20.0])
    >>> estimate_tier_shift(t, share=0.5).expected_change
    25.0
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    tiers = list(by_tier["tier"])
    moving = tiers[:-1] if from_tiers is None else list(from_tiers)
    if tiers and tiers[-1] in moving:
        raise ValueError(f"the top tier {tiers[-1]!r} cannot move up")
    rows = []
    for position, tier in enumerate(tiers[:-1]):
        moved = share * float(by_tier["customers"].iloc[position]) if tier in moving else 0.0
        uplift = float(
            by_tier["mean_value"].iloc[position + 1] - by_tier["mean_value"].iloc[position]
        )
        rows.append(
            {
                "from_tier": tier,
                "to_tier": tiers[position + 1],
                "moved_customers": moved,
                "value_uplift_per_customer": uplift,
                "expected_change": moved * uplift,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "from_tier",
            "to_tier",
            "moved_customers",
            "value_uplift_per_customer",
            "expected_change",
        ],
    )
    return TierShiftEstimate(
        share=share,
        moved_customers=float(table["moved_customers"].sum()),
        expected_change=float(table["expected_change"].sum()),
        by_tier=table,
    )
