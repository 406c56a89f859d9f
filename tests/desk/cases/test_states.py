"""The transition table itself (no database)."""

from __future__ import annotations

import pytest

from manyi.desk.cases.models import CaseKind, CaseStatus
from manyi.desk.cases.states import (
    DONE_STATUSES,
    OPEN_STATUSES,
    RESOLVABLE_FROM,
    TRANSITIONS,
    allowed_transitions,
)

K, S = CaseKind, CaseStatus


def names(kind: str, status: str) -> list[str]:
    return [t.name for t in allowed_transitions(kind, status)]


def test_every_status_is_open_or_done_and_every_target_is_a_status() -> None:
    assert set(S.values) == OPEN_STATUSES | DONE_STATUSES
    assert not OPEN_STATUSES & DONE_STATUSES
    for t in TRANSITIONS.values():
        assert t.target in S.values or t.name == "resume"
        assert t.sources <= set(S.values)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        (
            K.RETURN_REFUND,
            ["triage", "approve", "request_return", "receive", "refund", "resolve", "close"],
        ),
        (K.REFUND_ONLY, ["triage", "approve", "refund", "resolve", "close"]),
        (
            K.EXCHANGE,
            [
                "triage",
                "approve",
                "request_return",
                "receive",
                "ship_replacement",
                "confirm_replaced",
                "resolve",
                "close",
            ],
        ),
        (
            K.REPAIR,
            ["triage", "approve", "dispatch_repair", "receive", "repaired", "resolve", "close"],
        ),
        (K.COMPLAINT, ["triage", "resolve", "close"]),
        (K.COMPLAINT, ["triage", "approve", "refund", "resolve", "close"]),
        (K.QUESTION, ["triage", "resolve", "close"]),
        (K.RETURN_REFUND, ["triage", "reject", "resolve", "close"]),
    ],
)
def test_each_kind_has_its_happy_path(kind: str, path: list[str]) -> None:
    status = S.NEW
    for name in path:
        assert name in names(kind, status), (kind, status, name)
        status = TRANSITIONS[name].target
    assert status == S.CLOSED


def test_kinds_only_get_their_own_moves() -> None:
    assert names(K.QUESTION, S.TRIAGED) == ["resolve", "wait_on_customer"]
    assert "approve" not in names(K.QUESTION, S.TRIAGED)
    assert "dispatch_repair" not in names(K.RETURN_REFUND, S.APPROVED)
    assert "request_return" not in names(K.REFUND_ONLY, S.APPROVED)
    # Goods come back before money goes out; a return cannot be resolved before its refund.
    assert "refund" not in names(K.RETURN_REFUND, S.APPROVED)
    assert "resolve" not in names(K.RETURN_REFUND, S.RECEIVED)
    assert names(K.REFUND_ONLY, S.APPROVED) == ["refund", "wait_on_customer"]


def test_closed_only_reopens_and_new_only_triages() -> None:
    assert names(K.EXCHANGE, S.CLOSED) == ["reopen"]
    assert names(K.EXCHANGE, S.NEW) == ["triage"]
    assert names(K.EXCHANGE, S.WAITING_ON_CUSTOMER) == ["resume"]


def test_every_kind_can_be_resolved_from_somewhere_reachable() -> None:
    for kind, sources in RESOLVABLE_FROM.items():
        assert sources
        assert all(s in TRANSITIONS["resolve"].sources for s in sources), kind
