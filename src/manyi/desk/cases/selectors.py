"""Reads of cases, with the object-level rules: who may see which case.

Admins, managers and analysts see every case; an agent sees the cases of their teams, the
cases assigned to them, and cases not yet given to any team (the shared triage queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Case as Case_
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When

from manyi.desk import sqlrows
from manyi.desk.accounts.roles import may_work_cases, sees_all_cases
from manyi.desk.cases.clocks import CLOCK_FIELDS
from manyi.desk.cases.errors import CaseError, CaseErrorCode
from manyi.desk.cases.models import (
    BusinessCalendar,
    Case,
    CaseEvent,
    CaseItem,
    Message,
    SlaPolicy,
    SlaState,
)
from manyi.desk.cases.states import DONE_STATUSES, OPEN_STATUSES, Transition, allowed_transitions
from manyi.desk.commerce.models import OrderItem


def _team_codes(user: Any) -> list[str]:
    cached: list[str] | None = getattr(user, "_manyi_teams", None)
    if cached is None:
        cached = list(user.teams.values_list("code", flat=True))
        user._manyi_teams = cached
    return cached


def visible_cases(user: Any) -> QuerySet[Case]:
    """Every case ``user`` may see (an unauthenticated user sees none)."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    cases = Case.objects.all()
    if sees_all_cases(user):
        return cases
    return cases.filter(Q(team__in=_team_codes(user)) | Q(assignee=user) | Q(team__isnull=True))


def can_view(user: Any, case: Case) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if sees_all_cases(user):
        return True
    return case.team_id is None or case.assignee_id == user.pk or case.team_id in _team_codes(user)


def can_work_on(user: Any, case: Case) -> bool:
    return can_view(user, case) and may_work_cases(user)


#: What the case page shows beside the case itself.
PAGE_RELATED = ("customer", "order", "team", "assignee", "sla_policy__calendar", "decided_by")


def get_case(user: Any, case_id: int, *, related: tuple[str, ...] = PAGE_RELATED) -> Case:
    """One case with the rows in ``related`` joined, or ``CaseError(NOT_FOUND)`` — also for a
    case the user may not see, so its existence is not disclosed."""
    case = visible_cases(user).select_related(*related).filter(case_id=case_id).first()
    if case is None:
        raise CaseError(CaseErrorCode.NOT_FOUND, f"No case #{case_id}.")
    return case


def _api_case_columns() -> tuple[sqlrows.Columns, ...]:
    return (
        sqlrows.columns(Case, "c"),
        sqlrows.columns(SlaPolicy, "p"),
        sqlrows.columns(BusinessCalendar, "k"),
        sqlrows.columns(get_user_model(), "u", ("username",)),
    )


def _log_columns() -> sqlrows.Columns:
    return sqlrows.columns(CaseEvent, "e", CLOCK_FIELDS)


def _with_arrays() -> bool:
    """PostgreSQL reads a case's lines and clock log in the case's own query, as arrays; the
    other databases (SQLite, in the same process: no round trip to save) read them apart."""
    return connections["default"].vendor == "postgresql"


@sqlrows.once
def _api_case_sql() -> str:
    case_cols, policy_cols, calendar_cols, decider_cols = _api_case_columns()
    user_model = get_user_model()
    col, tab = sqlrows.column, sqlrows.table
    arrays = ""
    if _with_arrays():
        lines = (
            f"ARRAY(SELECT {col(OrderItem, 'i', 'line_no')} "
            f"FROM {tab(CaseItem, 'ci')} JOIN {tab(OrderItem, 'i')} "
            f"ON {col(OrderItem, 'i', 'id')} = {col(CaseItem, 'ci', 'order_item')} "
            f"WHERE {col(CaseItem, 'ci', 'case')} = {col(Case, 'c', 'case_id')} "
            f"ORDER BY {col(OrderItem, 'i', 'line_no')})"
        )
        log = [
            f"ARRAY(SELECT {col(CaseEvent, 'e', f.attname)} FROM {tab(CaseEvent, 'e')} "
            f"WHERE {col(CaseEvent, 'e', 'case')} = {col(Case, 'c', 'case_id')} "
            f"ORDER BY {col(CaseEvent, 'e', 'seq')})"
            for f in _log_columns().fields
        ]
        arrays = ", " + ", ".join([lines, *log])
    return (
        f"SELECT {case_cols.sql}, {policy_cols.sql}, {calendar_cols.sql}, {decider_cols.sql}"
        f"{arrays} "
        f"FROM {tab(Case, 'c')} "
        f"LEFT JOIN {tab(SlaPolicy, 'p')} "
        f"ON {col(SlaPolicy, 'p', 'id')} = {col(Case, 'c', 'sla_policy')} "
        f"LEFT JOIN {tab(BusinessCalendar, 'k')} "
        f"ON {col(BusinessCalendar, 'k', 'id')} = {col(SlaPolicy, 'p', 'calendar')} "
        f"LEFT JOIN {tab(user_model, 'u')} "
        f"ON {col(user_model, 'u', 'id')} = {col(Case, 'c', 'decided_by')} "
        f"WHERE {col(Case, 'c', 'case_id')} = %s"
    )


