"""The post-campaign review (复盘): the campaign against its baseline on every metric.

:func:`review_campaign` compares the orders placed during a campaign (Black Friday, Double 11,
618) with those placed in a baseline window (default: the four weeks before it) — see
:mod:`manyi.insight.monitor.cohort` for why by purchase date — and returns a
:class:`CampaignReview`: one row per metric with both values and their intervals, the effect and
its 95 % interval, the test that fits the metric, its p-value and the Benjamini–Hochberg q-value
across all metrics; then what went wrong (delivery mix, drivers of 1–2★ ratings, review-text
aspects and new complaint phrases) and the reviews, orders and cases to look at
(:mod:`manyi.insight.monitor.findings`). ``to_dict()`` is the JSON document (keys in
``docs/monitor.md``), ``to_html(lang)`` the offline page.

==============================  =========================================  ====================
metric                          definition (orders placed in the window)   test
==============================  =========================================  ====================
``orders_per_day``              orders / days                              quasi-Poisson rate
                                                                           (φ from the
                                                                           baseline's days)
``late_share``                  delivered after the promised date          two-proportion z
``delivery_days``               purchase → delivery, days                  Welch t
``mean_rating``                 stars of the orders' reviews               Welch t
``bad_review_share``            1–2★ share of those reviews                two-proportion z
``good_review_rate``            4–5★ share                                 two-proportion z
``complaints_per_1000_orders``  (complaint cases + 1–2★ reviews) per        Poisson rate, orders
                                1,000 orders                               as exposure
``cases_per_1000_orders``       cases *opened* in the window per 1,000     Poisson rate
                                orders placed in it
``first_response_hours``,       calendar hours, cases opened in the window Welch t
``resolution_hours``
``sla_first_response``,         share of judged deadlines met              two-proportion z
``sla_resolution``
``return_rate``                 delivered orders with a return/refund case two-proportion z
``csat``, ``nps``               survey answers given in the window         z; NPS z
==============================  =========================================  ====================

Service rows need a ``cases`` table, survey rows survey answers; absent rows are left out.

Examples
--------
>>> from datetime import date
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.monitor.campaign import review_campaign
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> review = review_campaign(src, date(2017, 11, 24), date(2017, 11, 27), max_reviews=200)
>>> row = review.metric("orders_per_day")
>>> row["baseline"]["value"] < row["campaign"]["value"], review.campaign.baseline_window()
(True, (datetime.date(2017, 10, 27), datetime.date(2017, 11, 23)))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from scipy import stats

from manyi.insight.errors import InsightError
from manyi.insight.intervals import Z95, mean_estimate, proportion
from manyi.insight.monitor import significance as sig
from manyi.insight.monitor.cohort import cohort_days, latest_instant, window_sums
from manyi.insight.nps import nps_from_counts

if TYPE_CHECKING:
    from manyi.insight.sources import Source

REVIEW_VERSION = 1
#: Default length of the baseline, in days before the campaign.
BASELINE_DAYS = 28
#: Default FDR level of the "significant" flag.
FDR = 0.05


@dataclass(frozen=True)
class Campaign:
    """A promotion: a name, its shop-local days and the baseline it is judged against.

    Parameters
    ----------
    name
        Shown in the review and the live view ("Black Friday 2017", "双 11").
    start, end
        First and last shop-local day (inclusive).
    baseline_start, baseline_end
        The baseline days (default: the 28 days before ``start``).

    Examples
    --------
    >>> from datetime import date
    >>> from manyi.insight.monitor.campaign import Campaign
    >>> c = Campaign("双 11", date(2026, 11, 11), date(2026, 11, 11))
    >>> c.baseline_window()
    (datetime.date(2026, 10, 14), datetime.date(2026, 11, 10))
    >>> Campaign.from_dict(c.to_dict()).baseline_window() == c.baseline_window()
    True
    """

    name: str
    start: date
    end: date
    baseline_start: date | None = None
    baseline_end: date | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InsightError(f"the campaign starts on {self.start} after it ends on {self.end}")
        first, last = self.baseline_window()
        if first > last:
            raise InsightError(f"the baseline starts on {first} after it ends on {last}")
        if first <= self.end and last >= self.start:
            raise InsightError("the baseline overlaps the campaign")

    def baseline_window(self) -> tuple[date, date]:
        """``(first, last)`` day of the baseline."""
        last = self.baseline_end or self.start - timedelta(days=1)
        first = self.baseline_start or last - timedelta(days=BASELINE_DAYS - 1)
        return first, last

    @property
    def days(self) -> int:
        """Days in the campaign."""
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ISO dates; the baseline resolved)."""
        first, last = self.baseline_window()
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "baseline_start": first.isoformat(),
            "baseline_end": last.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Campaign:
        """Inverse of :meth:`to_dict`."""

        def day(key: str) -> date | None:
            value = data.get(key)
            return None if value in (None, "") else date.fromisoformat(str(value))

        start, end = day("start"), day("end")
        if start is None or end is None:
            raise InsightError("a campaign needs a start and an end")
        return cls(
            str(data.get("name") or ""), start, end, day("baseline_start"), day("baseline_end")
        )


