"""Plain-language alert messages in English and Chinese.

Values are written in the metric's unit (``18.3 %`` / ``18.3%``, ``4.12★``, ``3.5 h`` /
``3.5 小时``, NPS ``+23.0``); changes of shares in percentage points; counts per period.

Examples
--------
>>> from manyi.insight.monitor.messages import value_text, change_text
>>> value_text("share", 0.1834, "en"), value_text("share", 0.1834, "zh")
('18.3 %', '18.3%')
>>> change_text("share", -0.031, "en"), change_text("stars", -0.31, "zh")
('−3.1 points', '−0.31★')
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

from manyi.insight.report.words import pct

#: How a method's score is named in messages.
METHOD_NAMES: dict[str, tuple[str, str]] = {
    "seasonal_mad": ("robust z against the same weekday", "同星期中位数/MAD 稳健 z 值"),
    "stl": ("z against the trend and weekly pattern", "趋势+周季节分解 z 值"),
    "ewma": ("EWMA chart", "EWMA 控制图"),
    "cusum": ("CUSUM chart", "CUSUM 控制图"),
}
TEST_NAMES: dict[str, str] = {
    "z": "two-proportion z-test",
    "welch": "Welch t-test",
    "mann_whitney": "Mann–Whitney U",
    "poisson": "Poisson rate test",
    "poisson_exact": "exact Poisson test",
    "nps_z": "NPS z-test",
}


def minus(text: str) -> str:
    """Replace ASCII hyphen-minus signs with a true minus sign."""
    return text.replace("-", "−")


def value_text(unit: str, value: float | None, lang: str) -> str:
    """A value in its unit (``–`` when unknown)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "share":
        return pct(value, lang)
    if unit == "stars":
        return f"{value:.2f}★"
    if unit == "hours":
        return f"{value:.1f} h" if lang == "en" else f"{value:.1f} 小时"
    if unit == "points":
        return minus(f"{value:+.1f}")
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def change_text(unit: str, change: float | None, lang: str) -> str:
    """A change in the unit's natural terms (points for shares)."""
    if change is None or math.isnan(change):
        return "–"
    if unit == "share":
        points = minus(f"{100 * change:+.1f}")
        return f"{points} points" if lang == "en" else f"{points} 个百分点"
    if unit == "stars":
        return minus(f"{change:+.2f}★")
    if unit == "hours":
        return minus(f"{change:+.1f}") + (" h" if lang == "en" else " 小时")
    if unit == "points":
        return minus(f"{change:+.1f}") + (" points" if lang == "en" else " 分")
    return minus(f"{change:+,.1f}")


def period_text(period: pd.Timestamp | datetime, freq: str, window: int, lang: str) -> str:
    """ "on 2018-03-05", "over the 7 days to 2018-03-05", "in the hour from ... 15:00"."""
    stamp = pd.Timestamp(period)
    if freq == "hour":
        when = stamp.strftime("%Y-%m-%d %H:%M")
        if window == 1:
            return f"in the hour from {when}" if lang == "en" else f"{when} 起的 1 小时内"
        return (
            f"over the {window} hours to {when}"
            if lang == "en"
            else f"截至 {when} 的 {window} 小时内"
        )
    day = stamp.strftime("%Y-%m-%d")
    if window == 1:
        return f"on {day}" if lang == "en" else f"{day}"
    return f"over the {window} days to {day}" if lang == "en" else f"截至 {day} 的 {window} 天"


def per_period(unit: str, freq: str, lang: str) -> str:
    """ " a day" / "每天" suffix for count values, else empty."""
    if unit != "count":
        return ""
    if lang == "en":
        return " a day" if freq == "day" else " an hour"
    return "/天" if freq == "day" else "/小时"


def p_number(p: float | None) -> str:
    """A p- or q-value alone: ``0.014``, ``< 0.0001`` or ``–``."""
    if p is None:
        return "–"
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}"


def p_text(p: float | None) -> str:
    """A p-value with two significant digits (``p < 0.0001`` below that)."""
    if p is None:
        return "p = –"
    if p < 1e-4:
        return "p < 0.0001"
    return f"p = {p:.2g}"
