"""What went wrong in a campaign, and which reviews, orders and cases to look at.

:func:`find` returns four JSON-ready parts (each ``{"status": "ok" | "no_data", "reason",
...}``):

``delivery_mix``
    the change in the 1–2★ share split (Kitagawa 1955) into a *mix* part — more reviews of
    late or undelivered orders — and a *rate* part — worse ratings at the same delivery status:
    ``Δ = Σ (w₁ − w₀)(r₁ + r₀)/2 + Σ (r₁ − r₀)(w₁ + w₀)/2`` over the statuses on time / late /
    undelivered, with ``w`` the status's share of reviews and ``r`` its 1–2★ share;
``drivers``
    which order factors (delivery days, late, freight share, price, items, category; see
    :mod:`manyi.insight.rating_drivers`) go with a 1–2★ rating in each window: Shapley shares
    of McFadden's pseudo-R² of a logistic model (:class:`manyi.insight.drivers.KeyDriverAnalysis`)
    and the factor's mean in each window — an association, not a proven cause;
``aspects``
    review texts of the two windows (at most ``max_reviews`` each, a deterministic hash sample
    on ``review_id``, stated in the output) through :func:`manyi.text.analyse`: complaints per
    100 reviews by aspect with a two-proportion z-test (BH across aspects), the campaign's top
    complaint phrases (:func:`manyi.text.top_complaints`) and the phrases that became more
    frequent than in the baseline;
``look_at``
    the campaign's 1–2★ reviews with a text (worst first, then the latest deliveries), its late
    orders with a 1–2★ review (latest first), and, with a ``cases`` table, cases opened during
    the campaign that missed an SLA deadline (largest overrun first).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from manyi.insight.monitor import significance as sig
from manyi.insight.monitor.cohort import STATUSES, cohort_orders, cohort_reviews, window_sums
from manyi.insight.sampling import hash_sample

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.monitor.campaign import Campaign
    from manyi.insight.sources import Source
    from manyi.text import ReviewAnalysis

#: Review texts in the look-at list are cut to this many characters.
TEXT_CHARS = 240
#: Fewest rated reviews in a window for a driver model.
MIN_DRIVER_ROWS = 100
#: Fewest 1–2★ reviews in a window for a driver model.
MIN_BAD = 20


def _no_data(en: str, zh: str) -> dict[str, Any]:
    return {"status": "no_data", "reason": {"en": en, "zh": zh}}


def _cut(text: object) -> str:
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text).strip()
    return s if len(s) <= TEXT_CHARS else s[: TEXT_CHARS - 1] + "…"


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


# --- delivery mix ----------------------------------------------------------------------------


def delivery_mix(days: pd.DataFrame, campaign: Campaign) -> dict[str, Any]:
    """Kitagawa split of the change in the 1–2★ share by delivery status."""
    first, last = campaign.baseline_window()
    c = window_sums(days, campaign.start, campaign.end)
    b = window_sums(days, first, last)
    if c["reviews"] == 0 or b["reviews"] == 0:
        return _no_data(
            "No rated orders in one of the windows.", "其中一个时间窗内没有带评分的订单。"
        )
    rows, mix, rate = [], 0.0, 0.0
    for status in STATUSES:
        w1, w0 = c[f"reviews_{status}"] / c["reviews"], b[f"reviews_{status}"] / b["reviews"]
        n1, n0 = c[f"reviews_{status}"], b[f"reviews_{status}"]
        r1 = c[f"bad_{status}"] / n1 if n1 else None
        r0 = b[f"bad_{status}"] / n0 if n0 else None
        # A status with no reviews on one side contributes its mix change at the other's rate.
        r1x, r0x = (r1 if r1 is not None else r0 or 0.0), (r0 if r0 is not None else r1 or 0.0)
        mix += (w1 - w0) * (r1x + r0x) / 2
        rate += (r1x - r0x) * (w1 + w0) / 2
        rows.append(
            {
                "status": status,
                "campaign_reviews": int(n1),
                "campaign_share": w1,
                "campaign_bad_share": r1,
                "baseline_reviews": int(n0),
                "baseline_share": w0,
                "baseline_bad_share": r0,
            }
        )
    bad1, bad0 = c["bad"] / c["reviews"], b["bad"] / b["reviews"]
    return {
        "status": "ok",
        "reason": None,
        "campaign_bad_share": bad1,
        "baseline_bad_share": bad0,
        "change": bad1 - bad0,
        "mix_effect": mix,
        "rate_effect": rate,
        "statuses": rows,
    }


# --- drivers ---------------------------------------------------------------------------------


def _driver_frame(
    src: Source, since: date, until: date, max_orders: int
) -> tuple[pd.DataFrame, int]:
    from manyi.insight.rating_drivers import rating_driver_rows

    rows = rating_driver_rows(src, since=since, until=until, max_orders=max_orders)
    frame = rows.frame.copy()
    frame["price"] = np.log2(1.0 + frame["price"].clip(lower=0))
    frame["low"] = (frame["rating"] <= 2).astype("float64")
    return frame, rows.orders


def _usable(frame: pd.DataFrame, column: str) -> bool:
    values = frame[column].dropna()
    return len(values) >= 0.9 * len(frame) and values.astype(str).nunique() > 1


def rating_drivers(src: Source, campaign: Campaign, *, max_orders: int = 10_000) -> dict[str, Any]:
    """Shapley shares of McFadden's R² for a 1–2★ rating, campaign and baseline side by side."""
    from manyi.insight.drivers import KeyDriverAnalysis
    from manyi.insight.rating_drivers import RATING_DRIVERS

    first, last = campaign.baseline_window()
    frames = {
        "campaign": _driver_frame(src, campaign.start, campaign.end, max_orders),
        "baseline": _driver_frame(src, first, last, max_orders),
    }
    drivers = [d for d in RATING_DRIVERS if all(_usable(frame, d) for frame, _ in frames.values())]
    fits: dict[str, Any] = {}
    for side, (frame, orders) in frames.items():
        data = frame.dropna(subset=["low", *drivers])
        bad = int(data["low"].sum())
        if len(data) < MIN_DRIVER_ROWS or bad < MIN_BAD or not drivers:
            return _no_data(
                f"Too few rated, delivered orders in the {side} to weigh drivers ({len(data)} "
                f"reviews, {bad} with 1–2★; at least {MIN_DRIVER_ROWS} and {MIN_BAD} needed).",
                f"{'活动期' if side == 'campaign' else '基线期'}有评分且已送达的订单太少，无法分析"
                f"驱动因素（{len(data)} 条评价，其中 1–2★ {bad} 条；"
                f"至少需要 {MIN_DRIVER_ROWS} 条和 "
                f"{MIN_BAD} 条）。",
            )
        try:
            kda = KeyDriverAnalysis("logistic").fit(data, "low", drivers)
        except (ValueError, np.linalg.LinAlgError, ArithmeticError) as exc:
            return _no_data(
                f"The driver model did not fit on the {side}: {exc}",
                f"{'活动期' if side == 'campaign' else '基线期'}的驱动因素模型无法拟合：{exc}",
            )
        fits[side] = {
            "kda": kda,
            "rows": len(data),
            "orders": orders,
            "bad": bad,
            "means": {
                d: float(data[d].mean()) for d in drivers if pd.api.types.is_numeric_dtype(data[d])
            },
        }
    table = []
    for driver in drivers:
        row: dict[str, Any] = {"driver": driver}
        for side, fit in fits.items():
            kda = fit["kda"]
            j = kda.drivers_.index(driver)
            row[f"{side}_importance"] = float(kda.importance_[j])
            row[f"{side}_share"] = _plain(float(kda.share_[j]))
            row[f"{side}_mean"] = fit["means"].get(driver)
        table.append(row)
    table.sort(key=lambda r: -float(r["campaign_importance"]))
    return {
        "status": "ok",
        "reason": None,
        "target": "rating <= 2",
        "method": "logistic (Shapley shares of McFadden's pseudo-R²)",
        "max_orders": max_orders,
        "campaign": {k: fits["campaign"][k] for k in ("rows", "orders", "bad")}
        | {"r2": float(fits["campaign"]["kda"].r2_)},
        "baseline": {k: fits["baseline"][k] for k in ("rows", "orders", "bad")}
        | {"r2": float(fits["baseline"]["kda"].r2_)},
        "drivers": table,
    }


