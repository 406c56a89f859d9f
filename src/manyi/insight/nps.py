"""Net Promoter Score on the 0–10 scale, with its margin of error.

Promoters answer 9–10, passives 7–8, detractors 0–6. With ``p`` and ``d`` the shares of
promoters and detractors among ``n`` answers, NPS = 100 (p − d) and

    Var(p − d) = [p + d − (p − d)²] / n,

so the 95 % margin is 100 × 1.96 × √Var. The change between two independent periods has
variance Var₁ + Var₂.

Examples
--------
>>> from manyi.insight.nps import nps_margin
>>> round(100 * (1/2 - 1/6), 1), round(nps_margin(1/2, 1/6, 400), 1)
(33.3, 7.3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.intervals import Z95, Estimate
from manyi.insight.slicing import add_dimensions, as_number, key_columns, parse_by, run_grouped
from manyi.insight.surveys import survey_rows

if TYPE_CHECKING:
    from manyi.insight.sources import Source


@dataclass(frozen=True)
class NPS:
    """An NPS with its counts; ``score``/``margin`` in points (``None`` when ``n == 0``)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    margin: float | None
    variance: float | None  # of (p - d), on the proportion scale

    @property
    def low(self) -> float | None:
        """Lower end of the 95 % interval."""
        return None if self.score is None or self.margin is None else self.score - self.margin

    @property
    def high(self) -> float | None:
        """Upper end of the 95 % interval."""
        return None if self.score is None or self.margin is None else self.score + self.margin


def nps_margin(p: float, d: float, n: float, z: float = Z95) -> float:
    """Margin of error in NPS points for promoter share ``p``, detractor share ``d``, ``n``.

    Examples
    --------
    >>> from manyi.insight.nps import nps_margin
    >>> round(nps_margin(0.5, 1/6, 400), 2)
    7.3
    """
    if n <= 0:
        raise ValueError("the NPS margin needs n > 0")
    return 100.0 * z * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)


def nps_from_counts(promoters: int, passives: int, detractors: int) -> NPS:
    """NPS and margin from answer counts.

    Examples
    --------
    >>> from manyi.insight.nps import nps_from_counts
    >>> r = nps_from_counts(200, 134, 66)
    >>> round(r.score, 1), round(r.margin, 1)
    (33.5, 7.3)
    """
    n = promoters + passives + detractors
    if min(promoters, passives, detractors) < 0:
        raise ValueError("answer counts cannot be negative")
    if n == 0:
        return NPS(0, 0, 0, 0, None, None, None)
    p, d = promoters / n, detractors / n
    var = (p + d - (p - d) ** 2) / n
    return NPS(n, promoters, passives, detractors, 100 * (p - d), 100 * Z95 * math.sqrt(var), var)


def nps_change(before: NPS, after: NPS) -> Estimate:
    """Change ``after - before`` in points with its 95 % interval (independent samples).

    Examples
    --------
    >>> from manyi.insight.nps import nps_change, nps_from_counts
    >>> ch = nps_change(nps_from_counts(40, 30, 30), nps_from_counts(50, 30, 20))
    >>> round(ch.value, 1), round(ch.high - ch.value, 1)
    (20.0, 22.3)
    """
    if before.score is None or after.score is None:
        return Estimate(None, before.n + after.n)
    assert before.variance is not None
    assert after.variance is not None
    diff = after.score - before.score
    half = 100 * Z95 * math.sqrt(before.variance + after.variance)
    return Estimate(diff, before.n + after.n, diff - half, diff + half)


def compute_nps(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """NPS per slice from the ``nps`` instrument's ``nps`` item.

    Returns
    -------
    pandas.DataFrame
        Key columns, ``n``, ``promoters``, ``passives``, ``detractors``, ``nps``, ``margin``,
        ``low``, ``high``.

    Raises
    ------
    ScaleError
        When an answer is not a whole number in 0–10.
    """
    names = parse_by(by)
    rows = survey_rows(src, "nps", items=["nps"], since=since, until=until, check=(0, 10))
    rows = add_dimensions(src, rows, names, time_column="answered_at")
    keys = key_columns(names)
    v = rows.value
    raw = run_grouped(
        src,
        rows,
        keys,
        promoters=ibis.cases((v >= 9, 1), else_=0).sum(),
        passives=ibis.cases(((v >= 7) & (v <= 8), 1), else_=0).sum(),
        detractors=ibis.cases((v <= 6, 1), else_=0).sum(),
    )
    records = []
    for _, row in raw.iterrows():
        res = nps_from_counts(
            int(as_number(row["promoters"])),
            int(as_number(row["passives"])),
            int(as_number(row["detractors"])),
        )
        rec = {k: row[k] for k in keys}
        rec.update(
            n=res.n,
            promoters=res.promoters,
            passives=res.passives,
            detractors=res.detractors,
            nps=res.score,
            margin=res.margin,
            low=res.low,
            high=res.high,
        )
        records.append(rec)
    cols = [*keys, "n", "promoters", "passives", "detractors", "nps", "margin", "low", "high"]
    return pd.DataFrame.from_records(records, columns=cols)
