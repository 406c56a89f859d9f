"""Template helpers: figures in their units, deltas, p-values, and the navigation links."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from manyi.desk.dashboards import kpis
from manyi.desk.dashboards.labels import NOTES, aspect_label, kpi_label
from manyi.desk.dashboards.permissions import sees_alerts, sees_campaigns, sees_dashboard

register = template.Library()


def _fmt(value: float, digits: int) -> str:
    return number_format(round(value, digits), digits, use_l10n=True, force_grouping=True)


def format_value(value: Any, unit: str, *, signed: bool = False) -> str:
    """``76.6 %``, ``4.17★``, ``3.4 h``, ``33.5``, ``1,234`` (``signed``: a change, shares in
    percentage points)."""
    number = kpis.number(value)
    if number is None:
        return "—"
    sign = "+" if signed and number > 0 else ""
    if unit == "share":
        if signed:
            return sign + _fmt(100 * number, 1) + " " + _("pp")
        return _fmt(100 * number, 1) + " %"
    if unit == "stars":
        return sign + _fmt(number, 2) + "★"
    if unit == "hours":
        return sign + _fmt(number, 1) + " " + _("h")
    if unit in ("points", "score"):
        return sign + _fmt(number, 1 if unit == "points" else 2)
    if unit == "money":
        return sign + _fmt(number, 2)
    return sign + _fmt(number, 0)


@register.filter
def kpi_value(item: dict[str, Any]) -> str:
    return format_value(item.get("value"), item.get("unit", ""))


@register.filter
def kpi_prev(item: dict[str, Any]) -> str:
    return format_value(item.get("prev"), item.get("unit", ""))


@register.filter
def kpi_delta(item: dict[str, Any]) -> str:
    return format_value(item.get("delta"), item.get("unit", ""), signed=True)


@register.filter
def kpi_interval(item: dict[str, Any]) -> str:
    low, high, unit = (
        kpis.number(item.get("low")),
        kpis.number(item.get("high")),
        item.get("unit", ""),
    )
    if low is None or high is None:
        return ""
    if unit == "share":
        return f"{_fmt(100 * low, 1)}–{_fmt(100 * high, 1)} %"
    return f"{format_value(low, unit)} – {format_value(high, unit)}"


@register.filter
def kpi_verdict(item: dict[str, Any]) -> str:
    return kpis.verdict(item)


@register.filter
def p_text(item: dict[str, Any]) -> str:
    p = kpis.number(item.get("p_value"))
    if p is None:
        return ""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


@register.filter
def label(key: str) -> str:
    return kpi_label(key)


@register.filter
def aspect(code: str) -> str:
    return aspect_label(code)


@register.filter
def note(code: str) -> str:
    return str(NOTES.get(code, code))


@register.filter
def pct(value: Any) -> str:
    return format_value(value, "share")


@register.filter
def hours(value: Any) -> str:
    return format_value(value, "hours")


@register.filter
def lang_text(value: Any, lang: str) -> str:
    """``{"en": ..., "zh": ...}`` in the page's language (``zh-hans`` → ``zh``)."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    key = "zh" if str(lang).startswith("zh") else "en"
    return str(value.get(key) or value.get("en") or "")


@register.filter
def lang_list(value: Any, lang: str) -> list[Any]:
    """``{"en": [...], "zh": [...]}`` in the page's language."""
    if not isinstance(value, dict):
        return []
    key = "zh" if str(lang).startswith("zh") else "en"
    return list(value.get(key) or value.get("en") or [])


@register.inclusion_tag("dashboards/_nav.html", takes_context=True)
def dashboards_nav(context: dict[str, Any]) -> dict[str, Any]:
    """The navigation links of the dashboards app, for the roles that see them."""
    user = context.get("user")
    return {
        "dashboard": sees_dashboard(user),
        "alerts": sees_alerts(user),
        "campaigns": sees_campaigns(user),
    }
