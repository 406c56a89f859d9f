"""CSAT (top-2-box on 1–5) and CES (customer effort, on the scale that was asked).

CSAT is the share of 4–5 answers to the ``csat`` item, with a Wilson 95 % interval.

CES keeps the scale with the score, because the two common wordings are not comparable:

* ``ces_effort_5`` — "How much effort did you personally have to put forth?" 1 (very low) – 5
  (very high): lower is better; ``easy_share`` is the share of 1–2 answers;
* ``ces_agree_7`` — "The company made it easy for me to handle my issue", 1 (strongly disagree)
  – 7 (strongly agree): higher is better; ``easy_share`` is the share of 5–7 answers.

Examples
--------
>>> from manyi.insight.csat import CES_SCALES
>>> CES_SCALES["ces_agree_7"].easy
(5, 7)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.intervals import mean_estimate, proportion
from manyi.insight.slicing import add_dimensions, as_number, key_columns, parse_by, run_grouped
from manyi.insight.surveys import survey_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source


@dataclass(frozen=True)
class CESScale:
    """One CES wording: its range, which answers count as easy and whether lower is better."""

    low: int
    high: int
    easy: tuple[int, int]
    lower_is_better: bool


CES_SCALES = {
    "ces_effort_5": CESScale(1, 5, (1, 2), lower_is_better=True),
    "ces_agree_7": CESScale(1, 7, (5, 7), lower_is_better=False),
}


def _summarise(src: Source, rows: ir.Table, keys: list[str], good: ir.BooleanValue) -> pd.DataFrame:
    v = rows.value
    raw = run_grouped(
        src,
        rows,
        keys,
        n=rows.count(),
        good=ibis.cases((good, 1), else_=0).sum(),
        total=v.sum(),
        total_sq=(v * v).sum(),
    )
    records = []
    for _, row in raw.iterrows():
        n = as_number(row["n"])
        share = proportion(as_number(row["good"]), n)
        mean = mean_estimate(as_number(row["total"]), as_number(row["total_sq"]), n)
        rec = {k: row[k] for k in keys}
        rec.update(
            n=int(n),
            good=int(as_number(row["good"])),
            share=share.value,
            share_low=share.low,
            share_high=share.high,
            mean=mean.value,
            mean_low=mean.low,
            mean_high=mean.high,
        )
        records.append(rec)
    cols = [*keys, "n", "good", "share", "share_low", "share_high", "mean", "mean_low"]
    return pd.DataFrame.from_records(records, columns=[*cols, "mean_high"])


def compute_csat(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """CSAT top-2-box per slice from the ``csat`` instrument's ``csat`` item (1–5).

    Returns
    -------
    pandas.DataFrame
        Key columns, ``n``, ``satisfied``, ``csat`` (+ ``csat_low``/``csat_high``, Wilson 95 %),
        ``mean`` (+ ``mean_low``/``mean_high``).
    """
    names = parse_by(by)
    rows = survey_rows(src, "csat", items=["csat"], since=since, until=until, check=(1, 5))
    rows = add_dimensions(src, rows, names, time_column="answered_at")
    keys = key_columns(names)
    out = _summarise(src, rows, keys, rows.value >= 4)
    return out.rename(
        columns={"good": "satisfied", "share": "csat", "share_low": "csat_low"}
    ).rename(columns={"share_high": "csat_high"})


def compute_ces(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """CES per scale asked and per slice.

    Returns
    -------
    pandas.DataFrame
        ``scale`` (the instrument), key columns, ``n``, ``easy``, ``easy_share`` (+ ``_low`` /
        ``_high``), ``mean`` (+ ``mean_low``/``mean_high``), ``lower_is_better``.
    """
    names = parse_by(by)
    keys = key_columns(names)
    frames = []
    for scale_name, scale in CES_SCALES.items():
        rows = survey_rows(
            src, scale_name, items=["ces"], since=since, until=until, check=(scale.low, scale.high)
        )
        rows = add_dimensions(src, rows, names, time_column="answered_at")
        easy = (rows.value >= scale.easy[0]) & (rows.value <= scale.easy[1])
        part = _summarise(src, rows, keys, easy)
        part = part[part["n"] > 0]
        if part.empty:
            continue
        part.insert(0, "scale", scale_name)
        part["lower_is_better"] = scale.lower_is_better
        frames.append(part)
    cols = ["scale", *keys, "n", "easy", "easy_share", "easy_share_low", "easy_share_high"]
    cols += ["mean", "mean_low", "mean_high", "lower_is_better"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).rename(
        columns={
            "good": "easy",
            "share": "easy_share",
            "share_low": "easy_share_low",
            "share_high": "easy_share_high",
        }
    )
    return out[cols]
