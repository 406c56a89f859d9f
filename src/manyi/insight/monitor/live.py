"""Promotion mode: the numbers of the live view, refreshed every few seconds during a campaign.

:func:`live_snapshot` returns, for a :class:`~manyi.insight.monitor.campaign.Campaign` at
instant ``now``:

``hours``
    the last ``hours`` hours (shop-local): orders, cases opened and complaints (complaint cases
    not opened from a review + 1–2★ reviews) per hour against the baseline's expectation for
    that hour of the day (mean count at that hour over the baseline days) with its Poisson 95 %
    interval; the current hour is compared with the expectation for the part already gone;
``sla``
    open cases whose pending first-response or resolution deadline has passed (``breached``)
    or falls within ``risk_hours`` (``at_risk``), from the cases' due instants (the desk writes
    them with its business calendar), with the case ids soonest first;
``satisfaction``
    reviews written on each campaign day so far: count, mean rating, 1–2★ share (Wilson 95 %),
    against the baseline's;
``topics``
    review texts written since the campaign started (at most ``max_reviews``, deterministic
    sample) through :func:`manyi.text.analyse`: complaints per 100 reviews by aspect and the
    complaint phrases more frequent than in the baseline;
``surge``
    a queue projection from the last ``lookback_hours``: arrivals and cases finished per hour,
    open cases, hours until the open cases exceed ``capacity`` (if given), which open cases
    will miss their next deadline when handled soonest-due first at the current pace, and the
    case kinds/reasons arriving more often than in the baseline (the desk maps them to its
    macros).

Without a ``cases`` table (Olist) ``sla`` and ``surge`` are ``None`` and the hours carry orders
and complaints only.

The baseline does not change during a campaign: compute it once with
:func:`baseline_profile` and pass it as ``profile`` on every refresh (the live part is then a
handful of small queries over the last day).

Examples
--------
>>> from datetime import date, datetime
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.monitor.campaign import Campaign
>>> from manyi.insight.monitor.live import live_snapshot
>>> src = open_source(f"olist:{sample_path('olist')}")
>>> bf = Campaign("Black Friday", date(2017, 11, 24), date(2017, 11, 27))
>>> snap = live_snapshot(src, bf, datetime(2017, 11, 24, 15, 30))
>>> len(snap.hours), snap.sla is None
(24, True)
"""

from __future__ import annotations

import math
import time as clock
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from manyi.insight.errors import InsightError
from manyi.insight.intervals import proportion
from manyi.insight.monitor.series import metric_series, supports, windowed
from manyi.insight.sampling import hash_sample

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.monitor.campaign import Campaign
    from manyi.insight.sources import Source

#: Counts shown per hour, when the source has what they need.
HOURLY = ("orders", "cases_opened", "complaints")
#: The parts of a snapshot; a refresh may ask for a few (``parts=``).
PARTS = ("hours", "satisfaction", "topics", "sla", "surge")
DONE_STATUSES = ("resolved", "closed", "rejected_closed")


@dataclass(frozen=True)
class BaselineProfile:
    """What the live view compares with; computed once per campaign.

    Attributes
    ----------
    days
        Baseline days.
    hourly
        Metric → 24 expected counts, one per hour of the day (mean over the baseline days).
    reviews, mean_rating, bad_share
        Reviews written in the baseline, their mean rating and 1–2★ share.
    aspects
        Aspect → complaints per review in the baseline's texts (``None`` without texts).
    phrases
        ``"aspect|phrase"`` → complaints per review.
    analysed
        Baseline texts analysed.
    reasons
        ``"kind/reason"`` → share of the baseline's cases (``None`` without cases).
    """

    days: int
    hourly: dict[str, list[float]]
    reviews: int
    mean_rating: float | None
    bad_share: float | None
    aspects: dict[str, float] | None
    phrases: dict[str, float] | None
    analysed: int
    reasons: dict[str, float] | None


