"""The rows behind a dashboard number: reviews, orders, cases or survey responses.

Every number on the dashboard carries a ``drill`` spec (``{"rows": "reviews", "band":
"bad"}``). Where the review inbox can show exactly those rows with its own query string
(period, seller, category, one star rating, sentiment, complained-about aspect) the number links
there; everything else (rating bands, late orders, cases of a period, SLA misses, survey
answers) opens the dashboards' read-only list, which applies the same definitions as
``manyi.insight`` and links each row to its case or review page.

These are plain paged reads (an indexed range on the date column plus the slice), not
aggregations: the figures themselves come from the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from manyi.desk.cases.models import Case, CaseEvent
from manyi.desk.cases.selectors import visible_cases
from manyi.desk.commerce.models import Order, OrderItem, Review
from manyi.desk.dashboards.filters import DashboardFilters
from manyi.desk.dashboards.source import shop_timezone
from manyi.desk.reviews.models import ReviewAspect
from manyi.desk.reviews.selectors import visible_reviews
from manyi.desk.surveys.models import SurveyResponse

ROWS = ("reviews", "orders", "cases", "responses")
#: Insight's done statuses (``manyi.insight.service.DONE_STATUSES``).
DONE = ("resolved", "closed", "rejected_closed")
REVIEW_SETS = ("good", "bad")
ORDER_SETS = ("late", "on_time")
CASE_SETS = ("open", "answered", "done", "sla_first_response_missed", "sla_resolution_missed")
INSTRUMENTS = ("csat", "nps", "dsr")
DSR_WINDOW_DAYS = 180


@dataclass(frozen=True)
class Drill:
    """What to list: the row kind, a named subset and its extra filters."""

    rows: str
    set: str | None = None
    sentiment: str | None = None
    negative_aspect: str | None = None
    instrument: str | None = None
    as_of: datetime | None = None

    def params(self) -> dict[str, str]:
        out = {
            k: v
            for k, v in (
                ("set", self.set),
                ("sentiment", self.sentiment),
                ("negative_aspect", self.negative_aspect),
                ("instrument", self.instrument),
            )
            if v
        }
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


def drill_from_spec(spec: Mapping[str, Any]) -> Drill:
    """A KPI's ``drill`` dict (``band`` is the review set) as a :class:`Drill`."""
    as_of = spec.get("as_of")
    return Drill(
        rows=str(spec["rows"]),
        set=spec.get("band") or spec.get("set"),
        sentiment=spec.get("sentiment"),
        negative_aspect=spec.get("negative_aspect"),
        instrument=spec.get("instrument"),
        as_of=parse_datetime(as_of) if isinstance(as_of, str) else as_of,
    )


def parse_drill(rows: str, params: Mapping[str, str]) -> Drill | None:
    """The drill of a request (``None`` for an unknown kind); unknown values are ignored."""
    if rows not in ROWS:
        return None
    allowed = {
        "reviews": REVIEW_SETS,
        "orders": ORDER_SETS,
        "cases": CASE_SETS,
        "responses": (),
    }[rows]
    chosen = params.get("set")
    as_of = parse_datetime(params.get("as_of") or "") if params.get("as_of") else None
    instrument = params.get("instrument")
    return Drill(
        rows=rows,
        set=chosen if chosen in allowed else None,
        sentiment=params.get("sentiment") if params.get("sentiment") in ("negative",) else None,
        negative_aspect=(params.get("negative_aspect") or "").strip()[:16] or None,
        instrument=instrument if instrument in INSTRUMENTS else None,
        as_of=as_of if as_of is not None and as_of.tzinfo is not None else None,
    )


def _bounds(since: Any, until: Any) -> tuple[datetime, datetime]:
    """UTC-aware instants of the first and after the last shop-local day."""
    zone = ZoneInfo(shop_timezone())
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _order_slice(f: DashboardFilters, ref: str) -> Q:
    """Rows whose order (``ref``: the order id column) has an item of the seller / category."""
    q = Q()
    if f.seller:
        q &= Q(Exists(OrderItem.objects.filter(order=OuterRef(ref), seller=f.seller)))
    if f.category:
        q &= Q(Exists(OrderItem.objects.filter(order=OuterRef(ref), product__category=f.category)))
    return q


def list_reviews(user: Any, f: DashboardFilters, drill: Drill) -> QuerySet[Review]:
    """Reviews written in the period (ratings are not sliced by case channel or team)."""
    start, end = _bounds(f.since, f.until)
    reviews = visible_reviews(user).filter(created_at__gte=start, created_at__lt=end)
    reviews = reviews.filter(_order_slice(f, "order_id"))
    if drill.set == "good":
        reviews = reviews.filter(rating__gte=4)
    elif drill.set == "bad":
        reviews = reviews.filter(rating__lte=2)
    if drill.sentiment:
        reviews = reviews.filter(analysis__sentiment=drill.sentiment)
    if drill.negative_aspect:
        reviews = reviews.filter(
            Exists(
                ReviewAspect.objects.filter(
                    review=OuterRef("pk"), aspect=drill.negative_aspect, polarity="negative"
                )
            )
        )
    return reviews.select_related("order").order_by("-created_at", "-pk")