# --- one metric row --------------------------------------------------------------------------


def _est(
    value: float | None, n: float, low: float | None = None, high: float | None = None
) -> dict[str, Any]:
    return {"value": value, "n": int(n), "low": low, "high": high}


def _row(
    metric: str,
    kind: str,
    unit: str,
    worse: str,
    en: str,
    zh: str,
    campaign: dict[str, Any],
    baseline: dict[str, Any],
    comp: sig.Comparison,
    *,
    scale: float = 1.0,
) -> dict[str, Any]:
    def scaled(v: float | None) -> float | None:
        return None if v is None else v * scale

    return {
        "metric": metric,
        "kind": kind,
        "unit": unit,
        "worse": worse,
        "title": {"en": en, "zh": zh},
        "campaign": campaign,
        "baseline": baseline,
        "effect": scaled(comp.effect),
        "effect_low": scaled(comp.low),
        "effect_high": scaled(comp.high),
        "ratio": comp.ratio,
        "ratio_low": comp.ratio_low,
        "ratio_high": comp.ratio_high,
        "test": comp.test,
        "statistic": comp.statistic,
        "p_value": comp.p_value,
        "dispersion": comp.dispersion,
    }


def _proportion_row(
    metric: str, en: str, zh: str, worse: str, k1: float, n1: float, k0: float, n0: float
) -> dict[str, Any]:
    c, b = proportion(k1, n1), proportion(k0, n0)
    comp = sig.two_proportions(k1, n1, k0, n0)
    return _row(
        metric, "proportion", "share", worse, en, zh,
        _est(c.value, n1, c.low, c.high), _est(b.value, n0, b.low, b.high), comp,
    )  # fmt: skip


def _mean_row(
    metric: str,
    en: str,
    zh: str,
    worse: str,
    unit: str,
    cur: tuple[float, float, float],
    base: tuple[float, float, float],
) -> dict[str, Any]:
    (t1, q1, n1), (t0, q0, n0) = cur, base
    c, b = mean_estimate(t1, q1, n1), mean_estimate(t0, q0, n0)

    def sd(t: float, q: float, n: float) -> float:
        return math.sqrt(max(0.0, (q - t * t / n) / (n - 1))) if n >= 2 else 0.0

    comp = sig.welch(
        c.value if c.value is not None else math.nan, sd(t1, q1, n1), n1,
        b.value if b.value is not None else math.nan, sd(t0, q0, n0), n0,
    )  # fmt: skip
    return _row(
        metric, "mean", unit, worse, en, zh,
        _est(c.value, n1, c.low, c.high), _est(b.value, n0, b.low, b.high), comp,
    )  # fmt: skip


def _garwood(k: float) -> tuple[float, float]:
    low = 0.0 if k == 0 else float(stats.chi2.ppf(0.025, 2 * k)) / 2
    return low, float(stats.chi2.ppf(0.975, 2 * k + 2)) / 2


def _per_thousand_row(
    metric: str, en: str, zh: str, k1: float, e1: float, k0: float, e0: float
) -> dict[str, Any]:
    def est(k: float, e: float) -> dict[str, Any]:
        if e <= 0:
            return _est(None, 0)
        low, high = _garwood(k)
        return _est(1000 * k / e, e, 1000 * low / e, 1000 * high / e)

    comp = sig.poisson_rates(k1, e1, k0, e0)
    return _row(
        metric, "rate", "per_1000", "up", en, zh, est(k1, e1), est(k0, e0), comp, scale=1000.0
    )


