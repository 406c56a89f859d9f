"""The data version: a few indexed maxima that change whenever the analysed data change.

Dashboard results are cached under (block, filters, version of the data the block reads), so a
new import, review, survey answer or case update makes exactly the affected blocks stale and
nothing has to be invalidated by hand. Each stamp is one indexed ``MAX`` (or a ``MAX`` over a
small table), a few milliseconds even at millions of orders.

=========  =================================================================================
group      what changes it
=========  =================================================================================
shop       a finished import (``import_runs``), a delivery recorded by webhook
           (``orders.delivered_at``), a review posted through the API (``reviews.id``)
analysis   reviews analysed by the worker (``review_analyses``/``review_aspects`` keys)
cases      any case change (``cases.updated_at``) and any case event
surveys    a survey answered or edited (``survey_responses.updated_at``)
=========  =================================================================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils import timezone

from manyi.desk.cases.models import Case, CaseEvent
from manyi.desk.commerce.models import ImportRun, Order, Review
from manyi.desk.dashboards.source import shop_timezone
from manyi.desk.reviews.models import ReviewAnalysis, ReviewAspect
from manyi.desk.surveys.models import SurveyResponse

GROUPS = ("shop", "analysis", "cases", "surveys")


def _stamp(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


@dataclass(frozen=True)
class DataVersion:
    """The stamps of each group (see the module's table)."""

    shop: str
    analysis: str
    cases: str
    surveys: str

    def of(self, *groups: str) -> str:
        """A short digest of the named groups' stamps."""
        text = "|".join(f"{g}={getattr(self, g)}" for g in sorted(set(groups)))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def all(self) -> str:
        return self.of(*GROUPS)


def read_data_version() -> DataVersion:
    """The current stamps (six small queries)."""
    runs = ImportRun.objects.aggregate(id=Max("id"), at=Max("finished_at"))
    delivered = Order.objects.aggregate(at=Max("delivered_at"))["at"]
    review = Review.objects.aggregate(id=Max("id"))["id"]
    # Keys, not analysed_at (no index): a re-analysis rewrites the aspects under new keys.
    analysis = ReviewAnalysis.objects.aggregate(id=Max("pk"))["id"]
    aspect = ReviewAspect.objects.aggregate(id=Max("id"))["id"]
    cases = Case.objects.aggregate(at=Max("updated_at"), id=Max("case_id"))
    event = CaseEvent.objects.aggregate(id=Max("id"))["id"]
    surveys = SurveyResponse.objects.aggregate(at=Max("updated_at"))["at"]
    return DataVersion(
        shop=f"{_stamp(runs['id'])}/{_stamp(runs['at'])}/{_stamp(delivered)}/{_stamp(review)}",
        analysis=f"{_stamp(analysis)}/{_stamp(aspect)}",
        cases=f"{_stamp(cases['at'])}/{_stamp(cases['id'])}/{_stamp(event)}",
        surveys=_stamp(surveys),
    )


def latest_data_day(now: datetime | None = None) -> date:
    """The latest shop-local day with orders, reviews or cases, but never after today.

    A default period ends there: a shop whose imported history ended last year opens on its
    last full month instead of an empty one.
    """
    zone = ZoneInfo(shop_timezone())
    today = (now or timezone.now()).astimezone(zone).date()
    found = [
        Order.objects.aggregate(at=Max("purchased_at"))["at"],
        Review.objects.aggregate(at=Max("created_at"))["at"],
        Case.objects.aggregate(at=Max("opened_at"))["at"],
    ]
    days = [at.astimezone(zone).date() for at in found if at is not None]
    return min(max(days), today) if days else today
