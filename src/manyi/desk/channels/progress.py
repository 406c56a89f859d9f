"""Where a case stands, in the customer's words: the steps of its kind's workflow and which of
them are done. Staff statuses ("triaged", "received and inspected") are the desk's vocabulary;
customers see "we are looking into it", "we have your parcel".

Examples
--------
>>> [(s.status, s.state) for s in progress_steps("refund_only", "approved")][1:4]
[('triaged', 'done'), ('approved', 'current'), ('refunded', 'todo')]
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from manyi.desk.cases.models import CaseKind, CaseStatus

S = CaseStatus
K = CaseKind

#: What each status means to the customer.
CUSTOMER_LABELS: dict[str, Promise] = {
    S.NEW: _("Received"),
    S.TRIAGED: _("We are looking into it"),
    S.APPROVED: _("Approved"),
    S.REJECTED: _("Not accepted"),
    S.AWAITING_RETURN: _("Please send the goods back"),
    S.REPAIR_DISPATCHED: _("Repair arranged"),
    S.REPLACEMENT_SHIPPED: _("Replacement on its way"),
    S.RECEIVED: _("We have your parcel"),
    S.REFUNDED: _("Refunded"),
    S.REPLACED: _("Replacement delivered"),
    S.REPAIRED: _("Repaired"),
    S.WAITING_ON_CUSTOMER: _("Waiting for your answer"),
    S.RESOLVED: _("Resolved"),
    S.CLOSED: _("Closed"),
}

#: The usual path of each kind, as in ``cases.states`` (side paths are added when taken).
STEPS: dict[str, tuple[str, ...]] = {
    K.RETURN_REFUND: (S.NEW, S.TRIAGED, S.APPROVED, S.AWAITING_RETURN, S.RECEIVED, S.REFUNDED,
                      S.RESOLVED),
    K.REFUND_ONLY: (S.NEW, S.TRIAGED, S.APPROVED, S.REFUNDED, S.RESOLVED),
    K.EXCHANGE: (S.NEW, S.TRIAGED, S.APPROVED, S.AWAITING_RETURN, S.RECEIVED,
                 S.REPLACEMENT_SHIPPED, S.REPLACED, S.RESOLVED),
    K.REPAIR: (S.NEW, S.TRIAGED, S.APPROVED, S.REPAIR_DISPATCHED, S.RECEIVED, S.REPAIRED,
               S.RESOLVED),
    K.COMPLAINT: (S.NEW, S.TRIAGED, S.RESOLVED),
    K.QUESTION: (S.NEW, S.TRIAGED, S.RESOLVED),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    status: str
    label: str | Promise
    state: str  # "done", "current" or "todo"


def customer_label(status: str) -> str | Promise:
    return CUSTOMER_LABELS.get(status, status)


def progress_steps(kind: str, status: str, resume_status: str = "") -> list[Step]:
    """The steps of ``kind``'s workflow with the done ones, the current one and the rest.

    A case waiting on the customer stands where it will resume; a rejected case ends after
    the rejection; a status off the usual path (a complaint that was refunded) is shown
    before "resolved"; a closed case has every step done.
    """
    path = [str(s) for s in STEPS.get(kind, STEPS[K.QUESTION])]
    here = (resume_status or S.TRIAGED) if status == S.WAITING_ON_CUSTOMER else status
    if here == S.REJECTED:
        path = [*path[: path.index(S.TRIAGED) + 1], S.REJECTED.value, S.RESOLVED.value]
    elif here not in path and here != S.CLOSED:
        path.insert(path.index(S.RESOLVED), str(here))
    if here == S.CLOSED:
        return [Step(s, customer_label(s), "done") for s in path]
    at = path.index(str(here))
    return [
        Step(s, customer_label(s), "done" if i < at else "current" if i == at else "todo")
        for i, s in enumerate(path)
    ]