def _orders_row(days: pd.DataFrame, campaign: Campaign) -> dict[str, Any]:
    first, last = campaign.baseline_window()
    mask = (days["day"] >= pd.Timestamp(first)) & (days["day"] <= pd.Timestamp(last))
    base_days = days.loc[mask, "orders"].to_numpy()
    cmask = (days["day"] >= pd.Timestamp(campaign.start)) & (
        days["day"] <= pd.Timestamp(campaign.end)
    )
    k1, k0 = float(days.loc[cmask, "orders"].sum()), float(base_days.sum())
    t1, t0 = float(campaign.days), float(len(base_days))
    phi = sig.count_dispersion(base_days.tolist())

    def est(k: float, t: float) -> dict[str, Any]:
        half = Z95 * math.sqrt(phi * k)
        return _est(k / t, k, max(0.0, (k - half) / t), (k + half) / t)

    comp = sig.poisson_rates(k1, t1, k0, t0, dispersion=phi)
    return _row(
        "orders_per_day", "count", "count", "both", "Orders per day", "日均订单",
        est(k1, t1), est(k0, t0), comp,
    )  # fmt: skip


def _cohort_rows(days: pd.DataFrame, campaign: Campaign) -> list[dict[str, Any]]:
    first, last = campaign.baseline_window()
    c = window_sums(days, campaign.start, campaign.end)
    b = window_sums(days, first, last)
    rows = [_orders_row(days, campaign)]
    rows.append(
        _proportion_row(
            "late_share", "Late deliveries", "延迟送达占比", "up",
            c["late"], c["delivered"], b["late"], b["delivered"],
        )
    )  # fmt: skip
    rows.append(
        _mean_row(
            "delivery_days", "Delivery time (days)", "配送时长（天）", "up", "days",
            (c["delivery_days_sum"], c["delivery_days_sq"], c["delivered"]),
            (b["delivery_days_sum"], b["delivery_days_sq"], b["delivered"]),
        )
    )  # fmt: skip
    if c["reviews"] + b["reviews"] > 0:
        rows.append(
            _mean_row(
                "mean_rating", "Mean rating", "平均评分", "down", "stars",
                (c["rating_sum"], c["rating_sq"], c["reviews"]),
                (b["rating_sum"], b["rating_sq"], b["reviews"]),
            )
        )  # fmt: skip
        rows.append(
            _proportion_row(
                "bad_review_share", "1–2★ share", "差评（1–2★）占比", "up",
                c["bad"], c["reviews"], b["bad"], b["reviews"],
            )
        )  # fmt: skip
        rows.append(
            _proportion_row(
                "good_review_rate", "Good-review rate", "好评率", "down",
                c["good"], c["reviews"], b["good"], b["reviews"],
            )
        )  # fmt: skip
    rows.append(
        _per_thousand_row(
            "complaints_per_1000_orders", "Complaints per 1,000 orders", "每千单投诉",
            c["bad"] + c["complaint_cases"], c["orders"],
            b["bad"] + b["complaint_cases"], b["orders"],
        )
    )  # fmt: skip
    return rows


def _service_rows(
    src: Source, campaign: Campaign, orders: tuple[float, float]
) -> list[dict[str, Any]]:
    from manyi.insight.service import case_rows, return_rate, sla_attainment

    first, last = campaign.baseline_window()
    windows = ((campaign.start, campaign.end), (first, last))
    sums = []
    for since, until in windows:
        rows = case_rows(src, since=since, until=until)
        fr, rs = rows.first_response_h, rows.resolution_h
        sums.append(
            src.execute(
                rows.aggregate(
                    cases=rows.count(),
                    fr_n=fr.count(),
                    fr_sum=fr.sum(),
                    fr_sq=(fr * fr).sum(),
                    rs_n=rs.count(),
                    rs_sum=rs.sum(),
                    rs_sq=(rs * rs).sum(),
                )
            )
            .iloc[0]
            .fillna(0.0)
        )
    (c, b), (oc, ob) = sums, orders
    out = [
        _per_thousand_row(
            "cases_per_1000_orders", "Cases per 1,000 orders", "每千单工单",
            float(c["cases"]), oc, float(b["cases"]), ob,
        ),
        _mean_row(
            "first_response_hours", "First response (hours)", "首次响应（小时）", "up", "hours",
            (float(c["fr_sum"]), float(c["fr_sq"]), float(c["fr_n"])),
            (float(b["fr_sum"]), float(b["fr_sq"]), float(b["fr_n"])),
        ),
        _mean_row(
            "resolution_hours", "Resolution (hours)", "解决时长（小时）", "up", "hours",
            (float(c["rs_sum"]), float(c["rs_sq"]), float(c["rs_n"])),
            (float(b["rs_sum"]), float(b["rs_sq"]), float(b["rs_n"])),
        ),
    ]  # fmt: skip
    sla = [sla_attainment(src, since=s, until=u).iloc[0] for s, u in windows]
    for clock, en, zh in (
        ("first_response", "SLA met: first response", "首次响应 SLA 达成率"),
        ("resolution", "SLA met: resolution", "解决 SLA 达成率"),
    ):
        out.append(
            _proportion_row(
                f"sla_{clock}", en, zh, "down",
                float(sla[0][f"{clock}_met"]), float(sla[0][f"{clock}_due"]),
                float(sla[1][f"{clock}_met"]), float(sla[1][f"{clock}_due"]),
            )
        )  # fmt: skip
    returns = [return_rate(src, since=s, until=u) for s, u in windows]
    if all(len(r) for r in returns):
        rc, rb = returns[0].iloc[0], returns[1].iloc[0]
        out.append(
            _proportion_row(
                "return_rate", "Return rate", "退货退款率", "up",
                float(rc["returned"]), float(rc["orders"]),
                float(rb["returned"]), float(rb["orders"]),
            )
        )  # fmt: skip
    return out


