"""The after-sales workflow as one transition table.

report → diagnose → approve or reject → return shipment / repair dispatch / replacement →
received and inspected → refunded / replaced / repaired → resolved → closed, plus waiting on
the customer and reopening. Each :class:`Transition` names the statuses it leaves from, the
status it enters, the kinds of case it applies to, and what must be known before it may run
(``requires``: case fields that must be set, or ``note`` for a written reason). Guards that need
more than the case itself (approval limits, the return window) live in ``policies.py`` and are
named here in ``guard`` so a reader sees every rule from this table.

Examples
--------
>>> from manyi.desk.cases.states import allowed_transitions
>>> [t.name for t in allowed_transitions("refund_only", "approved")]
['refund', 'wait_on_customer']
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from manyi.desk.cases.models import CaseKind, CaseStatus

K = CaseKind
S = CaseStatus

ALL_KINDS: frozenset[str] = frozenset(K.values)
#: Kinds where goods or money change hands and a decision is needed.
DECIDED_KINDS = frozenset({K.RETURN_REFUND, K.REFUND_ONLY, K.EXCHANGE, K.REPAIR, K.COMPLAINT})

#: Statuses in which the case still needs work (the resolution clock runs).
OPEN_STATUSES: frozenset[str] = frozenset(
    {
        S.NEW,
        S.TRIAGED,
        S.APPROVED,
        S.AWAITING_RETURN,
        S.REPAIR_DISPATCHED,
        S.REPLACEMENT_SHIPPED,
        S.RECEIVED,
        S.REFUNDED,
        S.REPLACED,
        S.REPAIRED,
        S.REJECTED,
        S.WAITING_ON_CUSTOMER,
    }
)
#: Statuses that stop the resolution clock.
DONE_STATUSES: frozenset[str] = frozenset({S.RESOLVED, S.CLOSED})
#: Statuses that pause every clock.
PAUSE_STATUSES: frozenset[str] = frozenset({S.WAITING_ON_CUSTOMER})


@dataclass(frozen=True)
class Transition:
    name: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    kinds: frozenset[str] = ALL_KINDS
    #: Case fields that must be non-empty, and ``note`` when a written reason is required.
    requires: tuple[str, ...] = ()
    #: A rule in ``policies.py`` checked with the acting user (``approval_limit``, ...).
    guard: str | None = None
    #: Shown as the primary button when it is one of the allowed moves.
    primary: bool = False


def _t(
    name: str,
    label: str | Promise,
    sources: set[str] | frozenset[str],
    target: str,
    kinds: set[str] | frozenset[str] = ALL_KINDS,
    requires: tuple[str, ...] = (),
    guard: str | None = None,
    primary: bool = False,
) -> Transition:
    return Transition(
        name, label, frozenset(sources), target, frozenset(kinds), requires, guard, primary
    )


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("triage", _("Diagnose"), {S.NEW}, S.TRIAGED, requires=("diagnosis",), primary=True),
        _t(
            "approve",
            _("Approve"),
            {S.TRIAGED},
            S.APPROVED,
            DECIDED_KINDS,
            guard="approval_limit",
            primary=True,
        ),
        _t("reject", _("Reject"), {S.TRIAGED}, S.REJECTED, DECIDED_KINDS, requires=("note",)),
        _t(
            "request_return",
            _("Ask for the goods back"),
            {S.APPROVED},
            S.AWAITING_RETURN,
            {K.RETURN_REFUND, K.EXCHANGE},
            primary=True,
        ),
        _t(
            "dispatch_repair",
            _("Dispatch repair"),
            {S.APPROVED},
            S.REPAIR_DISPATCHED,
            {K.REPAIR},
            primary=True,
        ),
        _t(
            "receive",
            _("Received and inspected"),
            {S.AWAITING_RETURN, S.REPAIR_DISPATCHED},
            S.RECEIVED,
            {K.RETURN_REFUND, K.EXCHANGE, K.REPAIR},
            requires=("inspection_note",),
            primary=True,
        ),
        _t(
            "ship_replacement",
            _("Ship the replacement"),
            {S.RECEIVED},
            S.REPLACEMENT_SHIPPED,
            {K.EXCHANGE},
            requires=("replacement_tracking",),
            primary=True,
        ),
        _t(
            "refund",
            _("Refund"),
            {S.APPROVED, S.RECEIVED},
            S.REFUNDED,
            {K.RETURN_REFUND, K.REFUND_ONLY, K.COMPLAINT},
            requires=("refund_amount",),
            primary=True,
        ),
        _t(
            "confirm_replaced",
            _("Replacement delivered"),
            {S.REPLACEMENT_SHIPPED},
            S.REPLACED,
            {K.EXCHANGE},
            primary=True,
        ),
        _t("repaired", _("Repaired"), {S.RECEIVED}, S.REPAIRED, {K.REPAIR}, primary=True),
        _t(
            "resolve",
            _("Resolve"),
            {S.TRIAGED, S.APPROVED, S.REJECTED, S.REFUNDED, S.REPLACED, S.REPAIRED},
            S.RESOLVED,
            primary=True,
        ),
        _t("close", _("Close"), {S.RESOLVED}, S.CLOSED),
        _t(
            "wait_on_customer",
            _("Wait for the customer"),
            OPEN_STATUSES - {S.WAITING_ON_CUSTOMER, S.NEW},
            S.WAITING_ON_CUSTOMER,
            requires=("note",),
        ),
        # The target is the status the case was in before waiting (``Case.resume_status``).
        _t("resume", _("Resume"), {S.WAITING_ON_CUSTOMER}, "", guard="resume_status"),
        _t("reopen", _("Reopen"), {S.RESOLVED, S.CLOSED}, S.TRIAGED, requires=("note",)),
    )
}

#: Where ``resolve`` may start for each kind: a return must be refunded first, and so on.
RESOLVABLE_FROM: dict[str, frozenset[str]] = {
    K.RETURN_REFUND: frozenset({S.REFUNDED, S.REJECTED}),
    K.REFUND_ONLY: frozenset({S.REFUNDED, S.REJECTED}),
    K.EXCHANGE: frozenset({S.REPLACED, S.REJECTED}),
    K.REPAIR: frozenset({S.REPAIRED, S.REJECTED}),
    K.COMPLAINT: frozenset({S.TRIAGED, S.APPROVED, S.REFUNDED, S.REJECTED}),
    K.QUESTION: frozenset({S.TRIAGED}),
}

#: Where ``refund`` may start for each kind: goods come back before money goes out.
REFUND_FROM: dict[str, frozenset[str]] = {
    K.RETURN_REFUND: frozenset({S.RECEIVED}),
    K.REFUND_ONLY: frozenset({S.APPROVED}),
    K.COMPLAINT: frozenset({S.APPROVED}),
}


def structurally_allowed(transition: Transition, kind: str, status: str) -> bool:
    """The table's rules that depend only on the kind and status (no fields, no user)."""
    if kind not in transition.kinds or status not in transition.sources:
        return False
    if transition.name == "resolve":
        return status in RESOLVABLE_FROM[kind]
    if transition.name == "refund":
        return status in REFUND_FROM[kind]
    return True


def allowed_transitions(kind: str, status: str) -> list[Transition]:
    """The moves the table offers from ``status`` for a case of ``kind``, in table order."""
    return [t for t in TRANSITIONS.values() if structurally_allowed(t, kind, status)]
