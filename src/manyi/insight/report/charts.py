"""Shared chart styling for the report's plotly figures (plain dicts; plotly not imported).

Examples
--------
>>> from manyi.insight.report.charts import layout
>>> layout("Ratings")["title"]
{'text': 'Ratings'}
"""

from __future__ import annotations

from typing import Any

COLORS = {"good": "#2e7d32", "neutral": "#f9a825", "bad": "#c62828", "main": "#1565c0"}
TIER_COLORS = {"1-2": COLORS["bad"], "3": COLORS["neutral"], "4-5": COLORS["good"]}


def layout(title: str, **extra: Any) -> dict[str, Any]:
    """A plotly layout dict with the report's margins and colours (``extra`` axes are merged)."""
    base: dict[str, Any] = {
        "title": {"text": title},
        "margin": {"l": 50, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        # automargin widens the margin for long tick labels (category names) instead of
        # cutting them off.
        "xaxis": {"gridcolor": "#e5e7eb", "automargin": True},
        "yaxis": {"gridcolor": "#e5e7eb", "automargin": True},
    }
    for key, value in extra.items():
        if key in ("xaxis", "yaxis"):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def error_bars(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Asymmetric plotly error bars from ``key``, ``key_low`` and ``key_high`` of each row."""

    def up(r: dict[str, Any]) -> float | None:
        return None if r[key] is None or r[f"{key}_high"] is None else r[f"{key}_high"] - r[key]

    def down(r: dict[str, Any]) -> float | None:
        return None if r[key] is None or r[f"{key}_low"] is None else r[key] - r[f"{key}_low"]

    return {
        "type": "data",
        "symmetric": False,
        "array": [up(r) for r in rows],
        "arrayminus": [down(r) for r in rows],
    }
