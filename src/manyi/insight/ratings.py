"""Review ratings: count, mean, distribution 1–5 and the good-review rate.

The good-review rate follows the Taobao convention (good 4–5★, neutral 3★, bad 1–2★); the bands
are configurable with :class:`RatingBands`. Ratings outside 1–5 are rejected with
:class:`~manyi.insight.errors.ScaleError`; a missing rating is left out and counted in
``n_missing``.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> from manyi.insight.ratings import rating_summary
>>> row = rating_summary(src).iloc[0]
>>> int(row.n), round(float(row["mean"]), 2), round(float(row["good_rate"]), 3)
(2980, 4.08, 0.766)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.errors import InsightError, ScaleError
from manyi.insight.intervals import mean_estimate, proportion
from manyi.insight.slicing import (
    PERIODS,
    add_dimensions,
    as_number,
    between,
    key_columns,
    parse_by,
    run_grouped,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

STARS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RatingBands:
    """Which star ratings count as good, neutral and bad (inclusive ranges)."""

    good: tuple[int, int] = (4, 5)
    neutral: tuple[int, int] = (3, 3)
    bad: tuple[int, int] = (1, 2)

    def __post_init__(self) -> None:
        covered = sorted(
            s for lo, hi in (self.good, self.neutral, self.bad) for s in range(lo, hi + 1)
        )
        if covered != list(STARS):
            raise ValueError(f"the bands must cover 1-5 exactly once; they cover {covered}")


def review_rows(src: Source, *, since: date | None = None, until: date | None = None) -> ir.Table:
    """The reviews with ``channel`` (= ``source``), limited to shop-local dates [since, until]."""
    reviews = src.table("reviews")
    reviews = reviews.mutate(channel=reviews.source)
    return reviews.filter(between(src, reviews.created_at, since, until))


def check_scale(
    src: Source,
    table: ir.Table,
    column: str,
    low: float,
    high: float,
    *,
    what: str,
    integer: bool = True,
) -> None:
    """Raise :class:`ScaleError` naming the first offending rows when values leave [low, high].

    Parameters
    ----------
    what
        How to name the column in the message, e.g. ``"reviews.rating"``.
    integer
        Also reject values between the scale points (4.5 on a 1–5 star scale).
    """
    # A check passes once per source and rows (the same table, filter and column): ratings by
    # month, region and category, delivery, DSR and repeat purchase all check the reviews.
    key = ("check_scale", table.op(), column, low, high, integer)
    if key in src.passed_checks:
        return
    value = table[column]
    outside = (value < low) | (value > high)
    if integer:
        outside = outside | (value.cast("float64") != value.cast("float64").round())
    outside = value.notnull() & outside
    bad = table.filter(outside)
    count = int(src.execute(bad.count()))
    if count == 0:
        src.passed_checks.add(key)
        return
    sample = src.execute(bad.limit(3))
    ids = [c for c in ("review_id", "response_id", "order_id", "item") if c in sample.columns]
    shown = "; ".join(
        ", ".join(f"{c}={row[c]}" for c in ids) + f" has {row[column]}"
        for _, row in sample.iterrows()
    )
    raise ScaleError(
        f"{what} must be {'a whole number ' if integer else ''}in {low:g}–{high:g}: "
        f"{count} value(s) outside the scale ({shown})"
    )


def rating_summary(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    bands: RatingBands | None = None,
    table: ir.Table | None = None,
) -> pd.DataFrame:
    """Count, mean (t interval), distribution and good/neutral/bad rates of review ratings.

    Parameters
    ----------
    src
        The source.
    by
        Dimensions to slice by (see :mod:`manyi.insight.slicing`); none gives one row.
    since, until
        Shop-local review dates to keep (inclusive).
    bands
        The good/neutral/bad bands (default 4–5 / 3 / 1–2).
    table
        Review rows to use instead of the source's reviews (columns as ``reviews`` plus
        ``channel``).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``n``, ``n_missing``, ``mean``, ``mean_low``, ``mean_high``,
        ``n_1``..``n_5``, ``share_1``..``share_5``, ``good``, ``neutral``, ``bad``,
        ``good_rate`` (with ``good_rate_low``/``_high``, Wilson 95 %), ``neutral_rate``,
        ``bad_rate`` (with ``bad_rate_low``/``_high``).

    Raises
    ------
    ScaleError
        When a rating lies outside 1–5.
    """
    names = parse_by(by)
    keys = key_columns(names)
    return _finish(_rating_counts(src, names, since, until, bands, table), keys)


def rating_summary_with_overall(
    src: Source,
    *,
    by: str | Sequence[str],
    since: date | None = None,
    until: date | None = None,
    bands: RatingBands | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(rating_summary(src), rating_summary(src, by=by))`` from one query on the reviews.

    Only for dimensions that neither add nor drop review rows (a period, ``channel``): the
    overall counts and sums are then the sums of the groups' (ratings are whole numbers, so the
    sums of ratings and of their squares are exact in any order).

    Raises
    ------
    InsightError
        For a dimension that joins other tables (seller, category, region, ...).
    """
    names = parse_by(by)
    joined = [n for n in names if n not in PERIODS and n != "channel"]
    if joined:
        raise InsightError(f"the overall row is not the sum of groups by {joined}")
    raw = _rating_counts(src, names, since, until, bands, None)
    keys = key_columns(names)
    counts = [c for c in raw.columns if c not in keys]
    total = pd.DataFrame([{c: sum(as_number(v) for v in raw[c]) for c in counts}])
    return _finish(total, []), _finish(raw, keys)