# --- aspects ---------------------------------------------------------------------------------


def _texts(
    src: Source, first: date, last: date, max_reviews: int, horizon_days: int | None
) -> tuple[pd.DataFrame, int]:
    rows = cohort_reviews(src, cohort_orders(src, first, last), horizon_days=horizon_days)
    body = rows.body.strip()
    rows = rows.filter(body.notnull() & (body.length() > 0))
    total = int(src.execute(rows.count()))
    picked = hash_sample(rows, "review_id", max_reviews, engine=src.engine)
    frame: pd.DataFrame = src.execute(picked.select("review_id", "rating", "body", "language"))
    return frame.sort_values("review_id", kind="stable", ignore_index=True), total


def _analyse(frame: pd.DataFrame) -> list[ReviewAnalysis]:
    from manyi.text import analyse

    texts = frame["body"].astype(str).tolist()
    given = set(frame["language"].dropna().astype(str))
    lang = given.pop() if len(given) == 1 and frame["language"].notna().all() else "auto"
    try:
        return analyse(texts, lang=lang)
    except ValueError:  # a stated language the models do not know
        return analyse(texts, lang="auto")


def review_aspects(
    src: Source,
    campaign: Campaign,
    *,
    max_reviews: int = 2_000,
    horizon_days: int | None = None,
    phrases: int = 10,
) -> dict[str, Any]:
    """Complaints per review by aspect in both windows, top and rising complaint phrases."""
    from manyi.text import ASPECTS, aspect_summary, top_complaints

    if not src.has("reviews"):
        return _no_data("The source has no reviews.", "数据源没有评价。")
    first, last = campaign.baseline_window()
    frames: dict[str, pd.DataFrame] = {}
    totals: dict[str, int] = {}
    results: dict[str, list[ReviewAnalysis]] = {}
    for side, (since, until) in (
        ("campaign", (campaign.start, campaign.end)),
        ("baseline", (first, last)),
    ):
        frames[side], totals[side] = _texts(src, since, until, max_reviews, horizon_days)
        results[side] = _analyse(frames[side]) if len(frames[side]) else []
    if not results["campaign"] or not results["baseline"]:
        return _no_data(
            "No review with a text in one of the windows.", "其中一个时间窗内没有带文字的评价。"
        )
    summaries = {s: aspect_summary(r) for s, r in results.items()}
    n1, n0 = len(results["campaign"]), len(results["baseline"])
    rows: list[dict[str, Any]] = []
    negatives = {s: summaries[s]["negative"].astype("float64").to_dict() for s in summaries}
    for aspect in ASPECTS:
        k1 = float(negatives["campaign"].get(aspect, 0.0))
        k0 = float(negatives["baseline"].get(aspect, 0.0))
        comp = sig.two_proportions(k1, n1, k0, n0, alternative="two-sided")
        rows.append(
            {
                "aspect": aspect,
                "campaign_negative": int(k1),
                "campaign_per_100": 100 * k1 / n1,
                "baseline_negative": int(k0),
                "baseline_per_100": 100 * k0 / n0,
                "change_per_100": 100 * (k1 / n1 - k0 / n0),
                "p_value": comp.p_value,
            }
        )
    for row, q in zip(rows, sig.benjamini_hochberg([r["p_value"] for r in rows]), strict=True):
        row["q_value"] = q
    texts = frames["campaign"]["body"].astype(str).tolist()
    top = top_complaints(texts, results["campaign"], per_aspect=3, examples=2)
    top["examples"] = [[_cut(e) for e in ex] for ex in top["examples"]]
    counts = {
        s: Counter(
            (m.aspect, m.phrase)
            for r in side_results
            for m in r.aspects
            if m.polarity == "negative"
        )
        for s, side_results in results.items()
    }
    rising: list[dict[str, Any]] = []
    for (aspect, phrase), count in counts["campaign"].items():
        before = counts["baseline"].get((aspect, phrase), 0)
        change = count / n1 - before / n0
        if count >= 2 and change > 0:
            rising.append(
                {
                    "aspect": aspect,
                    "phrase": phrase,
                    "campaign_count": count,
                    "campaign_per_100": 100 * count / n1,
                    "baseline_count": before,
                    "baseline_per_100": 100 * before / n0,
                    "new": before == 0,
                }
            )
    rising.sort(key=lambda r: (-(r["campaign_per_100"] - r["baseline_per_100"]), r["phrase"]))
    return {
        "status": "ok",
        "reason": None,
        "max_reviews": max_reviews,
        "campaign": {"with_text": totals["campaign"], "analysed": n1},
        "baseline": {"with_text": totals["baseline"], "analysed": n0},
        "sample": "deterministic hash sample on review_id when more texts than max_reviews",
        "aspects": rows,
        "top_complaints": _records(top),
        "rising_phrases": rising[:phrases],
    }