@dataclass(frozen=True)
class LiveSnapshot:
    """The live view's numbers at one instant (see the module docs for each part)."""

    campaign: dict[str, Any]
    now: str
    hours: list[dict[str, Any]]
    satisfaction: dict[str, Any] | None
    topics: dict[str, Any] | None
    sla: dict[str, Any] | None
    surge: dict[str, Any] | None
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out: dict[str, Any] = _finite(asdict(self))
        return out


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- texts -----------------------------------------------------------------------------------


def _complaints_per_review(
    src: Source, first: date, last: date, max_reviews: int, upto: datetime | None = None
) -> tuple[dict[str, float], dict[str, float], int]:
    from manyi.text import ASPECTS, analyse

    reviews = src.table("reviews")
    body = reviews.body.strip()
    rows = windowed(
        src,
        reviews.filter(body.notnull() & (body.length() > 0)),
        "created_at",
        first,
        last,
        "day",
        until=upto,
    )
    picked = hash_sample(rows, "review_id", max_reviews, engine=src.engine)
    frame = src.execute(picked.select("review_id", "body", "language"))
    frame = frame.sort_values("review_id", kind="stable", ignore_index=True)
    if frame.empty:
        return {}, {}, 0
    given = set(frame["language"].dropna().astype(str))
    lang = given.pop() if len(given) == 1 and frame["language"].notna().all() else "auto"
    try:
        results = analyse(frame["body"].astype(str).tolist(), lang=lang)
    except ValueError:
        results = analyse(frame["body"].astype(str).tolist(), lang="auto")
    n = len(results)
    negative = [m for r in results for m in r.aspects if m.polarity == "negative"]
    by_aspect = Counter(m.aspect for m in negative)
    by_phrase = Counter(f"{m.aspect}|{m.phrase}" for m in negative)
    aspects = {a: by_aspect.get(a, 0) / n for a in ASPECTS}
    return aspects, {k: v / n for k, v in by_phrase.items()}, n


# --- baseline --------------------------------------------------------------------------------


def _hour_profile(series: pd.DataFrame, days: int) -> list[float]:
    hours = pd.to_datetime(series["period"]).dt.hour
    totals = series.groupby(hours)["n"].sum().reindex(range(24), fill_value=0)
    return [float(v) / days for v in totals]


def baseline_profile(src: Source, campaign: Campaign, *, max_reviews: int = 300) -> BaselineProfile:
    """The baseline's hourly profile, ratings, complaint topics and case reasons."""
    first, last = campaign.baseline_window()
    days = (last - first).days + 1
    hourly = {
        name: _hour_profile(metric_series(src, name, first, last, "hour"), days)
        for name in HOURLY
        if supports(src, name)
    }
    reviews, mean, bad = 0, None, None
    aspects = phrases = None
    analysed = 0
    if src.has("reviews"):
        ratings = metric_series(src, "mean_rating", first, last, "day")
        reviews = int(ratings["n"].sum())
        if reviews:
            mean = float(ratings["total"].sum()) / reviews
            bad = float(ratings["at_1"].sum() + ratings["at_2"].sum()) / reviews
        aspects, phrases, analysed = _complaints_per_review(src, first, last, max_reviews)
        if not analysed:
            aspects = phrases = None
    reasons = None
    if src.has("cases"):
        cases = windowed(src, src.table("cases"), "opened_at", first, last, "day")
        reasons = _reason_shares(src, cases)
    return BaselineProfile(days, hourly, reviews, mean, bad, aspects, phrases, analysed, reasons)


def _reason_shares(src: Source, cases: ir.Table) -> dict[str, float]:
    label = cases.kind.cast("string") + "/" + ibis.coalesce(cases.reason, "-")
    labelled = cases.mutate(label=label)
    counts = src.execute(labelled.group_by("label").aggregate(n=labelled.count()))
    labels = [str(v) for v in counts["label"]]
    numbers = [float(v) for v in counts["n"]]
    total = sum(numbers)
    return {k: v / total for k, v in zip(labels, numbers, strict=True)} if total else {}


# --- the snapshot ----------------------------------------------------------------------------