def _rating_counts(
    src: Source,
    names: Sequence[str],
    since: date | None,
    until: date | None,
    bands: RatingBands | None,
    table: ir.Table | None,
) -> pd.DataFrame:
    """Counts and sums of the ratings per group of dimensions ``names`` (see rating_summary)."""
    bands = bands or RatingBands()
    rows = table if table is not None else review_rows(src, since=since, until=until)
    check_scale(src, rows, "rating", 1, 5, what="reviews.rating")
    rows = add_dimensions(src, rows, names, time_column="created_at")
    keys = key_columns(names)
    r = rows.rating
    present = r.notnull()

    def count_where(cond: ir.BooleanValue) -> ir.IntegerScalar:
        return ibis.cases((cond, 1), else_=0).sum()

    aggs: dict[str, ir.Scalar] = {
        "n": count_where(present),
        "n_missing": count_where(r.isnull()),
        "total": r.cast("float64").sum(),
        "total_sq": (r.cast("float64") * r.cast("float64")).sum(),
    }
    for star in STARS:
        aggs[f"n_{star}"] = count_where(r == star)
    for band in ("good", "neutral", "bad"):
        lo, hi = getattr(bands, band)
        aggs[band] = count_where((r >= lo) & (r <= hi))
    return run_grouped(src, rows, keys, **aggs)


def _finish(raw: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    records = []
    for _, row in raw.iterrows():
        n = int(as_number(row["n"]))
        mean = mean_estimate(as_number(row["total"]), as_number(row["total_sq"]), n)
        rec: dict[str, object] = {k: row[k] for k in keys}
        rec.update(
            n=n,
            n_missing=int(as_number(row["n_missing"])),
            mean=mean.value,
            mean_low=mean.low,
            mean_high=mean.high,
        )
        for star in STARS:
            count = int(as_number(row[f"n_{star}"]))
            rec[f"n_{star}"] = count
            rec[f"share_{star}"] = count / n if n else None
        for band in ("good", "neutral", "bad"):
            count = int(as_number(row[band]))
            est = proportion(count, n)
            rec[band] = count
            rec[f"{band}_rate"] = est.value
            if band != "neutral":
                rec[f"{band}_rate_low"] = est.low
                rec[f"{band}_rate_high"] = est.high
        records.append(rec)
    columns = [*keys, "n", "n_missing", "mean", "mean_low", "mean_high"]
    columns += [f"n_{s}" for s in STARS] + [f"share_{s}" for s in STARS]
    columns += ["good", "neutral", "bad", "good_rate", "good_rate_low", "good_rate_high"]
    columns += ["neutral_rate", "bad_rate", "bad_rate_low", "bad_rate_high"]
    return pd.DataFrame.from_records(records, columns=columns)