def _survey_rows(src: Source, campaign: Campaign) -> list[dict[str, Any]]:
    from manyi.insight.csat import compute_csat
    from manyi.insight.nps import compute_nps
    from manyi.insight.surveys import has_surveys

    first, last = campaign.baseline_window()
    windows = ((campaign.start, campaign.end), (first, last))
    out = []
    if has_surveys(src, "csat"):
        c, b = (compute_csat(src, since=s, until=u).iloc[0] for s, u in windows)
        out.append(
            _proportion_row(
                "csat", "CSAT", "CSAT 满意度", "down",
                float(c["satisfied"]), float(c["n"]), float(b["satisfied"]), float(b["n"]),
            )
        )  # fmt: skip
    if has_surveys(src, "nps"):
        c, b = (compute_nps(src, since=s, until=u).iloc[0] for s, u in windows)
        counts = [(int(r["promoters"]), int(r["passives"]), int(r["detractors"])) for r in (c, b)]
        scores = [nps_from_counts(*x) for x in counts]
        comp = sig.nps_difference(
            counts[0][0], counts[0][2], scores[0].n, counts[1][0], counts[1][2], scores[1].n
        )
        out.append(
            _row(
                "nps", "nps", "points", "down", "NPS", "NPS 净推荐值",
                _est(scores[0].score, scores[0].n, scores[0].low, scores[0].high),
                _est(scores[1].score, scores[1].n, scores[1].low, scores[1].high),
                comp,
            )
        )  # fmt: skip
    return out


def _verdict(row: dict[str, Any], fdr: float) -> str:
    q, effect = row.get("q_value"), row.get("effect")
    if q is None or effect is None or q > fdr or effect == 0:
        return "no_change"
    if row["worse"] == "both":
        return "up" if effect > 0 else "down"
    bad = effect > 0 if row["worse"] == "up" else effect < 0
    return "worse" if bad else "better"


def compare_metrics(
    src: Source,
    campaign: Campaign,
    days: pd.DataFrame,
    *,
    fdr: float = FDR,
) -> list[dict[str, Any]]:
    """One row per metric (see the module docs), with BH q-values and a verdict.

    ``verdict`` is ``worse`` / ``better`` (significant at ``fdr``, in the metric's bad / good
    direction), ``up`` / ``down`` (orders) or ``no_change``.
    """
    rows = _cohort_rows(days, campaign)
    first, last = campaign.baseline_window()
    orders = (
        window_sums(days, campaign.start, campaign.end)["orders"],
        window_sums(days, first, last)["orders"],
    )
    if src.has("cases"):
        rows += _service_rows(src, campaign, orders)
    if src.has("survey_responses") and src.has("survey_answers"):
        rows += _survey_rows(src, campaign)
    q_values = sig.benjamini_hochberg([r["p_value"] for r in rows])
    for row, q in zip(rows, q_values, strict=True):
        row["q_value"] = q
        row["significant"] = q is not None and q <= fdr
        row["verdict"] = _verdict(row, fdr)
    return rows