def _local_now(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """``(aware UTC instant, naive shop-local wall time)`` of ``now``."""
    aware = now.replace(tzinfo=ZoneInfo(zone)) if now.tzinfo is None else now
    utc = aware.astimezone(UTC)
    local = utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return utc, local


def _poisson_band(mean: float) -> tuple[float, float]:
    if mean <= 0:
        return 0.0, 0.0
    return float(stats.poisson.ppf(0.025, mean)), float(stats.poisson.ppf(0.975, mean))


def _hours(
    src: Source, profile: BaselineProfile, local: datetime, utc: datetime, hours: int
) -> list[dict[str, Any]]:
    current = pd.Timestamp(local).floor("h")
    first_hour = current - pd.Timedelta(hours=hours - 1)
    gone = (pd.Timestamp(local) - current) / pd.Timedelta(hours=1)
    wanted = pd.date_range(first_hour, current, freq="h")
    out = [{"hour": h.isoformat(), "partial": h == current} for h in wanted]
    for name, expected in profile.hourly.items():
        series = metric_series(src, name, first_hour.date(), current.date(), "hour", until=utc)
        counts = series.set_index("period")["n"].reindex(wanted, fill_value=0)
        for row, hour, count in zip(out, wanted, counts, strict=True):
            part = gone if hour == current else 1.0
            mean = expected[hour.hour] * part
            low, high = _poisson_band(mean)
            row[name] = {
                "count": int(count),
                "expected": mean,
                "low": low,
                "high": high,
                "above": bool(count > high),
            }
    return out


def _satisfaction(
    src: Source, campaign: Campaign, profile: BaselineProfile, today: date, utc: datetime
) -> dict[str, Any] | None:
    if not src.has("reviews"):
        return None
    last = min(today, campaign.end)
    if last < campaign.start:
        return None
    series = metric_series(src, "mean_rating", campaign.start, last, "day", until=utc)
    days = []
    for period, count, mean, ones, twos in zip(
        series["period"], series["n"], series["value"], series["at_1"], series["at_2"], strict=True
    ):
        n = int(count)
        bad = proportion(float(ones + twos), float(n))
        days.append(
            {
                "day": pd.Timestamp(period).date().isoformat(),
                "reviews": n,
                "mean_rating": float(mean) if n else None,
                "bad_share": bad.value,
                "bad_share_low": bad.low,
                "bad_share_high": bad.high,
            }
        )
    return {
        "days": days,
        "baseline_reviews": profile.reviews,
        "baseline_mean_rating": profile.mean_rating,
        "baseline_bad_share": profile.bad_share,
    }


def _topics(
    src: Source,
    campaign: Campaign,
    profile: BaselineProfile,
    today: date,
    utc: datetime,
    max_reviews: int,
) -> dict[str, Any] | None:
    if not src.has("reviews") or profile.aspects is None or profile.phrases is None:
        return None
    last = min(today, campaign.end)
    if last < campaign.start:
        return None
    aspects, phrases, n = _complaints_per_review(src, campaign.start, last, max_reviews, utc)
    if n == 0:
        return {"analysed": 0, "aspects": [], "rising_phrases": []}
    rows = [
        {
            "aspect": a,
            "per_100": 100 * share,
            "baseline_per_100": 100 * profile.aspects.get(a, 0.0),
        }
        for a, share in aspects.items()
    ]
    rising: list[dict[str, Any]] = []
    for key, share in phrases.items():
        before = profile.phrases.get(key, 0.0)
        if share * n >= 2 and share > before:
            aspect, phrase = key.split("|", 1)
            rising.append(
                {
                    "aspect": aspect,
                    "phrase": phrase,
                    "per_100": 100 * share,
                    "baseline_per_100": 100 * before,
                    "new": before == 0,
                }
            )
    rising.sort(key=lambda r: (-(r["per_100"] - r["baseline_per_100"]), r["phrase"]))
    return {
        "analysed": n,
        "baseline_analysed": profile.analysed,
        "aspects": rows,
        "rising_phrases": rising[:10],
    }


def _open_deadlines(src: Source, utc: datetime) -> pd.DataFrame:
    """Open cases with their next pending deadline (``due``) and which clock it is."""
    cases = src.table("cases")
    opened = cases.filter(
        (cases.opened_at <= utc)
        & cases.resolved_at.isnull()
        & cases.closed_at.isnull()
        & ~cases.status.isin(list(DONE_STATUSES))
    )
    first_pending = opened.first_response_at.isnull() & opened.first_response_due_at.notnull()
    due = ibis.ifelse(first_pending, opened.first_response_due_at, opened.resolution_due_at)
    clock_name = ibis.ifelse(first_pending, "first_response", "resolution")
    rows = opened.select(
        "case_id", "kind", "reason", "priority", "opened_at", due=due, clock=clock_name
    )
    frame: pd.DataFrame = src.execute(rows)
    return frame


def _deadline_list(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"case_id": int(case_id), "clock": str(name), "due": pd.Timestamp(due).isoformat()}
        for case_id, name, due in zip(frame["case_id"], frame["clock"], frame["due"], strict=True)
    ]