@dataclass(frozen=True)
class ApiCase:
    """A case as the API reads it: the case with its SLA policy, calendar and decider, and,
    where one query could read them too, its order line numbers and its clock log (``None``:
    read them when needed, :func:`case_line_numbers` and ``clocks.clock_log``)."""

    case: Case
    lines: list[int] | None = None
    log: list[CaseEvent] | None = None


def read_case_for_api(user: Any, case_id: int) -> ApiCase:
    """What :func:`get_case` with the API's joins (SLA policy and its calendar, the deciding
    user) returns, read with one hand-written query (``manyi.desk.sqlrows``): the API's
    case read is its busiest call. On PostgreSQL the same query brings the case's line
    numbers and clock log (one round trip instead of three). Visibility is :func:`can_view`,
    the same rule as :func:`visible_cases`; a case the user may not see is "not found"."""
    case_cols, policy_cols, calendar_cols, decider_cols = _api_case_columns()
    if not getattr(user, "is_authenticated", False):
        raise CaseError(CaseErrorCode.NOT_FOUND, f"No case #{case_id}.")
    rows = sqlrows.fetch(_api_case_sql(), [case_id])
    case = case_cols.build(rows[0]) if rows else None
    if not isinstance(case, Case) or not can_view(user, case):
        raise CaseError(CaseErrorCode.NOT_FOUND, f"No case #{case_id}.")
    row, at = rows[0], case_cols.width
    policy = None if policy_cols.is_null(row, at) else policy_cols.build(row, at)
    at += policy_cols.width
    if isinstance(policy, SlaPolicy):
        sqlrows.attach(policy, "calendar", calendar_cols.build(row, at))
    sqlrows.attach(case, "sla_policy", policy)
    at += calendar_cols.width
    decider = None if decider_cols.is_null(row, at) else decider_cols.build(row, at)
    sqlrows.attach(case, "decided_by", decider)
    at += decider_cols.width
    if len(row) == at:
        return ApiCase(case)
    log_cols = _log_columns()
    lines = [int(n) for n in row[at]]
    log = [log_cols.build(values) for values in zip(*row[at + 1 :], strict=True)]
    return ApiCase(case, lines, log)  # type: ignore[arg-type]


@sqlrows.once
def _lines_sql() -> str:
    col, tab = sqlrows.column, sqlrows.table
    return (
        f"SELECT {col(OrderItem, 'i', 'line_no')} "
        f"FROM {tab(CaseItem, 'ci')} JOIN {tab(OrderItem, 'i')} "
        f"ON {col(OrderItem, 'i', 'id')} = {col(CaseItem, 'ci', 'order_item')} "
        f"WHERE {col(CaseItem, 'ci', 'case')} = %s "
        f"ORDER BY {col(OrderItem, 'i', 'line_no')}"
    )


def case_line_numbers(case_id: int) -> list[int]:
    """The order line numbers the case is about, in order."""
    return [int(r[0]) for r in sqlrows.fetch(_lines_sql(), [case_id])]


PRIORITY_ORDER = ("urgent", "high", "normal", "low")

QUEUES = ("mine", "team", "unassigned", "at_risk", "breached", "waiting", "open", "all")


@dataclass(frozen=True)
class CaseFilters:
    queue: str = "open"
    status: str | None = None
    kind: str | None = None
    priority: str | None = None
    channel: str | None = None
    team: str | None = None
    search: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None


