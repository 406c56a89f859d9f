"""Template filters of the agent console: relative SLA due times and status names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk.cases.models import CaseStatus, SlaState

register = template.Library()


def describe_due(due: datetime | None, now: datetime) -> str:
    """``"in 35 min"``, ``"overdue 2 h"``, ``"in 3 d"``: how far a deadline is from ``now``.

    Rounded down, so an agent never reads more time than is left; under a minute counts as
    "due now" on either side.
    """
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    if minutes == 0:
        return _("due now")
    if minutes < 60:
        amount = _("%(n)s min") % {"n": minutes}
    elif minutes < 48 * 60:
        amount = _("%(n)s h") % {"n": minutes // 60}
    else:
        amount = _("%(n)s d") % {"n": minutes // (24 * 60)}
    if seconds < 0:
        return _("overdue %(amount)s") % {"amount": amount}
    return _("in %(amount)s") % {"amount": amount}


@register.filter
def due_in(due: datetime | None) -> str:
    return describe_due(due, timezone.now())


@register.filter
def is_overdue(due: datetime | None) -> bool:
    return due is not None and due < timezone.now()


@register.filter
def get_item(mapping: Mapping[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def status_label(value: str | None) -> str:
    """The translated name of a status value (events store the value)."""
    if not value:
        return ""
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return value


@register.filter
def sla_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(SlaState(value).label)
    except ValueError:
        return value