def _sla(frame: pd.DataFrame, utc: datetime, risk_hours: float) -> dict[str, Any]:
    due = pd.to_datetime(frame["due"], utc=True)
    now = pd.Timestamp(utc)
    breached = frame[due < now]
    soon = frame.assign(due=due)[(due >= now) & (due < now + pd.Timedelta(hours=risk_hours))]
    soon = soon.sort_values(["due", "case_id"]).head(50)
    return {
        "open": len(frame),
        "breached": len(breached),
        "at_risk": len(soon),
        "risk_hours": risk_hours,
        "no_due": int(due.isna().sum()),
        "at_risk_cases": _deadline_list(soon),
    }


def _surge(
    src: Source,
    frame: pd.DataFrame,
    profile: BaselineProfile,
    utc: datetime,
    *,
    lookback_hours: float,
    projection_hours: float,
    capacity: int | None,
    handled_per_hour: float | None,
) -> dict[str, Any]:
    cases = src.table("cases")
    since = utc - timedelta(hours=lookback_hours)
    recent = cases.filter((cases.opened_at > since) & (cases.opened_at <= utc))
    done_at = ibis.coalesce(cases.resolved_at, cases.closed_at)
    finished = cases.filter((done_at > since) & (done_at <= utc))
    arrived = int(src.execute(recent.count()))
    done = int(src.execute(finished.count()))
    arrivals = arrived / lookback_hours
    pace = handled_per_hour if handled_per_hour is not None else done / lookback_hours
    open_now = len(frame)
    hours_to_capacity = None
    if capacity is not None and arrivals > pace:
        hours_to_capacity = max(0.0, (capacity - open_now) / (arrivals - pace))
    # Soonest-due first at the current pace: the i-th case (0-based) is reached after
    # (i + 1) / pace hours; it misses when that is after its due instant.
    now = pd.Timestamp(utc)
    due = pd.to_datetime(frame["due"], utc=True)
    pending = frame.assign(due=due)[due.notna() & (due >= now)].sort_values(["due", "case_id"])
    horizon = now + pd.Timedelta(hours=projection_hours)
    pending = pending[pending["due"] <= horizon]
    reached = (
        now + pd.to_timedelta((np.arange(len(pending)) + 1) / pace, unit="h") if pace > 0 else None
    )
    late = (
        np.ones(len(pending), dtype=bool)
        if reached is None
        else (reached > pd.DatetimeIndex(pending["due"]))
    )
    misses = _deadline_list(pending[late])
    recent_shares = _reason_shares(src, recent) if arrived else {}
    base = profile.reasons or {}
    rising: list[dict[str, Any]] = sorted(
        (
            {
                "label": label,
                "recent_share": share,
                "baseline_share": base.get(label, 0.0),
                "recent_cases": round(share * arrived),
            }
            for label, share in recent_shares.items()
            if share > base.get(label, 0.0)
        ),
        key=lambda r: (-(r["recent_share"] - r["baseline_share"]), r["label"]),
    )
    return {
        "lookback_hours": lookback_hours,
        "arrivals_per_hour": arrivals,
        "handled_per_hour": pace,
        "handled_from": "given" if handled_per_hour is not None else "observed",
        "open": open_now,
        "capacity": capacity,
        "hours_to_capacity": hours_to_capacity,
        "projection_hours": projection_hours,
        "projected_misses": len(misses),
        "first_miss_due": misses[0]["due"] if misses else None,
        "miss_cases": misses[:50],
        "rising_reasons": rising[:5],
    }


