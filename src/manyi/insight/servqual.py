"""SERVQUAL gaps: perception − expectation per item, per dimension, unweighted and weighted.

The 22 items (Parasuraman, Zeithaml & Berry, 1988/1991) on a 1–7 scale are answered twice in a
``servqual`` survey: ``E1``..``E22`` (what an excellent shop would do) and ``P1``..``P22`` (what
this shop does). Dimensions: tangibles 1–4, reliability 5–9, responsiveness 10–13, assurance
14–17, empathy 18–22. The respondent may split 100 points over the dimensions (items
``W_tangibles`` ...) for the weighted score.

* item gap = mean over respondents of (P − E), answered both (t 95 % interval);
* dimension gap = mean of its item gaps;
* unweighted score = mean of the five dimension gaps;
* weighted score = Σ w_d × gap_d with w_d the mean share of points given to dimension d.

Examples
--------
>>> from manyi.insight.servqual import DIMENSION_ITEMS
>>> DIMENSION_ITEMS["responsiveness"]
(10, 11, 12, 13)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from manyi.insight.intervals import mean_estimate
from manyi.insight.ratings import check_scale
from manyi.insight.slicing import as_number, run_grouped
from manyi.insight.surveys import survey_rows

if TYPE_CHECKING:
    from manyi.insight.sources import Source

DIMENSION_ITEMS: dict[str, tuple[int, ...]] = {
    "tangibles": (1, 2, 3, 4),
    "reliability": (5, 6, 7, 8, 9),
    "responsiveness": (10, 11, 12, 13),
    "assurance": (14, 15, 16, 17),
    "empathy": (18, 19, 20, 21, 22),
}
ITEM_DIMENSION = {i: d for d, items in DIMENSION_ITEMS.items() for i in items}


@dataclass(frozen=True)
class ServqualGaps:
    """Item and dimension gaps and the two overall scores (``None`` without answers)."""

    items: pd.DataFrame
    dimensions: pd.DataFrame
    unweighted: float | None
    weighted: float | None
    respondents: int


def servqual_gaps(
    src: Source, *, since: date | None = None, until: date | None = None
) -> ServqualGaps:
    """Compute the SERVQUAL gaps from the ``servqual`` instrument (see the module docs).

    Returns
    -------
    ServqualGaps
        ``items``: ``item, dimension, n, expectation, perception, gap, gap_low, gap_high``;
        ``dimensions``: ``dimension, items, gap, weight``.
    """
    codes = [f"{k}{i}" for k in "EP" for i in range(1, 23)]
    rows = survey_rows(src, "servqual", items=codes, since=since, until=until)
    check_scale(src, rows, "value", 1, 7, what="survey_answers.value (servqual)")
    kind = rows.item.substr(0, 1)
    number = rows.item.substr(1).cast("int64")
    rows = rows.mutate(kind=kind, number=number)
    exp = rows.filter(rows.kind == "E").select("response_id", "number", e=rows.value)
    per = rows.filter(rows.kind == "P").select("response_id", "number", p=rows.value)
    paired = exp.join(per, ["response_id", "number"])
    gap = paired.p - paired.e
    raw = run_grouped(
        src,
        paired,
        ["number"],
        n=paired.count(),
        e_sum=paired.e.sum(),
        p_sum=paired.p.sum(),
        g_sum=gap.sum(),
        g_sq=(gap * gap).sum(),
    )
    respondents = int(as_number(src.execute(paired.response_id.nunique())))
    item_records = []
    for _, row in raw.iterrows():
        n = as_number(row["n"])
        est = mean_estimate(as_number(row["g_sum"]), as_number(row["g_sq"]), n)
        number_ = int(row["number"])
        item_records.append(
            {
                "item": number_,
                "dimension": ITEM_DIMENSION.get(number_),
                "n": int(n),
                "expectation": as_number(row["e_sum"]) / n,
                "perception": as_number(row["p_sum"]) / n,
                "gap": est.value,
                "gap_low": est.low,
                "gap_high": est.high,
            }
        )
    items = pd.DataFrame(
        item_records,
        columns=[
            "item",
            "dimension",
            "n",
            "expectation",
            "perception",
            "gap",
            "gap_low",
            "gap_high",
        ],
    ).sort_values("item", ignore_index=True)
    weights = _weights(src, since, until)
    dim_records = []
    for dim in DIMENSION_ITEMS:
        part = items[items["dimension"] == dim]
        dim_records.append(
            {
                "dimension": dim,
                "items": len(part),
                "gap": float(part["gap"].mean()) if len(part) else None,
                "weight": weights.get(dim),
            }
        )
    dims = pd.DataFrame(dim_records)
    known = dims.dropna(subset=["gap"])
    unweighted = float(known["gap"].mean()) if len(known) else None
    weighted = None
    if len(known) == len(DIMENSION_ITEMS) and weights:
        weighted = float(
            sum(weights[d] * g for d, g in zip(dims["dimension"], dims["gap"], strict=True))
        )
    return ServqualGaps(items, dims, unweighted, weighted, respondents)


def _weights(src: Source, since: date | None, until: date | None) -> dict[str, float]:
    """Mean share (0–1) of the 100 points respondents gave each dimension; {} if none."""
    codes = [f"W_{d}" for d in DIMENSION_ITEMS]
    rows = survey_rows(src, "servqual", items=codes, since=since, until=until)
    check_scale(src, rows, "value", 0, 100, what="servqual weights", integer=False)
    totals = rows.group_by("response_id").aggregate(total=rows.value.sum())
    shares = rows.join(totals, "response_id")
    shares = shares.filter(shares.total > 0)
    raw = run_grouped(
        src,
        shares,
        ["item"],
        share=(shares.value / shares.total).mean(),
    )
    found = {str(r["item"])[2:]: as_number(r["share"]) for _, r in raw.iterrows()}
    if set(found) != set(DIMENSION_ITEMS):
        return {}
    return found