def list_cases(user: Any, filters: CaseFilters) -> QuerySet[Case]:
    """The cases of a queue, filtered and searched, most urgent first."""
    cases = visible_cases(user).select_related("team", "assignee", "customer")
    queue = filters.queue
    if queue == "mine":
        cases = cases.filter(assignee=user, status__in=OPEN_STATUSES)
    elif queue == "team":
        cases = cases.filter(team__in=_team_codes(user), status__in=OPEN_STATUSES)
    elif queue == "unassigned":
        cases = cases.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    elif queue == "at_risk":
        cases = cases.filter(sla_state=SlaState.AT_RISK, status__in=OPEN_STATUSES)
    elif queue == "breached":
        cases = cases.filter(sla_state=SlaState.BREACHED, status__in=OPEN_STATUSES)
    elif queue == "waiting":
        cases = cases.filter(status="waiting_on_customer")
    elif queue == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    for name in ("status", "kind", "priority", "channel"):
        value = getattr(filters, name)
        if value:
            cases = cases.filter(**{name: value})
    if filters.team:
        cases = cases.filter(team=filters.team)
    if filters.opened_from:
        cases = cases.filter(opened_at__gte=filters.opened_from)
    if filters.opened_to:
        cases = cases.filter(opened_at__lt=filters.opened_to)
    if filters.search:
        term = filters.search.strip().lstrip("#")
        query = (
            Q(subject__icontains=term)
            | Q(contact_email__iexact=term)
            | Q(contact_name__icontains=term)
            | Q(order_id=term)
            | Q(customer_id=term)
        )
        if term.isascii() and term.isdigit():  # int() refuses digits such as ²
            query |= Q(case_id=int(term))
        cases = cases.filter(query)
    # Most urgent first: the nearest SLA instant, then priority by rank (not alphabetically),
    # then the oldest. Cases without a running clock come after those with one.
    rank = Case_(
        *(When(priority=p, then=Value(i)) for i, p in enumerate(PRIORITY_ORDER)),
        default=Value(len(PRIORITY_ORDER)),
        output_field=IntegerField(),
    )
    return cases.annotate(priority_rank=rank).order_by(
        F("sla_check_at").asc(nulls_last=True), "priority_rank", "opened_at", "case_id"
    )


def count_queues(user: Any) -> dict[str, int]:
    """How many cases each queue holds, in one query."""
    base = visible_cases(user)
    teams = _team_codes(user) if getattr(user, "is_authenticated", False) else []
    open_q = Q(status__in=OPEN_STATUSES)
    return base.aggregate(
        mine=Count("case_id", filter=open_q & Q(assignee=user)),
        team=Count("case_id", filter=open_q & Q(team__in=teams)),
        unassigned=Count("case_id", filter=open_q & Q(assignee__isnull=True)),
        at_risk=Count("case_id", filter=open_q & Q(sla_state=SlaState.AT_RISK)),
        breached=Count("case_id", filter=open_q & Q(sla_state=SlaState.BREACHED)),
        waiting=Count("case_id", filter=Q(status="waiting_on_customer")),
        open=Count("case_id", filter=open_q),
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    event: CaseEvent | None
    message: Message | None


def get_timeline(case: Case, *, include_internal: bool = True) -> list[TimelineEntry]:
    """The case's events and messages in time order (messages attached to their event)."""
    events = list(case.events.select_related("actor_user").order_by("at", "seq"))
    messages = case.messages.prefetch_related("attachments").order_by("created_at", "id")
    if not include_internal:
        messages = messages.exclude(direction="internal")
    by_event = {m.event_id: m for m in messages if m.event_id is not None}
    entries = [TimelineEntry(e.at, e, by_event.get(e.pk)) for e in events]
    entries += [TimelineEntry(m.created_at, None, m) for m in messages if m.event_id is None]
    entries.sort(key=lambda e: (e.at, e.event.seq if e.event else 0))
    if not include_internal:
        entries = [e for e in entries if e.event is None or e.event.kind != "note"]
    return entries


def list_customer_timeline(user: Any, customer_id: str) -> list[Message]:
    """Every message with one customer, across their cases and channels (newest first)."""
    return list(
        Message.objects.filter(case__in=visible_cases(user).filter(customer_id=customer_id))
        .select_related("case")
        .order_by("-created_at", "-id")[:200]
    )


def list_allowed_transitions(user: Any, case: Case) -> list[Transition]:
    """The moves to offer on the case page: those the table allows, if the user may work on it."""
    if not can_work_on(user, case):
        return []
    return allowed_transitions(case.kind, case.status)


def is_done(case: Case) -> bool:
    return case.status in DONE_STATUSES
