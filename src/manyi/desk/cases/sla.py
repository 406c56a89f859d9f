"""SLA clocks of one after-sales case, replayed from its event log.

Pure functions over the standard library — no Django, no database, and ``now`` is always an
argument — so the desk, the SLA worker, the tests and a replay of history compute the same
numbers. Working time comes from :mod:`manyi.desk.cases.business_calendar`, whose names are
re-exported here.

Clocks
------
:func:`compute_clocks` replays a case's event log (Zendesk's and Freshdesk's rules):

* **first response** runs from the opening to the first agent reply;
* **next response** starts at the oldest customer message not yet answered, once the first
  response is over, and stops at the next agent reply; each later unanswered message starts a
  new cycle (:attr:`CaseClocks.next_response_history` keeps them all);
* **resolution** runs from the opening until the status enters a stop status and resumes when
  the case is reopened: its elapsed time accumulates across reopenings;
* every clock is **paused** while the status is in ``pause_statuses`` (waiting on the
  customer); entering a stop status also ends the response clocks, so a case resolved without a
  reply does not keep an overdue reply clock ticking (as Zendesk fulfils reply targets on
  solve). A customer message on a resolved case starts its next-response cycle only when the
  case is reopened.

A clock **breaches** at the instant its elapsed business time reaches the target while it keeps
running; it is **met** only if it stopped at or before that instant. A reply after that leaves
the clock ``breached`` with ``breached_at`` set — met late is breached, because the customer
waited longer than promised. When the target is reached exactly at closing time (18:00 on a
Friday), 18:00 is the breach instant: a reply on Saturday is late even though no working time
passed in between. This is the same rule as "answered at or before the due time", which
:mod:`manyi.insight.service` applies to the stored ``*_due_at`` columns, so the desk and the
report agree. Events dated after ``now`` are ignored (a replay "as of" an earlier instant).

Examples
--------
>>> from datetime import datetime, timedelta
>>> from zoneinfo import ZoneInfo
>>> from manyi.desk.cases.sla import (BusinessCalendar, ClockEvent, SlaTargets,
...     add_business_seconds, business_seconds, compute_clocks)
>>> office = [["09:00", "12:00"], ["13:30", "18:00"]]
>>> cal = BusinessCalendar.from_config({"tz": "Asia/Shanghai",
...     "weekly": {day: office for day in ("mon", "tue", "wed", "thu", "fri")},
...     "holidays": ["2026-10-01"]})
>>> sh = ZoneInfo("Asia/Shanghai")
>>> wed_17 = datetime(2026, 9, 30, 17, 0, tzinfo=sh)        # Wednesday; Thursday is a holiday
>>> business_seconds(cal, wed_17, datetime(2026, 10, 2, 10, 0, tzinfo=sh)) / 3600
2.0
>>> add_business_seconds(cal, wed_17, 3 * 3600).isoformat()  # 1 h Wed, then Fri 09:00-11:00
'2026-10-02T11:00:00+08:00'
>>> events = [ClockEvent(wed_17, "opened", "new"),
...           ClockEvent(datetime(2026, 10, 2, 9, 30, tzinfo=sh), "agent_reply")]
>>> clocks = compute_clocks(events, SlaTargets(first_response=timedelta(hours=2),
...     resolution=timedelta(hours=16)), cal, now=datetime(2026, 10, 2, 12, 0, tzinfo=sh))
>>> print(clocks.first_response.state, clocks.first_response.elapsed_seconds / 3600)
met 1.5
>>> # 4 h used (Wed 1 h, Fri 3 h); the other 12 h: Fri 13:30-18:00 and all of Monday
>>> print(clocks.resolution.state, clocks.resolution.due_at.isoformat())
running 2026-10-05T18:00:00+08:00
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from manyi.desk.cases.business_calendar import (
    ONE_US,
    US,
    BusinessCalendar,
    NoBusinessTimeError,
    add_business_seconds,
    business_seconds,
    from_us,
    instant_us,
)

__all__ = [
    "BusinessCalendar",
    "CaseClocks",
    "Clock",
    "ClockEvent",
    "ClockState",
    "NoBusinessTimeError",
    "SlaTargets",
    "add_business_seconds",
    "business_seconds",
    "compute_clocks",
]


class ClockState(enum.StrEnum):
    """Where a clock stands (the desk's ``SlaState`` uses the same values)."""

    NOT_APPLICABLE = "not_applicable"  # no target, or the clock never started
    RUNNING = "running"
    PAUSED = "paused"
    AT_RISK = "at_risk"
    MET = "met"
    BREACHED = "breached"  # running past the target, or stopped after it (met late)


#: From harmless to worst, for :meth:`CaseClocks.worst_state`.
SEVERITY: tuple[ClockState, ...] = (
    ClockState.NOT_APPLICABLE,
    ClockState.MET,
    ClockState.PAUSED,
    ClockState.RUNNING,
    ClockState.AT_RISK,
    ClockState.BREACHED,
)

EVENT_KINDS = frozenset({"opened", "status", "agent_reply", "customer_message"})
DEFAULT_PAUSE_STATUSES = frozenset({"waiting_on_customer"})
DEFAULT_STOP_STATUSES = frozenset({"resolved", "closed", "rejected_closed"})


@dataclass(frozen=True)
class SlaTargets:
    """Targets in business time of the calendar; ``None`` = no target for that clock.

    ``at_risk_ratio``: a running clock whose elapsed / target reaches it is at risk.
    """

    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    at_risk_ratio: float = 0.8

    def __post_init__(self) -> None:
        for name in ("first_response", "next_response", "resolution"):
            value = getattr(self, name)
            if value is not None and value < timedelta(0):
                raise ValueError(f"{name}: a target cannot be negative ({value})")
        if not 0 < self.at_risk_ratio <= 1:
            raise ValueError(f"at_risk_ratio must lie in (0, 1], got {self.at_risk_ratio}")


@dataclass(frozen=True)
class ClockEvent:
    """One entry of a case's log, in the vocabulary of the clocks.

    ``kind`` is ``"opened"`` (with the first status), ``"status"`` (with the status entered),
    ``"agent_reply"`` or ``"customer_message"``; ``at`` is aware.
    """

    at: datetime
    kind: str
    status: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(
                f"event kind {self.kind!r} is unknown; use {', '.join(sorted(EVENT_KINDS))}"
            )
        instant_us(self.at, "event.at")
        if self.kind == "status" and not self.status:
            raise ValueError("a 'status' event needs the status it entered")


@dataclass(frozen=True)
class Clock:
    """One SLA clock at ``now``.

    Attributes
    ----------
    state
        See :class:`ClockState`.
    target_seconds
        The target in business seconds (``None``: no target).
    elapsed_seconds
        Business seconds the clock ran, up to its stop or ``now``.
    remaining_seconds
        ``target - elapsed`` (negative once breached; ``None`` without a target).
    due_at
        While running: the projected breach instant (in the past once breached). ``None`` when
        paused, stopped or without a target.
    started_at, stopped_at
        When the clock started and when it stopped for good (``None`` while it is live).
    breached_at
        The instant the elapsed time crossed the target while running — kept after a late stop.
    deadline_at
        The due instant to store and report on, whatever the state: ``due_at`` while running,
        ``breached_at`` once breached, and for a met clock the instant it would have breached
        had it kept running from its stop (so "stopped at or before ``deadline_at``" ⇔ met).
        ``None`` when paused before a breach or without a target.
    """

    state: ClockState
    target_seconds: float | None
    elapsed_seconds: float = 0.0
    remaining_seconds: float | None = None
    due_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    deadline_at: datetime | None = None

    @property
    def live(self) -> bool:
        """Started and not stopped (running or paused, breached or not)."""
        return self.started_at is not None and self.stopped_at is None


@dataclass(frozen=True)
class CaseClocks:
    """The three clocks of a case at one instant."""

    first_response: Clock
    next_response: Clock
    resolution: Clock
    #: Every next-response cycle, oldest first (``next_response`` is the last one).
    next_response_history: tuple[Clock, ...] = ()

    @property
    def clocks(self) -> tuple[Clock, Clock, Clock]:
        return (self.first_response, self.next_response, self.resolution)

    def worst_state(self, *, live_only: bool = False) -> ClockState:
        """The most severe state (breached > at risk > running > paused > met > n/a).

        A case answered late stays ``breached`` after the reply; ``live_only=True`` looks only
        at clocks still running or paused, for queues that care about what can still be saved.
        """
        states = [c.state for c in self.clocks if c.live or not live_only]
        return max(states, key=SEVERITY.index, default=ClockState.NOT_APPLICABLE)

    def next_due_at(self) -> datetime | None:
        """The earliest ``due_at`` of a running clock (a past one when already breached)."""
        due = [c.due_at for c in self.clocks if c.due_at is not None]
        return min(due) if due else None


class _Run:
    """A clock being replayed: when it was active (running, not paused), when it stopped."""

    def __init__(self, started: int) -> None:
        self.started = started
        self.intervals: list[tuple[int, int]] = []
        self.active_since: int | None = None
        self.stopped: int | None = None

    def set_active(self, active: bool, t: int) -> None:
        if active and self.active_since is None:
            self.active_since = t
        elif not active and self.active_since is not None:
            if t > self.active_since:
                self.intervals.append((self.active_since, t))
            self.active_since = None

    def stop(self, t: int) -> None:
        self.set_active(False, t)
        self.stopped = t


def compute_clocks(
    events: Iterable[ClockEvent],
    targets: SlaTargets,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    pause_statuses: frozenset[str] = DEFAULT_PAUSE_STATUSES,
    stop_statuses: frozenset[str] = DEFAULT_STOP_STATUSES,
) -> CaseClocks:
    """Replay a case's events and return its first-response, next-response and resolution clocks.

    Events may come in any order: they are sorted stably by instant (ties keep their order).
    Events before the first ``"opened"`` event and after ``now`` are ignored; a later
    ``"opened"`` acts as a status change. Correcting the log (inserting a forgotten "waiting on
    customer", removing a mistaken reply) is just another call. See the module docs for the
    rules.

    Raises
    ------
    ValueError
        No ``"opened"`` event at all, a naive ``now``, or a status both pausing and stopping.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from manyi.desk.cases.sla import BusinessCalendar, ClockEvent, SlaTargets, compute_clocks
    >>> t = lambda h: datetime(2026, 3, 2, h, tzinfo=UTC)
    >>> events = [ClockEvent(t(8), "opened", "new"), ClockEvent(t(9), "agent_reply"),
    ...           ClockEvent(t(10), "status", "resolved")]
    >>> c = compute_clocks(events, SlaTargets(first_response=timedelta(minutes=30),
    ...     resolution=timedelta(hours=4)), BusinessCalendar.always_open("UTC"), now=t(12))
    >>> print(c.first_response.state, c.first_response.breached_at.time(), c.resolution.state)
    breached 08:30:00 met
    """
    overlap = pause_statuses & stop_statuses
    if overlap:
        raise ValueError(f"statuses {sorted(overlap)} cannot both pause and stop the clocks")
    now_us = instant_us(now, "now")
    keyed = sorted(((instant_us(e.at, "event.at"), e) for e in events), key=lambda p: p[0])
    opened_at = next((t for t, e in keyed if e.kind == "opened"), None)
    if opened_at is None:
        raise ValueError("the events have no 'opened' event: the clocks start there")

    def not_started(target: timedelta | None) -> Clock:
        return Clock(ClockState.NOT_APPLICABLE, _seconds(target))

    if opened_at > now_us:  # replaying an instant before the case existed
        return CaseClocks(
            not_started(targets.first_response),
            not_started(targets.next_response),
            not_started(targets.resolution),
        )

    first = _Run(opened_at)
    first_open = True  # the first response is still owed
    resolution = _Run(opened_at)
    cycles: list[_Run] = []
    cycle: _Run | None = None  # the next-response cycle in progress
    unanswered = False  # a customer message waits for an answer (after the first response)
    status: str | None = None

    def enter(new: str | None, t: int) -> None:
        nonlocal status, first_open, cycle, unanswered
        was_stopped = status in stop_statuses
        status = new
        stopped = status in stop_statuses
        if stopped and not was_stopped:
            # Resolving fulfils the reply clocks; the resolution clock stops (maybe for now).
            if first_open:
                first.stop(t)
                first_open = False
            if cycle is not None:
                cycle.stop(t)
                cycle = None
            unanswered = False
            resolution.stop(t)
        elif was_stopped and not stopped:
            resolution.stopped = None  # reopened: the resolution clock resumes
            if unanswered and cycle is None:  # a message sent while resolved reopened it
                cycle = _Run(t)
                cycles.append(cycle)

    seen_opening = False
    for t, event in keyed:
        if t < opened_at or t > now_us:
            continue
        if event.kind == "opened" and not seen_opening:
            seen_opening = True
            enter(event.status, t)
        elif event.kind in ("opened", "status"):
            if event.status is not None:
                enter(event.status, t)
        elif event.kind == "agent_reply":
            if first_open:
                first.stop(t)
                first_open = False
            elif cycle is not None:
                cycle.stop(t)
                cycle = None
            unanswered = False
        elif not first_open and not unanswered:  # a customer message after an answer
            unanswered = True
            if cycle is None and status not in stop_statuses:
                cycle = _Run(t)
                cycles.append(cycle)
        paused = status in pause_statuses
        stopped = status in stop_statuses
        if first_open:
            first.set_active(not paused, t)
        if cycle is not None:
            cycle.set_active(not paused, t)
        resolution.set_active(not paused and not stopped, t)

    ratio = targets.at_risk_ratio
    history = tuple(_evaluate(c, targets.next_response, ratio, calendar, now_us) for c in cycles)
    return CaseClocks(
        first_response=_evaluate(first, targets.first_response, ratio, calendar, now_us),
        next_response=history[-1] if history else not_started(targets.next_response),
        resolution=_evaluate(resolution, targets.resolution, ratio, calendar, now_us),
        next_response_history=history,
    )


def _evaluate(
    run: _Run, target: timedelta | None, ratio: float, calendar: BusinessCalendar, now: int
) -> Clock:
    zone = calendar.zone
    intervals = list(run.intervals)
    running = run.active_since is not None
    if run.active_since is not None and now > run.active_since:
        intervals.append((run.active_since, now))
    target_us = None if target is None else target // ONE_US
    elapsed = 0
    breached: int | None = None
    for a, b in intervals:
        piece = calendar._business_us(a, b)
        if target_us is not None and breached is None:
            need = target_us - elapsed
            if need <= 0:
                breached = a  # target already used up, and the clock runs again
            elif piece >= need:
                at = calendar._add_us(a, need)
                if at < b:  # still running after the target ran out (at == b: met exactly)
                    breached = at
        elapsed += piece

    started = from_us(run.started, zone)
    stopped = None if run.stopped is None else from_us(run.stopped, zone)
    if target_us is None:
        return Clock(ClockState.NOT_APPLICABLE, None, elapsed / US, None, None, started, stopped)
    remaining = target_us - elapsed
    due: int | None = None
    deadline: int | None = None
    if breached is not None:
        state = ClockState.BREACHED
        deadline = breached
        if running:
            due = breached
    elif run.stopped is not None:
        state = ClockState.MET
        deadline = calendar._add_us(run.stopped, remaining)
    elif running:
        due = deadline = calendar._add_us(now, remaining)
        state = ClockState.AT_RISK if elapsed >= ratio * target_us else ClockState.RUNNING
    else:
        state = ClockState.PAUSED
    return Clock(
        state=state,
        target_seconds=target_us / US,
        elapsed_seconds=elapsed / US,
        remaining_seconds=remaining / US,
        due_at=None if due is None else from_us(due, zone),
        started_at=started,
        stopped_at=stopped,
        breached_at=None if breached is None else from_us(breached, zone),
        deadline_at=None if deadline is None else from_us(deadline, zone),
    )


# --- helpers -------------------------------------------------------------------------------


def _seconds(target: timedelta | None) -> float | None:
    return None if target is None else target // ONE_US / US