def live_snapshot(
    src: Source,
    campaign: Campaign,
    now: datetime,
    *,
    profile: BaselineProfile | None = None,
    hours: int = 24,
    risk_hours: float = 4.0,
    lookback_hours: float = 3.0,
    projection_hours: float = 8.0,
    capacity: int | None = None,
    handled_per_hour: float | None = None,
    max_reviews: int = 300,
    parts: Collection[str] = PARTS,
) -> LiveSnapshot:
    """The live view's numbers for ``campaign`` at ``now``.

    Parameters
    ----------
    src
        The source (the desk database during a campaign).
    campaign
        The campaign and its baseline.
    now
        The instant (aware; a naive datetime is read as the shop's wall time).
    profile
        :func:`baseline_profile` of the campaign (computed here when not given).
    hours
        Hours of per-hour counts, ending with the current (partial) hour.
    risk_hours
        A pending deadline within this many hours counts as at risk.
    lookback_hours
        Hours the arrival and handling rates are measured over.
    projection_hours
        How far ahead the queue projection looks for missed deadlines.
    capacity
        Open cases the team can hold; gives ``hours_to_capacity``.
    handled_per_hour
        The team's pace if known (default: cases finished per hour over the lookback).
    max_reviews
        Most review texts analysed for the topics.
    parts
        Which of :data:`PARTS` to compute (the others are ``None`` / empty): the hours and
        the SLA change by the second, the topics by the hour — refresh them less often.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise InsightError(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    if hours < 1 or risk_hours <= 0 or lookback_hours <= 0 or projection_hours <= 0:
        raise InsightError(
            "hours, risk_hours, lookback_hours and projection_hours must be positive"
        )
    seconds: dict[str, float] = {}
    tick = clock.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        after = clock.perf_counter()
        seconds[name] = after - tick
        tick = after

    utc, local = _local_now(now, src.timezone)
    if profile is None:
        profile = baseline_profile(src, campaign, max_reviews=max_reviews)
        lap("baseline")
    per_hour: list[dict[str, Any]] = []
    satisfaction = topics = sla = surge = None
    if "hours" in parts:
        per_hour = _hours(src, profile, local, utc, hours)
        lap("hours")
    if "satisfaction" in parts:
        satisfaction = _satisfaction(src, campaign, profile, local.date(), utc)
        lap("satisfaction")
    if "topics" in parts:
        topics = _topics(src, campaign, profile, local.date(), utc, max_reviews)
        lap("topics")
    if src.has("cases") and ("sla" in parts or "surge" in parts):
        frame = _open_deadlines(src, utc)
        sla = _sla(frame, utc, risk_hours) if "sla" in parts else None
        if "surge" in parts:
            surge = _surge(
                src,
                frame,
                profile,
                utc,
                lookback_hours=lookback_hours,
                projection_hours=projection_hours,
                capacity=capacity,
                handled_per_hour=handled_per_hour,
            )
        lap("cases")
    return LiveSnapshot(
        campaign=campaign.to_dict(),
        now=local.isoformat(timespec="minutes"),
        hours=per_hour,
        satisfaction=satisfaction,
        topics=topics,
        sla=sla,
        surge=surge,
        seconds=seconds,
    )


def profile_to_dict(profile: BaselineProfile) -> dict[str, Any]:
    """JSON-ready dict of a profile (the desk may cache it between refreshes)."""
    out: dict[str, Any] = _finite(asdict(profile))
    return out


def profile_from_dict(data: Mapping[str, Any]) -> BaselineProfile:
    """Inverse of :func:`profile_to_dict`."""
    return BaselineProfile(**dict(data))