def list_orders(user: Any, f: DashboardFilters, drill: Drill) -> QuerySet[Order]:
    """Delivered orders purchased in the period; ``late``: delivered on a later shop-local
    day than promised (as ``manyi.insight.delivery``)."""
    if not user.has_perm("commerce.view_order"):
        return Order.objects.none()
    start, end = _bounds(f.since, f.until)
    zone = ZoneInfo(shop_timezone())
    orders = Order.objects.filter(
        purchased_at__gte=start,
        purchased_at__lt=end,
        delivered_at__isnull=False,
        estimated_delivery_at__isnull=False,
    ).filter(_order_slice(f, "order_id"))
    orders = orders.annotate(
        delivered_day=TruncDate("delivered_at", tzinfo=zone),
        promised_day=TruncDate("estimated_delivery_at", tzinfo=zone),
    )
    if drill.set == "late":
        orders = orders.filter(delivered_day__gt=F("promised_day"))
    elif drill.set == "on_time":
        orders = orders.filter(delivered_day__lte=F("promised_day"))
    return orders.prefetch_related("reviews").order_by("-purchased_at", "order_id")


def _case_slice(f: DashboardFilters) -> Q:
    q = _order_slice(f, "order_id")
    if f.channel:
        q &= Q(channel=f.channel)
    if f.team:
        q &= Q(team=f.team)
    return q


def list_cases(user: Any, f: DashboardFilters, drill: Drill) -> QuerySet[Case]:
    """Cases of the period (opened in it), or ``open``: open at the end of its last day."""
    start, end = _bounds(f.since, f.until)
    cases = visible_cases(user).filter(_case_slice(f))
    if drill.set == "open":
        last_status = (
            CaseEvent.objects.filter(case=OuterRef("pk"), at__lt=end, to_status__isnull=False)
            .exclude(to_status="")
            .order_by("-at", "-seq")
            .values("to_status")[:1]
        )
        cases = cases.filter(opened_at__lt=end).annotate(status_then=Subquery(last_status))
        cases = cases.filter(Q(status_then__isnull=True) | ~Q(status_then__in=DONE))
    else:
        cases = cases.filter(opened_at__gte=start, opened_at__lt=end)
    if drill.set == "answered":
        cases = cases.filter(first_response_at__isnull=False)
    elif drill.set == "done":
        cases = cases.filter(Q(resolved_at__isnull=False) | Q(closed_at__isnull=False))
    elif drill.set == "sla_first_response_missed":
        cases = cases.filter(_missed("first_response_due_at", "first_response_at", drill.as_of))
    elif drill.set == "sla_resolution_missed":
        cases = cases.annotate(done_at=Coalesce("resolved_at", "closed_at"))
        cases = cases.filter(_missed("resolution_due_at", "done_at", drill.as_of))
    return cases.select_related("team", "assignee").order_by("-opened_at", "-case_id")


def _missed(due: str, met: str, as_of: datetime | None) -> Q:
    """Met after the due instant, or still waiting past it at ``as_of`` (insight's rule)."""
    late = Q(**{f"{due}__isnull": False, f"{met}__isnull": False}) & Q(**{f"{met}__gt": F(due)})
    waiting = Q(**{f"{due}__isnull": False, f"{met}__isnull": True})
    if as_of is not None:
        waiting &= Q(**{f"{due}__lt": as_of})
    return late | waiting


def list_responses(user: Any, f: DashboardFilters, drill: Drill) -> QuerySet[SurveyResponse]:
    """Survey responses answered in the period (DSR: its 180-day window ending ``until``)."""
    if not user.has_perm("commerce.view_order"):
        return SurveyResponse.objects.none()
    since = f.since
    if drill.instrument == "dsr":
        since = f.until - timedelta(days=DSR_WINDOW_DAYS - 1)
    start, end = _bounds(since, f.until)
    responses = SurveyResponse.objects.filter(answered_at__gte=start, answered_at__lt=end)
    if drill.instrument:
        responses = responses.filter(instrument_id=drill.instrument)
    if f.cases_sliced:
        responses = responses.filter(case__in=visible_cases(user).filter(_case_slice(f)))
    elif f.orders_sliced:
        responses = responses.filter(
            _order_slice(f, "order_id")
            | Q(case__in=Case.objects.filter(_order_slice(f, "order_id")))
        )
    return (
        responses.prefetch_related("answers")
        .select_related("case")
        .order_by("-answered_at", "response_id")
    )


LISTERS = {
    "reviews": list_reviews,
    "orders": list_orders,
    "cases": list_cases,
    "responses": list_responses,
}


def rows_for(user: Any, f: DashboardFilters, drill: Drill) -> QuerySet[Any]:
    return LISTERS[drill.rows](user, f, drill)


def inbox_url(f: DashboardFilters, drill: Drill) -> str | None:
    """The review inbox's address for the same reviews, when its filters can say it."""
    if drill.rows != "reviews" or drill.set:
        return None
    params = {"from": f.since.isoformat(), "to": f.until.isoformat()}
    if f.seller:
        params["seller"] = f.seller
    if f.category:
        params["category"] = f.category
    if drill.sentiment:
        params["sentiment"] = drill.sentiment
    if drill.negative_aspect:
        params["negative_aspect"] = drill.negative_aspect
    return reverse("reviews:inbox") + "?" + urlencode(params)


def console_url(f: DashboardFilters) -> str:
    """The console's open queue with the dashboard's channel and team (cases open now)."""
    params = {"queue": "open"}
    if f.channel:
        params["channel"] = f.channel
    if f.team:
        params["team"] = f.team
    return reverse("cases:queue") + "?" + urlencode(params)


def drill_url(f: DashboardFilters, spec: Mapping[str, Any] | None) -> str | None:
    """Where a number links: the inbox when it can show the rows, else the rows page."""
    if not spec:
        return None
    drill = drill_from_spec(spec)
    inbox = inbox_url(f, drill)
    if inbox is not None:
        return inbox
    return reverse("dashboards:rows", args=[drill.rows]) + "?" + f.query(**drill.params())
