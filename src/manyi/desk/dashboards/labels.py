"""Names of figures, aspects, tiers and table columns in the page's language."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

KPI_LABELS: dict[str, Promise] = {
    "good_review_rate": _("Good-review rate (4–5★)"),
    "mean_rating": _("Mean rating"),
    "bad_review_rate": _("1–2★ share"),
    "csat": _("CSAT"),
    "nps": _("NPS"),
    "dsr_as_described": _("DSR: item as described"),
    "dsr_service": _("DSR: service"),
    "dsr_logistics": _("DSR: logistics"),
    "dsr_overall": _("DSR: rating (from reviews)"),
    "cases_opened": _("Cases opened"),
    "backlog": _("Open at the end of the period"),
    "first_response_mean_h": _("First response, mean"),
    "first_response_median_h": _("First response, median"),
    "resolution_mean_h": _("Resolution, mean"),
    "resolution_median_h": _("Resolution, median"),
    "sla_first_response": _("First response within SLA"),
    "sla_resolution": _("Resolution within SLA"),
    "negative_reviews": _("Negative reviews (of analysed)"),
    "complaints_logistics": _("Complaints: logistics"),
    "complaints_quality": _("Complaints: quality"),
    "complaints_as_described": _("Complaints: not as described"),
    "complaints_service": _("Complaints: service"),
    "complaints_price": _("Complaints: price"),
    "complaints_packaging": _("Complaints: packaging"),
    "late_share": _("Late deliveries"),
    "late_rating_gap": _("Rating gap, late vs on time"),
    "on_time_mean": _("Mean rating, on time"),
    "late_mean": _("Mean rating, late"),
}

ASPECTS: dict[str, Promise] = {
    "logistics": _("Logistics"),
    "quality": _("Quality"),
    "as_described": _("As described"),
    "service": _("Service"),
    "price": _("Price"),
    "packaging": _("Packaging"),
}

DIMENSIONS: dict[str, Promise] = {
    "as_described": _("Item as described"),
    "service": _("Service"),
    "logistics": _("Logistics"),
    "overall": _("Rating"),
}

TIERS: dict[str, Promise] = {
    "1-2": _("1–2★ first order"),
    "3": _("3★ first order"),
    "4-5": _("4–5★ first order"),
    "unrated": _("Unrated"),
}

DRIVERS: dict[str, Promise] = {
    "delivery_days": _("Delivery days"),
    "late": _("Late delivery"),
    "freight_share": _("Freight share"),
    "price": _("Price"),
    "items": _("Items in the order"),
    "category": _("Category"),
}

BLOCK_TITLES: dict[str, Promise] = {
    "satisfaction": _("Satisfaction"),
    "service": _("Service"),
    "voice": _("Voice of the customer"),
    "sales": _("Satisfaction and sales"),
    "value": _("Customer value by rating"),
    "drivers": _("What drives the rating"),
}

TABLE_TITLES: dict[str, Promise] = {
    "daily": _("By day"),
    "distribution": _("Rating distribution"),
    "dsr": _("DSR by dimension"),
    "kpis": _("Figures"),
    "teams": _("By team"),
    "aspects": _("Complaints by aspect"),
    "phrases": _("Top complaint phrases"),
    "delivery": _("Rating by delivery delay"),
    "tiers": _("By first-order rating"),
    "clv": _("Customer value"),
    "drivers": _("Drivers"),
    "categories": _("Rating by category"),
}

NOTES: dict[str, Promise] = {
    "no_csat": _("No CSAT answers yet."),
    "no_nps": _("No NPS answers yet."),
    "ratings_not_sliced_by_case": _(
        "Ratings have no channel or team: they are shown for the whole shop (or seller / category)."
    ),
    "cases_of_sliced_orders": _("Only cases about orders of the chosen seller or category."),
    "not_all_analysed": _(
        "Some reviews of the period are not analysed yet; the worker analyses them (manyi worker)."
    ),
    "no_cases": _("No after-sales cases yet."),
    "no_delivery": _("No delivered orders in the period."),
    "no_repeat": _("No customers with a rated first order yet."),
}

UNITS: dict[str, str] = {"share": "%", "hours": "h", "stars": "★", "points": "", "count": ""}


def aspect_label(code: str) -> str:
    return str(ASPECTS.get(code, code))


def dimension_label(code: str) -> str:
    return str(DIMENSIONS.get(code, code))


def tier_label(code: str) -> str:
    return str(TIERS.get(code, code))


def driver_label(code: str) -> str:
    return str(DRIVERS.get(code, code))


def kpi_label(key: str) -> str:
    return str(KPI_LABELS.get(key, key))