# --- what to look at -------------------------------------------------------------------------


def _bad_reviews(src: Source, orders: ir.Table, top: int, horizon_days: int | None) -> list[Any]:
    rows = cohort_reviews(src, orders, horizon_days=horizon_days)
    body = rows.body.strip()
    rows = rows.filter((rows.rating <= 2) & body.notnull() & (body.length() > 0))
    rows = rows.select(
        "review_id", "order_id", "rating", "created_at", "status", "days_late", text=rows.body
    )
    rows = rows.order_by(
        [rows.rating, rows.days_late.desc(nulls_first=False), rows.created_at, rows.review_id]
    ).limit(top)
    frame = src.execute(rows)
    frame["text"] = [_cut(t) for t in frame["text"]]
    return _records(frame)


def _late_bad(src: Source, orders: ir.Table, top: int, horizon_days: int | None) -> list[Any]:
    rows = cohort_reviews(src, orders.filter(orders.status == "late"), horizon_days=horizon_days)
    rows = rows.filter(rows.rating <= 2)
    picked = rows.join(
        orders.select("order_id", "delivered_at", "estimated_delivery_at"), "order_id"
    )
    picked = picked.select(
        "order_id",
        "review_id",
        "rating",
        "days_late",
        "purchased_at",
        "estimated_delivery_at",
        "delivered_at",
    )
    picked = picked.order_by([picked.days_late.desc(), picked.order_id, picked.review_id])
    return _records(src.execute(picked.limit(top)))


