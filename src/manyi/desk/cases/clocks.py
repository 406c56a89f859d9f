"""A case's SLA clocks, computed from its event log with the pure arithmetic of ``sla.py``.

The stored ``*_due_at``, ``sla_state`` and ``sla_check_at`` columns are only a cache of this
computation for the queues; :func:`refresh_sla` rewrites them from the log every time, so a
corrected history (a back-dated phone call, a forgotten "waiting on customer") recomputes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings

from manyi.desk import sqlrows
from manyi.desk.cases import sla
from manyi.desk.cases.models import (
    BusinessCalendar,
    Case,
    CaseEvent,
    CaseEventKind,
    SlaPolicy,
)
from manyi.desk.cases.states import DONE_STATUSES, PAUSE_STATUSES

#: Event kinds that count as the shop answering the customer.
RESPONSE_KINDS = frozenset({CaseEventKind.REPLY})


def _policy_columns() -> tuple[sqlrows.Columns, sqlrows.Columns]:
    return sqlrows.columns(SlaPolicy, "p"), sqlrows.columns(BusinessCalendar, "k")


@sqlrows.once
def _active_policies_sql() -> str:
    policy, calendar = _policy_columns()
    col, tab = sqlrows.column, sqlrows.table
    return (
        f"SELECT {policy.sql}, {calendar.sql} FROM {tab(SlaPolicy, 'p')} "
        f"JOIN {tab(BusinessCalendar, 'k')} "
        f"ON {col(BusinessCalendar, 'k', 'id')} = {col(SlaPolicy, 'p', 'calendar')} "
        f"WHERE {col(SlaPolicy, 'p', 'active')} = %s "
        f"AND {col(SlaPolicy, 'p', 'kind')} IN ('', %s) "
        f"AND {col(SlaPolicy, 'p', 'priority')} IN ('', %s) "
        f"AND {col(SlaPolicy, 'p', 'channel')} IN ('', %s)"
    )


def _active_policies(kind: str, priority: str, channel: str) -> list[SlaPolicy]:
    """The active policies that may match (each of kind, priority and channel blank or
    equal), with their calendars: one hand-written query, since each new case asks."""
    policy_cols, calendar_cols = _policy_columns()
    out = []
    for row in sqlrows.fetch(_active_policies_sql(), [True, kind, priority, channel]):
        policy = policy_cols.build(row)
        assert isinstance(policy, SlaPolicy)
        policy.calendar = calendar_cols.build(row, policy_cols.width)  # type: ignore[assignment]
        out.append(policy)
    return out


def choose_policy(kind: str, priority: str, channel: str) -> SlaPolicy | None:
    """The most specific active policy that matches (more fields set wins, then rank)."""
    best: tuple[int, int, str] | None = None
    chosen: SlaPolicy | None = None
    for policy in _active_policies(kind, priority, channel):
        fields = (policy.kind, policy.priority, policy.channel)
        wanted = (kind, priority, channel)
        if any(f and f != w for f, w in zip(fields, wanted, strict=True)):
            continue
        key = (-sum(1 for f in fields if f), policy.rank, policy.name)
        if best is None or key < best:
            best, chosen = key, policy
    return chosen


#: Parsed calendars by their JSON text: a calendar is parsed once per process, not per request
#: (the parsed form is immutable; an edited calendar has another text).
_CALENDARS: dict[str, sla.BusinessCalendar] = {}


def calendar_of(model: BusinessCalendar | None) -> sla.BusinessCalendar:
    if model is None:
        return sla.BusinessCalendar.always_open(settings.TIME_ZONE)
    key = json.dumps(model.config, sort_keys=True)
    parsed = _CALENDARS.get(key)
    if parsed is None:
        if len(_CALENDARS) >= 64:
            _CALENDARS.clear()
        parsed = _CALENDARS[key] = sla.BusinessCalendar.from_config(model.config)
    return parsed


def targets_of(policy: SlaPolicy) -> sla.SlaTargets:
    def minutes(value: int | None) -> timedelta | None:
        return None if value is None else timedelta(minutes=value)

    return sla.SlaTargets(
        first_response=minutes(policy.first_response_minutes),
        next_response=minutes(policy.next_response_minutes),
        resolution=minutes(policy.resolution_minutes),
        at_risk_ratio=policy.at_risk_ratio,
    )


def clock_events(events: Iterable[CaseEvent]) -> list[sla.ClockEvent]:
    """The events the clocks care about, in the vocabulary of ``sla.py``."""
    out: list[sla.ClockEvent] = []
    for e in events:
        if e.kind == CaseEventKind.OPENED:
            out.append(sla.ClockEvent(at=e.at, kind="opened", status=e.to_status or "new"))
        elif e.kind == CaseEventKind.TRANSITION and e.to_status:
            out.append(sla.ClockEvent(at=e.at, kind="status", status=e.to_status))
        elif e.kind in RESPONSE_KINDS:
            out.append(sla.ClockEvent(at=e.at, kind="agent_reply"))
        elif e.kind == CaseEventKind.CUSTOMER_MESSAGE:
            out.append(sla.ClockEvent(at=e.at, kind="customer_message"))
    return out


@sqlrows.once
def _clock_log_sql() -> str:
    cols = sqlrows.columns(CaseEvent, "e", CLOCK_FIELDS)
    return (
        f"SELECT {cols.sql} FROM {sqlrows.table(CaseEvent, 'e')} "
        f"WHERE {sqlrows.column(CaseEvent, 'e', 'case')} = %s "
        f"ORDER BY {sqlrows.column(CaseEvent, 'e', 'seq')}"
    )


#: What the clocks read of an event (its id comes along).
CLOCK_FIELDS = ("at", "kind", "to_status")


def clock_log(case_id: int) -> list[CaseEvent]:
    """The case's events with what the clocks read (time, kind, new status), in order; one
    hand-written query (``manyi.desk.sqlrows``): every case read and change needs it."""
    cols = sqlrows.columns(CaseEvent, "e", CLOCK_FIELDS)
    return [cols.build(r) for r in sqlrows.fetch(_clock_log_sql(), [case_id])]  # type: ignore[misc]


def compute_case_clocks(
    case: Case, now: datetime, events: Iterable[CaseEvent] | None = None
) -> tuple[sla.CaseClocks, sla.BusinessCalendar, sla.SlaTargets] | None:
    """The clocks of ``case`` at ``now``, or ``None`` when no SLA policy applies to it.

    ``events`` is the case's whole log when the caller already holds it (a case being opened);
    otherwise it is read.
    """
    policy = case.sla_policy
    if policy is None:
        return None
    calendar = calendar_of(policy.calendar)
    targets = targets_of(policy)
    if events is None:
        events = clock_log(case.case_id)
    clocks = sla.compute_clocks(
        clock_events(events),
        targets,
        calendar,
        now,
        pause_statuses=frozenset(PAUSE_STATUSES),
        stop_statuses=frozenset(DONE_STATUSES),
    )
    return clocks, calendar, targets


def refresh_sla(case: Case, now: datetime, events: Iterable[CaseEvent] | None = None) -> list[str]:
    """Recompute the cached SLA columns of ``case`` from its log; returns the changed fields.

    The caller saves them (``update_fields``) inside its transaction.
    """
    computed = compute_case_clocks(case, now, events)
    if computed is None:
        values: dict[str, object] = {
            "first_response_due_at": None,
            "next_response_due_at": None,
            "resolution_due_at": None,
            "sla_state": "not_applicable",
            "sla_check_at": None,
        }
    else:
        clocks, calendar, targets = computed
        values = {
            "first_response_due_at": _deadline(clocks.first_response),
            "next_response_due_at": _deadline(clocks.next_response),
            "resolution_due_at": _deadline(clocks.resolution),
            "sla_state": str(clocks.worst_state()),
            "sla_check_at": _next_check(clocks, calendar, targets, now),
        }
    # Stored and compared in UTC: in a repeated autumn hour two aware datetimes of one zone with
    # different folds compare unequal even when they are the same instant.
    values = {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in values.items()}
    changed = [name for name, value in values.items() if _differs(getattr(case, name), value)]
    for name in changed:
        setattr(case, name, values[name])
    return changed


def _differs(old: object, new: object) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old.astimezone(UTC) != new
    return old != new


def _deadline(clock: sla.Clock) -> datetime | None:
    """The due instant to store: projected while running, when it breached, or for a met
    clock when it would have breached (so "answered at or before it" means met)."""
    return clock.deadline_at


def _next_check(
    clocks: sla.CaseClocks, calendar: sla.BusinessCalendar, targets: sla.SlaTargets, now: datetime
) -> datetime | None:
    """When the worker should look again: the next at-risk or breach instant of a running clock."""
    instants: list[datetime] = []
    for clock in (clocks.first_response, clocks.next_response, clocks.resolution):
        if clock.due_at is None or clock.target_seconds is None or clock.due_at <= now:
            continue
        instants.append(clock.due_at)
        to_risk = targets.at_risk_ratio * clock.target_seconds - clock.elapsed_seconds
        if to_risk > 0:
            instants.append(sla.add_business_seconds(calendar, now, to_risk))
    return min(instants) if instants else None
