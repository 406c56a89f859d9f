"""Writers of the case timeline and audit log (``case_events``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Max

from manyi.desk import sqlrows
from manyi.desk.cases.models import Case, CaseEvent


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, the customer, or the system (rules, the worker)."""

    label: str
    user: Any = None  # a User, for staff

    @classmethod
    def staff(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        return cls(label=user.get_username(), user=user)

    @classmethod
    def customer(cls) -> Actor:
        return cls(label="customer")

    @classmethod
    def system(cls) -> Actor:
        return cls(label="system")

    @property
    def is_staff(self) -> bool:
        return self.user is not None


def record_event(
    case: Case,
    kind: str,
    *,
    actor: Actor,
    at: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    channel: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    seq: int | None = None,
) -> CaseEvent:
    """Append one event to the case's log.

    Call inside a transaction that holds the case row lock (``select_for_update``): the next
    ``seq`` is read from the log, and the lock is what keeps two writers from taking the same one.
    A caller that knows the next ``seq`` (1 for a case being opened) passes it.
    """
    if seq is None:
        seq = (CaseEvent.objects.filter(case_id=case.case_id).aggregate(m=Max("seq"))["m"] or 0) + 1
    event = CaseEvent(
        case=case,
        seq=seq,
        at=at,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor.label,
        actor_user=actor.user,
        channel=channel,
        note=note,
        data=data or {},
    )
    sqlrows.save_new(event)  # every change writes events: no query compiler, no signals
    return event