def _breached_cases(src: Source, campaign: Campaign, top: int) -> list[Any]:
    import ibis

    from manyi.insight.service import case_rows, data_as_of

    rows = case_rows(src, since=campaign.start, until=campaign.end)
    as_of = data_as_of(src)
    if as_of is None:
        return []
    now = ibis.literal(as_of)

    def overrun(met: ir.TimestampValue, due: ir.TimestampValue) -> ir.FloatingValue:
        end = ibis.coalesce(met, now)
        return ibis.ifelse(
            due.notnull() & (end > due),
            (end.epoch_seconds() - due.epoch_seconds()).cast("float64") / 3600.0,
            ibis.null().cast("float64"),
        )

    rows = rows.mutate(
        first_response_over_h=overrun(rows.first_response_at, rows.first_response_due_at),
        resolution_over_h=overrun(rows.done_at, rows.resolution_due_at),
    )
    worst = ibis.greatest(
        ibis.coalesce(rows.first_response_over_h, 0.0), ibis.coalesce(rows.resolution_over_h, 0.0)
    )
    rows = rows.mutate(hours_over=worst).filter(worst > 0)
    rows = rows.select(
        "case_id",
        "order_id",
        "kind",
        "status",
        "opened_at",
        "first_response_over_h",
        "resolution_over_h",
        "hours_over",
    )
    rows = rows.order_by([rows.hours_over.desc(), rows.case_id]).limit(top)
    return _records(src.execute(rows))


def look_at(
    src: Source, campaign: Campaign, *, top: int = 20, horizon_days: int | None = None
) -> dict[str, Any]:
    """The campaign's reviews, late orders and cases to read first (ids and short texts)."""
    orders = cohort_orders(src, campaign.start, campaign.end)
    out: dict[str, Any] = {"status": "ok", "reason": None, "top": top}
    has_reviews = src.has("reviews")
    out["bad_reviews"] = _bad_reviews(src, orders, top, horizon_days) if has_reviews else []
    out["late_bad_orders"] = _late_bad(src, orders, top, horizon_days) if has_reviews else []
    out["breached_cases"] = _breached_cases(src, campaign, top) if src.has("cases") else None
    return out


def find(
    src: Source,
    campaign: Campaign,
    days: pd.DataFrame,
    *,
    max_reviews: int = 2_000,
    max_orders: int = 10_000,
    top: int = 20,
    horizon_days: int | None = None,
) -> dict[str, Any]:
    """All four parts (see the module docs)."""
    has_reviews = src.has("reviews")
    no_reviews = _no_data("The source has no reviews.", "数据源没有评价。")
    return {
        "delivery_mix": delivery_mix(days, campaign) if has_reviews else no_reviews,
        "drivers": rating_drivers(src, campaign, max_orders=max_orders)
        if has_reviews
        else no_reviews,
        "aspects": review_aspects(
            src, campaign, max_reviews=max_reviews, horizon_days=horizon_days
        ),
        "look_at": look_at(src, campaign, top=top, horizon_days=horizon_days),
    }
