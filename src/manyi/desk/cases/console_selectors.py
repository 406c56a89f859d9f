"""Reads the agent console needs beyond ``selectors.py``: the customer panel, macros, the
people and teams a case can be given to, the live SLA clocks, attachments.

Every function takes the requesting user and goes through ``selectors.visible_cases``, so the
team rule of ``selectors.py`` is the only place that decides who sees what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from manyi.desk.accounts.models import Team
from manyi.desk.accounts.roles import Role
from manyi.desk.cases.clocks import compute_case_clocks
from manyi.desk.cases.errors import CaseError, CaseErrorCode
from manyi.desk.cases.models import Attachment, Case, Macro
from manyi.desk.cases.selectors import visible_cases
from manyi.desk.commerce.models import Order

#: The three clocks in the order the case page shows them.
CLOCK_LABELS: tuple[tuple[str, str | Promise], ...] = (
    ("first_response", _("First response")),
    ("next_response", _("Next response")),
    ("resolution", _("Resolution")),
)


@dataclass(frozen=True)
class ClockView:
    name: str
    label: str | Promise
    state: str
    #: The instant the clock breaches (running), breached, or would have breached (met).
    due_at: datetime | None
    stopped_at: datetime | None


def list_case_clocks(case: Case, now: datetime) -> list[ClockView]:
    """The case's clocks at ``now``, replayed from its log (empty when no SLA policy applies)."""
    computed = compute_case_clocks(case, now)
    if computed is None:
        return []
    clocks = computed[0]
    views = []
    for name, label in CLOCK_LABELS:
        clock = getattr(clocks, name)
        if clock.target_seconds is None:
            continue
        views.append(
            ClockView(
                name=name,
                label=label,
                state=str(clock.state),
                due_at=clock.deadline_at or clock.due_at,
                stopped_at=clock.stopped_at,
            )
        )
    return views


def next_due_at(case: Case) -> datetime | None:
    """The earliest deadline still ahead of the agent, from the cached SLA columns.

    A first-response deadline no longer matters once answered, nor a resolution deadline once
    resolved; a paused case has no running deadline (the columns are empty then).
    """
    candidates = [case.next_response_due_at]
    if case.first_response_at is None:
        candidates.append(case.first_response_due_at)
    if case.resolved_at is None:
        candidates.append(case.resolution_due_at)
    due = [d for d in candidates if d is not None]
    return min(due) if due else None


def get_cases_by_id(user: Any, case_ids: list[int]) -> dict[int, Case]:
    """The cases among ``case_ids`` the user may see, by id (for reporting bulk results)."""
    if not case_ids:
        return {}
    return {c.case_id: c for c in visible_cases(user).filter(case_id__in=case_ids)}


def get_case_order(case: Case) -> Order | None:
    """The case's order with its items, products and payments (one query each)."""
    if case.order_id is None:
        return None
    return (
        Order.objects.filter(order_id=case.order_id)
        .prefetch_related("items__product", "payments")
        .first()
    )


def list_other_cases(user: Any, case: Case, *, limit: int = 20) -> list[Case]:
    """The customer's other cases this user may see, newest first."""
    if case.customer_id is None and not case.contact_email:
        return []
    same = Q(customer_id=case.customer_id) if case.customer_id else Q()
    if case.contact_email:
        same |= Q(contact_email__iexact=case.contact_email)
    return list(
        visible_cases(user)
        .filter(same)
        .exclude(case_id=case.case_id)
        .order_by("-opened_at")[:limit]
    )


def list_case_macros(case: Case) -> list[Macro]:
    """Active macros usable on this case: its language, and its team's or every team's."""
    team = Q(team__isnull=True)
    if case.team_id:
        team |= Q(team_id=case.team_id)
    return list(Macro.objects.filter(team, active=True, language=case.language).order_by("name"))


def get_case_macro(case: Case, macro_id: int) -> Macro:
    """One of :func:`list_case_macros`, or ``CaseError(NOT_FOUND)``."""
    for macro in list_case_macros(case):
        if macro.pk == macro_id:
            return macro
    raise CaseError(CaseErrorCode.NOT_FOUND, f"No macro {macro_id} for case #{case.case_id}.")


def list_assignable_agents(team: str | None = None) -> QuerySet[Any]:
    """Active people who may work on cases, the team's members first when ``team`` is given.

    Managers and admins may take any team's case, so they are offered too.
    """
    workers = Q(groups__name__in=[Role.AGENT, Role.MANAGER, Role.ADMIN]) | Q(is_superuser=True)
    users = get_user_model().objects.filter(workers, is_active=True)
    if team:
        users = users.filter(
            Q(teams__code=team)
            | Q(groups__name__in=[Role.MANAGER, Role.ADMIN])
            | Q(is_superuser=True)
        )
    return users.distinct().order_by("username")


def list_teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def get_attachment(user: Any, attachment_id: int) -> Attachment:
    """An attachment of a case the user may see, or ``CaseError(NOT_FOUND)``."""
    attachment = (
        Attachment.objects.select_related("message")
        .filter(pk=attachment_id, message__case__in=visible_cases(user))
        .first()
    )
    if attachment is None:
        raise CaseError(CaseErrorCode.NOT_FOUND, f"No attachment {attachment_id}.")
    return attachment
