"""Plotly figures (plain dicts) drawn from the blocks' tables, in the request's language.

The browser draws them with the ``plotly.min.js`` shipped in the plotly package, served by the
desk itself (``/desk/dashboard/plotly.min.js``; nothing is loaded from a CDN). Each figure is
drawn from exactly one table of its block, the table the CSV/Excel export of that chart writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from manyi.desk.dashboards.labels import aspect_label, dimension_label, driver_label, tier_label

Figure = dict[str, Any]
ACCENT = "#c2410c"
BLUE = "#0369a1"
GREY = "#94a3b8"
GREEN = "#15803d"


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "height": 280,
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "font": {"family": "system-ui, 'PingFang SC', 'WenQuanYi Micro Hei', sans-serif"},
    }
    base.update(extra)
    return base


def _column(table: dict[str, Any], name: str) -> list[Any]:
    i = table["columns"].index(name)
    return [row[i] for row in table["rows"]]


def _pct(values: list[Any]) -> list[Any]:
    return [None if v is None else round(100 * v, 2) for v in values]


def _errors(
    values: list[Any], low: list[Any], high: list[Any], scale: float = 1.0
) -> dict[str, Any]:
    plus = [
        None if v is None or h is None else (h - v) * scale
        for v, h in zip(values, high, strict=True)
    ]
    minus = [
        None if v is None or lo is None else (v - lo) * scale
        for v, lo in zip(values, low, strict=True)
    ]
    return {"type": "data", "array": plus, "arrayminus": minus, "visible": True, "color": GREY}


def satisfaction_daily(t: dict[str, Any]) -> Figure:
    days = _column(t, "period")
    return {
        "data": [
            {
                "type": "bar",
                "x": days,
                "y": _column(t, "n"),
                "name": _("Reviews"),
                "marker": {"color": "#e2e8f0"},
                "yaxis": "y2",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": days,
                "y": _pct(_column(t, "good_rate")),
                "name": _("Good-review rate (%)"),
                "line": {"color": ACCENT},
            },
        ],
        "layout": _layout(
            _("Good-review rate by day"),
            yaxis={"title": "%", "rangemode": "tozero"},
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
        ),
    }


def satisfaction_distribution(t: dict[str, Any]) -> Figure:
    return {
        "data": [
            {
                "type": "bar",
                "x": [f"{s}★" for s in _column(t, "stars")],
                "y": _column(t, "reviews"),
                "marker": {"color": ["#b91c1c", "#f97316", "#facc15", "#84cc16", GREEN]},
            }
        ],
        "layout": _layout(_("Ratings in the period")),
    }


def satisfaction_dsr(t: dict[str, Any]) -> Figure:
    names = [dimension_label(d) for d in _column(t, "dimension")]
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": _column(t, "score"),
                "name": _("This period"),
                "marker": {"color": ACCENT},
            },
            {
                "type": "bar",
                "x": names,
                "y": _column(t, "previous"),
                "name": _("Previous period"),
                "marker": {"color": GREY},
            },
        ],
        "layout": _layout(
            _("DSR by dimension (180 days)"), yaxis={"range": [1, 5]}, barmode="group"
        ),
    }


def service_daily(t: dict[str, Any]) -> Figure:
    days = _column(t, "period")
    return {
        "data": [
            {
                "type": "bar",
                "x": days,
                "y": _column(t, "opened"),
                "name": _("Opened"),
                "marker": {"color": "#fdba74"},
            },
            {
                "type": "bar",
                "x": days,
                "y": _column(t, "done"),
                "name": _("Resolved or closed"),
                "marker": {"color": "#86efac"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": days,
                "y": _column(t, "open"),
                "name": _("Open at the end of the day"),
                "line": {"color": BLUE},
            },
        ],
        "layout": _layout(_("Cases and backlog by day"), barmode="group"),
    }


def service_teams(t: dict[str, Any]) -> Figure:
    teams = [team or _("No team") for team in _column(t, "team")]
    return {
        "data": [
            {
                "type": "bar",
                "x": teams,
                "y": _pct(_column(t, "first_response_rate")),
                "name": _("First response within SLA (%)"),
                "marker": {"color": ACCENT},
            },
            {
                "type": "bar",
                "x": teams,
                "y": _pct(_column(t, "resolution_rate")),
                "name": _("Resolution within SLA (%)"),
                "marker": {"color": BLUE},
            },
        ],
        "layout": _layout(_("SLA attainment by team"), barmode="group", yaxis={"range": [0, 100]}),
    }


def voice_aspects(t: dict[str, Any]) -> Figure:
    names = [aspect_label(a) for a in _column(t, "aspect")]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "x": _pct(_column(t, "share_of_analysed")),
                "name": _("This period"),
                "marker": {"color": ACCENT},
            },
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "x": _pct(_column(t, "previous_share")),
                "name": _("Previous period"),
                "marker": {"color": GREY},
            },
        ],
        "layout": _layout(
            _("Reviews complaining about each aspect (share of analysed, %)"),
            barmode="group",
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }


BUCKETS = {
    "on_time": gettext_lazy("On time"),
    "1-3": gettext_lazy("1–3 days late"),
    "4-7": gettext_lazy("4–7 days late"),
    "8-14": gettext_lazy("8–14 days late"),
    "15+": gettext_lazy("15+ days late"),
}


def sales_delivery(t: dict[str, Any]) -> Figure:
    mean = _column(t, "mean")
    return {
        "data": [
            {
                "type": "bar",
                "x": [str(BUCKETS.get(b, b)) for b in _column(t, "bucket")],
                "y": mean,
                "error_y": _errors(mean, _column(t, "mean_low"), _column(t, "mean_high")),
                "marker": {"color": ACCENT},
                "text": [f"n={n}" for n in _column(t, "n")],
            }
        ],
        "layout": _layout(_("Mean rating by delivery delay"), yaxis={"range": [1, 5]}),
    }


def sales_tiers(t: dict[str, Any]) -> Figure:
    tiers = [tier_label(x) for x in _column(t, "tier")]
    rate = _column(t, "repeat_rate")
    revenue = _column(t, "revenue_per_customer")
    return {
        "data": [
            {
                "type": "bar",
                "x": tiers,
                "y": _pct(rate),
                "name": _("Repeat purchase (%)"),
                "error_y": _errors(
                    rate, _column(t, "repeat_rate_low"), _column(t, "repeat_rate_high"), 100
                ),
                "marker": {"color": ACCENT},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": tiers,
                "y": revenue,
                "name": _("Revenue per customer"),
                "yaxis": "y2",
                "marker": {"color": BLUE, "size": 11},
            },
        ],
        "layout": _layout(
            _("Repeat purchase and revenue by first-order rating"),
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False},
        ),
    }


def value_clv(t: dict[str, Any]) -> Figure:
    clv = _column(t, "clv_mean")
    return {
        "data": [
            {
                "type": "bar",
                "x": [tier_label(x) for x in _column(t, "tier")],
                "y": clv,
                "error_y": _errors(clv, _column(t, "clv_low"), _column(t, "clv_high")),
                "marker": {"color": GREEN},
            }
        ],
        "layout": _layout(_("12-month customer value by first-order rating")),
    }


def drivers_drivers(t: dict[str, Any]) -> Figure:
    share = _column(t, "lmg_share")
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [driver_label(d) for d in _column(t, "driver")],
                "x": _pct(share),
                "marker": {"color": ACCENT},
            }
        ],
        "layout": _layout(
            _("Share of the explained rating variance (LMG)"),
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }


CHARTS: dict[tuple[str, str], Callable[[dict[str, Any]], Figure]] = {
    ("satisfaction", "daily"): satisfaction_daily,
    ("satisfaction", "distribution"): satisfaction_distribution,
    ("satisfaction", "dsr"): satisfaction_dsr,
    ("service", "daily"): service_daily,
    ("service", "teams"): service_teams,
    ("voice", "aspects"): voice_aspects,
    ("sales", "delivery"): sales_delivery,
    ("sales", "tiers"): sales_tiers,
    ("value", "clv"): value_clv,
    ("drivers", "drivers"): drivers_drivers,
}


def figures(block: str, data: dict[str, Any]) -> list[tuple[str, Figure]]:
    """``(table name, figure)`` for each chart of a block that has rows."""
    out = []
    for (key, name), build in CHARTS.items():
        table = data.get("tables", {}).get(name)
        if key == block and table and table["rows"]:
            out.append((name, build(table)))
    return out