# --- the review ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignReview:
    """The post-campaign review.

    Attributes
    ----------
    campaign
        The campaign and its baseline.
    metrics
        One dict per metric: ``metric``, ``kind``, ``unit``, ``worse``, ``title``,
        ``campaign`` and ``baseline`` (``{"value", "n", "low", "high"}``), ``effect`` (campaign
        − baseline) with ``effect_low``/``effect_high``, ``ratio`` (+ ``_low``, ``_high``),
        ``test``, ``statistic``, ``p_value``, ``q_value``, ``significant``, ``verdict``.
    daily
        :func:`~manyi.insight.monitor.cohort.cohort_days` over the baseline's first to the
        campaign's last day.
    findings
        What went wrong and what to look at (:func:`manyi.insight.monitor.findings.find`),
        JSON-ready.
    source, engine, timezone, as_of
        Where the figures come from and the data's latest instant (ISO 8601, UTC).
    options
        ``fdr``, ``max_reviews``, ``max_orders``, ``horizon_days``, ``top``.
    """

    campaign: Campaign
    metrics: list[dict[str, Any]]
    daily: pd.DataFrame
    findings: dict[str, Any]
    source: str = ""
    engine: str = "duckdb"
    timezone: str = "UTC"
    as_of: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    generated_at: str = ""

    def metric(self, name: str) -> dict[str, Any]:
        """The row of metric ``name``."""
        for row in self.metrics:
            if row["metric"] == name:
                return row
        raise KeyError(name)

    def metrics_frame(self) -> pd.DataFrame:
        """The metric rows flattened into a DataFrame (``campaign_value``, ``baseline_n``, ...)."""
        records = []
        for row in self.metrics:
            flat = {k: v for k, v in row.items() if k not in ("campaign", "baseline", "title")}
            flat["title"] = row["title"]["en"]
            for side in ("campaign", "baseline"):
                for key, value in row[side].items():
                    flat[f"{side}_{key}"] = value
            records.append(flat)
        return pd.DataFrame.from_records(records)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (keys documented in ``docs/monitor.md``)."""
        from manyi.insight.monitor.review_doc import review_document

        return review_document(self)

    def to_html(self, lang: str = "zh", *, include_plotlyjs: bool = True) -> str:
        """The self-contained, offline HTML page in ``lang`` (``zh`` or ``en``)."""
        from manyi.insight.monitor.review_html import render_review

        return render_review(self.to_dict(), lang=lang, include_plotlyjs=include_plotlyjs)


def review_campaign(
    src: Source,
    campaign_start: date,
    campaign_end: date,
    baseline_start: date | None = None,
    baseline_end: date | None = None,
    *,
    name: str = "",
    fdr: float = FDR,
    max_reviews: int = 2_000,
    max_orders: int = 10_000,
    horizon_days: int | None = None,
    top: int = 20,
) -> CampaignReview:
    """Compare the campaign's orders with the baseline's on every metric; say what went wrong.

    Parameters
    ----------
    src
        The source (orders required; reviews, cases and surveys used when present).
    campaign_start, campaign_end
        Shop-local days of the campaign (inclusive).
    baseline_start, baseline_end
        The baseline (default: the 28 days before the campaign).
    name
        The campaign's name for the page.
    fdr
        Benjamini–Hochberg level for the ``significant`` flag across metrics.
    max_reviews
        Most review texts analysed per window (a deterministic hash sample on ``review_id``).
    max_orders
        Most orders per window behind the drivers of 1–2★ ratings (hash sample).
    horizon_days
        Count only reviews written within this many days of the purchase (equal follow-up).
    top
        How many reviews, orders and cases to list to look at.

    Raises
    ------
    InsightError
        A window that ends before it starts, or a baseline overlapping the campaign.
    """
    from manyi.insight.monitor.findings import find

    if not 0 < fdr < 1:
        raise InsightError("fdr must lie between 0 and 1")
    campaign = Campaign(name, campaign_start, campaign_end, baseline_start, baseline_end)
    first, last = campaign.baseline_window()
    span_first, span_last = min(first, campaign.start), max(last, campaign.end)
    days = cohort_days(src, span_first, span_last, horizon_days=horizon_days)
    metrics = compare_metrics(src, campaign, days, fdr=fdr)
    findings = find(
        src, campaign, days, max_reviews=max_reviews, max_orders=max_orders, top=top,
        horizon_days=horizon_days,
    )  # fmt: skip
    latest = latest_instant(src)
    return CampaignReview(
        campaign=campaign,
        metrics=metrics,
        daily=days,
        findings=findings,
        source=src.spec,
        engine=src.engine,
        timezone=src.timezone,
        as_of=None if latest is None else latest.isoformat(),
        options={
            "fdr": fdr,
            "max_reviews": max_reviews,
            "max_orders": max_orders,
            "horizon_days": horizon_days,
            "top": top,
        },
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
