"""The live view's plotly figures, drawn from a :func:`~manyi.insight.monitor.live_snapshot`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from manyi.desk.dashboards.charts import ACCENT, BLUE, GREY, _layout
from manyi.desk.dashboards.labels import aspect_label

Figure = dict[str, Any]


def _hourly(snap: dict[str, Any], metric: str, title: str, color: str) -> Figure | None:
    rows = [h for h in snap.get("hours") or [] if metric in h]
    if not any(h[metric]["count"] or h[metric]["expected"] for h in rows):
        return None  # nothing happened and nothing was expected: no empty chart
    hours = [h["hour"][11:16] for h in rows]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": hours,
                "y": [h[metric]["high"] for h in rows],
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": hours,
                "y": [h[metric]["low"] for h in rows],
                "fill": "tonexty",
                "fillcolor": "rgba(148,163,184,0.25)",
                "line": {"width": 0},
                "name": _("Baseline range (95 %)"),
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": hours,
                "y": [h[metric]["expected"] for h in rows],
                "line": {"color": GREY, "dash": "dot"},
                "name": _("Expected"),
            },
            {
                "type": "bar",
                "x": hours,
                "y": [h[metric]["count"] for h in rows],
                "marker": {"color": [ACCENT if h[metric]["above"] else color for h in rows]},
                "name": _("This hour"),
            },
        ],
        "layout": _layout(title, xaxis={"type": "category", "automargin": True}),
    }


def _satisfaction(snap: dict[str, Any]) -> Figure | None:
    s = snap.get("satisfaction")
    if not s or not any(d["reviews"] for d in s.get("days") or []):
        return None
    days = [d["day"] for d in s["days"]]
    base = s.get("baseline_mean_rating")
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": days,
            "y": [d["mean_rating"] for d in s["days"]],
            "name": _("Mean rating"),
            "line": {"color": ACCENT},
        },
        {
            "type": "bar",
            "x": days,
            "y": [d["reviews"] for d in s["days"]],
            "name": _("Reviews"),
            "yaxis": "y2",
            "marker": {"color": "#e2e8f0"},
        },
    ]
    if base is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": days,
                "y": [base] * len(days),
                "name": _("Baseline mean"),
                "line": {"color": GREY, "dash": "dot"},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            _("Satisfaction by campaign day"),
            xaxis={"type": "category"},
            yaxis={"range": [1, 5]},
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
        ),
    }


def _topics(snap: dict[str, Any]) -> Figure | None:
    t = snap.get("topics")
    if not t or not t.get("aspects"):
        return None
    names = [aspect_label(a["aspect"]) for a in t["aspects"]]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "x": [a["per_100"] for a in t["aspects"]],
                "name": _("Campaign"),
                "marker": {"color": ACCENT},
            },
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "x": [a["baseline_per_100"] for a in t["aspects"]],
                "name": _("Baseline"),
                "marker": {"color": GREY},
            },
        ],
        "layout": _layout(
            _("Complaints per 100 reviews by aspect"),
            barmode="group",
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }


def live_figures(snap: dict[str, Any]) -> list[tuple[str, Figure]]:
    candidates = [
        ("cases", _hourly(snap, "cases_opened", _("Cases opened per hour"), BLUE)),
        ("complaints", _hourly(snap, "complaints", _("Complaints per hour"), BLUE)),
        ("orders", _hourly(snap, "orders", _("Orders per hour"), "#64748b")),
        ("satisfaction", _satisfaction(snap)),
        ("topics", _topics(snap)),
    ]
    return [(name, fig) for name, fig in candidates if fig is not None]
