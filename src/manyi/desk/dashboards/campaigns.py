"""Promotion mode: campaigns, the live view's snapshot, surge hints, post-campaign reviews.

**Live view.** :func:`live_view` returns :func:`manyi.insight.monitor.live_snapshot` of the desk
database for a campaign, cached for :data:`LIVE_SECONDS` under one lock: ten managers watching
the page every five seconds cost one computation per interval, not ten. The baseline profile
(hourly pattern, ratings, complaint topics of the four weeks before) does not change during the
campaign and is cached for a day.

**Surge hints.** The library names the case kinds and reasons arriving more often than in the
baseline; the desk adds, for each, the macros its agents used most on such cases (a reply that
contains the macro's longest fixed text counts as a use), and per team which queue will miss
deadlines and when, from the same projection run on that team's cases. Hints are recomputed
once a minute, not at every refresh.

**Reviews.** :func:`request_review` queues a post-campaign review; the worker (or
``manyi manage campaign_review``) runs :func:`manyi.insight.monitor.review_campaign` on the desk
database and keeps its JSON and both HTML pages on the :class:`CampaignReview` row.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from manyi.desk.accounts.models import Team
from manyi.desk.cases.models import Macro
from manyi.desk.dashboards import cache
from manyi.desk.dashboards.filters import DashboardFilters
from manyi.desk.dashboards.models import Campaign, CampaignReview, ReviewStatus, default_baseline
from manyi.desk.dashboards.source import desk_source, desk_table, shop_timezone, slice_source
from manyi.insight.sources import Source

#: How long one live snapshot is shown to everyone (the page refreshes every 5 s).
LIVE_SECONDS = 5
#: How long a viewer waits for a snapshot another process is computing.
LIVE_WAIT = 20.0
PROFILE_SECONDS = 24 * 3600
#: How long surge hints (macros, per-team projections) are reused.
HINTS_SECONDS = 60
#: Macro usage is counted over replies of this many days before now.
MACRO_DAYS = 90
MIN_SEGMENT = 6


class CampaignError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def save_campaign(
    *,
    name: str,
    starts_on: date,
    ends_on: date,
    baseline_starts_on: date | None = None,
    baseline_ends_on: date | None = None,
    capacity: int | None = None,
    notes: str = "",
    actor: Any = None,
    campaign: Campaign | None = None,
    now: datetime | None = None,
) -> Campaign:
    """Create or update a campaign; the baseline defaults to the four weeks before it.

    Raises :class:`CampaignError` when the library refuses the windows (ends before it starts,
    baseline overlapping the campaign).
    """
    from manyi.insight.errors import InsightError
    from manyi.insight.monitor import Campaign as LibraryCampaign

    first, last = default_baseline(starts_on)
    baseline_starts_on = baseline_starts_on or (
        baseline_ends_on - timedelta(days=27) if baseline_ends_on else first
    )
    baseline_ends_on = baseline_ends_on or last
    try:
        LibraryCampaign(name, starts_on, ends_on, baseline_starts_on, baseline_ends_on)
    except InsightError as exc:
        raise CampaignError(str(exc)) from None
    with transaction.atomic():
        if campaign is None:
            campaign = Campaign(created_by=actor, created_at=now or timezone.now())
        campaign.name = name
        campaign.starts_on = starts_on
        campaign.ends_on = ends_on
        campaign.baseline_starts_on = baseline_starts_on
        campaign.baseline_ends_on = baseline_ends_on
        campaign.capacity = capacity
        campaign.notes = notes
        campaign.save()
    return campaign


# --- the live view ----------------------------------------------------------------------------


def _profile(src: Source, campaign: Campaign, scope: str) -> Any:
    """The baseline profile of ``src`` (the shop, or one team's cases), cached for a day."""
    from manyi.insight.monitor import baseline_profile
    from manyi.insight.monitor.live import profile_from_dict, profile_to_dict

    key = cache.cache_key(
        "profile",
        str(campaign.pk),
        scope,
        campaign.baseline_starts_on.isoformat(),
        campaign.baseline_ends_on.isoformat(),
    )
    data, _here = cache.get_or_compute(
        key,
        lambda: profile_to_dict(baseline_profile(src, campaign.to_library())),
        timeout=PROFILE_SECONDS,
        wait=LIVE_WAIT,
    )
    return profile_from_dict(data) if data is not None else None


def _without_reviews(src: Source) -> Source:
    """A team's queue has no reviews: its projection reads cases only."""
    import dataclasses

    raw = {k: v for k, v in src.raw.items() if k != "reviews"}
    return dataclasses.replace(src, raw=raw, _cleanup=[], _cache={}, _memo={})


def compute_live(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """The snapshot, the macro hints and the per-team projections at ``now`` (uncached)."""
    from manyi.insight.monitor import live_snapshot

    started = time.perf_counter()
    library_campaign = campaign.to_library()
    with desk_source() as src:
        profile = _profile(src, campaign, "shop")
        snap = live_snapshot(
            src, library_campaign, now, profile=profile, capacity=campaign.capacity
        ).to_dict()
        rising = (snap.get("surge") or {}).get("rising_reasons") or []
        hints = _hints(src, campaign, now, [r["label"] for r in rising])
        snap["macros"], snap["teams"] = hints["macros"], hints["teams"]
    snap["computed_at"] = timezone.now().isoformat()
    snap["computed_in"] = round(time.perf_counter() - started, 3)
    return snap


def _hints(src: Source, campaign: Campaign, now: datetime, labels: list[str]) -> dict[str, Any]:
    """Macro hints and per-team projections, cached for :data:`HINTS_SECONDS`: a queue's
    projection or the macros agents use do not change from one 5-second refresh to the next,
    and they cost more than the snapshot itself (one projection per team)."""
    slot = int(now.timestamp() // HINTS_SECONDS)
    key = cache.cache_key("hints", str(campaign.pk), str(slot), "|".join(sorted(labels)))
    data, _here = cache.get_or_compute(
        key,
        lambda: {
            "macros": macro_hints(src, labels, now),
            "teams": team_projections(src, campaign, now),
        },
        timeout=HINTS_SECONDS,
        wait=LIVE_WAIT,
    )
    return data or {"macros": [], "teams": []}


def live_view(campaign: Campaign, now: datetime, *, replay: bool = False) -> dict[str, Any] | None:
    """The cached snapshot (one computation per :data:`LIVE_SECONDS` for all viewers)."""
    slot = "replay-" + now.isoformat() if replay else "now"
    key = cache.cache_key("live", str(campaign.pk), slot)
    data, _here = cache.get_or_compute(
        key, lambda: compute_live(campaign, now), timeout=LIVE_SECONDS, wait=LIVE_WAIT
    )
    return data


def team_projections(src: Source, campaign: Campaign, now: datetime) -> list[dict[str, Any]]:
    """Per team with open cases: pending deadlines that will be missed at its pace, and when
    the first is due (the library's queue projection on the team's cases)."""
    from manyi.insight.monitor import live_snapshot

    out = []
    for team in Team.objects.order_by("name"):
        team_src = _without_reviews(
            slice_source(src, DashboardFilters(since=now.date(), until=now.date(), team=team.code))
        )
        if not team_src.has("cases"):
            continue
        profile = _profile(team_src, campaign, f"team-{team.code}")
        snap = live_snapshot(team_src, campaign.to_library(), now, profile=profile, hours=1)
        surge, sla = snap.surge or {}, snap.sla or {}
        if not sla.get("open"):
            continue
        out.append(
            {
                "team": team.code,
                "name": team.name,
                "open": sla.get("open"),
                "breached": sla.get("breached"),
                "at_risk": sla.get("at_risk"),
                "arrivals_per_hour": surge.get("arrivals_per_hour"),
                "handled_per_hour": surge.get("handled_per_hour"),
                "projected_misses": surge.get("projected_misses"),
                "first_miss_due": surge.get("first_miss_due"),
            }
        )
    out.sort(key=lambda r: (r["first_miss_due"] is None, r["first_miss_due"] or "", r["team"]))
    return out


def _segment(body: str) -> str:
    """The macro's longest fixed text (between variables), what a sent reply keeps of it."""
    parts = [p.strip() for p in re.split(r"\{[a-z_]+\}", body)]
    return max(parts, key=len, default="")


def macro_hints(src: Source, labels: list[str], now: datetime) -> list[dict[str, Any]]:
    """For each ``kind/reason`` label, the macros most used on such cases (last 90 days)."""
    if not labels or not src.has("cases"):
        return []
    macros = [
        (m.pk, m.name, m.team_id, _segment(m.body))
        for m in Macro.objects.filter(active=True).order_by("pk")
    ]
    macros = [m for m in macros if len(m[3]) >= MIN_SEGMENT]
    hints: list[dict[str, Any]] = [{"label": label, "macros": []} for label in labels]
    if not macros:
        return hints
    cases = src.table("cases")
    label = cases.kind.cast("string") + "/" + ibis.coalesce(cases.reason, "-")
    cases = cases.mutate(label=label).filter(label.isin(labels)).select("case_id", "label")
    messages = desk_table(src, "case_messages")
    since = now - timedelta(days=MACRO_DAYS)
    messages = messages.filter(
        (messages.direction == "out") & (messages.created_at.cast("timestamp('UTC')") >= since)
    ).select(case_id=messages.case_id.cast("int64"), body=messages.body)
    replies = messages.join(cases, "case_id")
    aggs = {
        f"m{pk}": ibis.cases(
            (replies.body.contains(segment), replies.case_id), else_=None
        ).nunique()
        for pk, _name, _team, segment in macros
    }
    counts = src.execute(replies.group_by("label").aggregate(**aggs))
    by_label = {str(r["label"]): r for r in counts.to_dict("records")}
    for hint in hints:
        row = by_label.get(str(hint["label"]), {})
        used = sorted(
            (int(row.get(f"m{pk}") or 0), name, pk, team) for pk, name, team, _text in macros
        )
        top = [u for u in sorted(used, key=lambda u: (-u[0], u[1])) if u[0] > 0][:3]
        hint["macros"] = [
            {"id": pk, "name": name, "team": team, "cases": cases} for cases, name, pk, team in top
        ]
    return hints


def local_now(at: str | None = None) -> tuple[datetime, bool]:
    """``(instant, replay)``: now, or the shop-local wall time ``at`` (replaying a past
    campaign)."""
    if at:
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ZoneInfo(shop_timezone()))
            return parsed, True
    return timezone.now(), False


# --- reviews ----------------------------------------------------------------------------------


def request_review(
    campaign: Campaign, *, actor: Any = None, now: datetime | None = None
) -> CampaignReview:
    """Queue a review (one queued review per campaign at a time)."""
    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=campaign.pk)
        queued = campaign.reviews.filter(status__in=[ReviewStatus.QUEUED, ReviewStatus.RUNNING])
        existing = queued.first()
        if existing is not None:
            return existing
        return CampaignReview.objects.create(
            campaign=campaign, requested_by=actor, requested_at=now or timezone.now()
        )


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The significant changes of the review (its ``sections.metrics.data.rows``)."""
    metrics = ((doc.get("sections") or {}).get("metrics") or {}).get("data") or {}
    all_rows = metrics.get("rows") or []
    rows = [
        {
            "metric": row.get("metric"),
            "title": row.get("title"),
            "verdict": row.get("verdict"),
            "effect": row.get("effect"),
            "q_value": row.get("q_value"),
        }
        for row in all_rows
        if row.get("significant")
    ]
    return {"significant": rows, "metrics": len(all_rows)}


@contextmanager
def _without_cte_inlining(src: Source) -> Iterator[None]:
    """DuckDB 1.5.5 fails with "INTERNAL Error: Attempted to access index 0 within vector of
    size 0" on one query of the review (the late 1–2★ orders: a CTE of the purchase cohort,
    read twice, with the shop's non-UTC local-time expression) unless CTE inlining is off.
    Only for the review: the dashboards' queries keep DuckDB's default plans."""
    src.con.raw_sql("SET disabled_optimizers = 'cte_inlining'")
    try:
        yield
    finally:
        src.con.raw_sql("RESET disabled_optimizers")


def run_review(review_pk: int, *, max_reviews: int = 2_000) -> CampaignReview:
    """Build one queued review now (the worker; ``manyi manage campaign_review``)."""
    from manyi.insight.monitor import review_campaign

    with transaction.atomic():
        review = (
            CampaignReview.objects.select_for_update().select_related("campaign").get(pk=review_pk)
        )
        if review.status not in (ReviewStatus.QUEUED, ReviewStatus.FAILED):
            return review
        review.status = ReviewStatus.RUNNING
        review.started_at = timezone.now()
        review.save(update_fields=["status", "started_at"])
    campaign = review.campaign
    try:
        with desk_source() as src, _without_cte_inlining(src):
            result = review_campaign(
                src,
                campaign.starts_on,
                campaign.ends_on,
                campaign.baseline_starts_on,
                campaign.baseline_ends_on,
                name=campaign.name,
                max_reviews=max_reviews,
            )
            doc = result.to_dict()
            pages = {lang: result.to_html(lang) for lang in ("zh", "en")}
    except Exception as exc:  # recorded on the row; the worker goes on
        review.status = ReviewStatus.FAILED
        review.error = f"{type(exc).__name__}: {exc}"[:4000]
        review.finished_at = timezone.now()
        review.save(update_fields=["status", "error", "finished_at"])
        return review
    stem = f"review-{campaign.pk}-{review.pk}"
    review.document.save(
        f"{stem}.json",
        ContentFile(json.dumps(doc, ensure_ascii=False, indent=1).encode()),
        save=False,
    )
    review.page_zh.save(f"{stem}-zh.html", ContentFile(pages["zh"].encode()), save=False)
    review.page_en.save(f"{stem}-en.html", ContentFile(pages["en"].encode()), save=False)
    review.summary = _summary(doc)
    review.status = ReviewStatus.DONE
    review.error = ""
    review.finished_at = timezone.now()
    review.save()
    return review


def run_queued_reviews(limit: int = 3) -> int:
    """The worker's job: build up to ``limit`` queued reviews, oldest first."""
    queued = CampaignReview.objects.filter(status=ReviewStatus.QUEUED).order_by("requested_at")
    done = 0
    for pk in queued.values_list("pk", flat=True)[:limit]:
        run_review(pk)
        done += 1
    return done


def review_document(review: CampaignReview) -> dict[str, Any]:
    with review.document.open("rb") as handle:
        data: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    return data
