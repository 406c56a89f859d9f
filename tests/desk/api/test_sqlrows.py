"""The API's hand-written reads (``manyi.desk.sqlrows``) return what the ORM returns.

Runs on SQLite and on PostgreSQL: SQLite hands back datetimes and decimals as text, so the
value converters must be applied exactly as the ORM applies them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from manyi.desk import sqlrows
from manyi.desk.accounts.models import ApiToken
from manyi.desk.accounts.tokens import _token_with_user, digest_of
from manyi.desk.api.models import IdempotencyKey
from manyi.desk.cases import selectors
from manyi.desk.cases.clocks import clock_log
from manyi.desk.cases.errors import CaseError
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseEvent
from manyi.desk.cases.services import reply_to_case

pytestmark = pytest.mark.django_db


def values(instance: Model | None) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_token_read_equals_the_orms(staff: Any) -> None:
    token = staff.tokens["ana"]
    ApiToken.objects.filter(user=staff["ana"]).update(
        last_used_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() + timedelta(days=30),
    )
    expected = ApiToken.objects.select_related("user").get(digest=digest_of(token))
    got = _token_with_user(digest_of(token))
    assert got is not None
    assert values(got) == values(expected)
    assert values(got.user) == values(expected.user)
    assert isinstance(got.user, User)
    assert got.user.get_username() == "ana"
    assert got.expires_at is not None
    assert got.expires_at.tzinfo is not None
    assert _token_with_user(digest_of("mny_not-a-token")) is None


def test_the_case_read_equals_the_orms_with_its_policy_calendar_and_decider(
    staff: Any, make_case: Any
) -> None:
    plain = make_case()
    decided = make_case(subject="decided", refund_amount=Decimal("99.90"))
    Case.objects.filter(pk=decided.pk).update(
        decided_by=staff["mei"], decision="approved", decided_at=timezone.now()
    )
    no_policy = make_case(subject="without a policy")
    Case.objects.filter(pk=no_policy.pk).update(sla_policy=None)
    for case_id in (plain.pk, decided.pk, no_policy.pk):
        expected = selectors.get_case(
            staff["mei"], case_id, related=("sla_policy__calendar", "decided_by")
        )
        got = selectors.read_case_for_api(staff["mei"], case_id).case
        assert values(got) == values(expected)
        assert values(got.sla_policy) == values(expected.sla_policy)
        if expected.sla_policy is not None:
            assert values(got.sla_policy.calendar) == values(expected.sla_policy.calendar)
            assert isinstance(got.sla_policy.calendar.config, dict)
        assert (got.decided_by and got.decided_by.get_username()) == (
            expected.decided_by and expected.decided_by.get_username()
        )
    read = selectors.read_case_for_api(staff["mei"], decided.pk)
    assert read.case.refund_amount == Decimal("99.90")


@pytest.mark.parametrize("name", ["ana", "bo", "mei", "li"])
def test_the_case_read_hides_what_the_orm_hides(staff: Any, make_case: Any, name: str) -> None:
    cases = [make_case(), make_case(team="vip"), make_case(team=None)]
    for case in cases:
        try:
            expected: int | None = selectors.get_case(staff[name], case.pk).pk
        except CaseError:
            expected = None
        if expected is None:
            with pytest.raises(CaseError, match="No case"):
                selectors.read_case_for_api(staff[name], case.pk)
        else:
            assert selectors.read_case_for_api(staff[name], case.pk).case.pk == expected
    with pytest.raises(CaseError):
        selectors.read_case_for_api(staff["mei"], 987_654)


def test_lines_and_clock_log_equal_the_orms(staff: Any, make_case: Any) -> None:
    case = make_case(order_lines=(2, 1))
    reply_to_case(case.pk, "We are on it.", actor=Actor.staff(staff["ana"]))
    expected_lines = list(
        case.case_items.order_by("order_item__line_no").values_list(
            "order_item__line_no", flat=True
        )
    )
    assert selectors.case_line_numbers(case.pk) == expected_lines == [1, 2]
    expected = CaseEvent.objects.filter(case=case).order_by("seq")
    got = clock_log(case.pk)
    assert [(e.pk, e.at, e.kind, e.to_status) for e in got] == [
        (e.pk, e.at, e.kind, e.to_status) for e in expected
    ]
    assert len(got) >= 2
    assert all(e.at.tzinfo is not None for e in got)


def test_insert_fills_defaults_and_skips_a_taken_key_when_told(staff: Any) -> None:
    now = timezone.now()
    row = (staff["ana"].pk, "key-1", "f" * 64, now)
    names = ("user", "key", "fingerprint", "created_at")
    assert sqlrows.insert(IdempotencyKey, names, [row], ignore_conflicts=True) == 1
    stored = IdempotencyKey.objects.get(key="key-1")
    # response_body (NOT NULL, default "") and status_code (NULL) were not named.
    assert (stored.response_body, stored.status_code, stored.created_at) == ("", None, now)
    assert sqlrows.insert(IdempotencyKey, names, [row], ignore_conflicts=True) == 0
    rows = [(staff["bo"].pk, f"key-{n}", "0" * 64, now) for n in range(1_203)]
    assert sqlrows.insert(IdempotencyKey, names, rows) == 1_203  # three statements
    assert IdempotencyKey.objects.count() == 1_204


def test_save_new_stores_what_save_stores(staff: Any, make_case: Any) -> None:
    case = make_case(refund_amount=Decimal("12.50"))
    fields = {
        "case": case,
        "at": timezone.now(),
        "kind": "note",
        "actor": "ana",
        "actor_user": staff["ana"],
        "channel": "phone",
        "note": "Rang the customer: 来电确认",
        "data": {"minutes": 4, "nested": {"ok": True}, "text": "não"},
    }
    by_orm = CaseEvent(seq=90, **fields)
    by_orm.save()
    by_sql = sqlrows.save_new(CaseEvent(seq=91, **fields))
    assert isinstance(by_sql, CaseEvent)
    assert by_sql.pk is not None
    assert by_sql.pk != by_orm.pk
    assert not by_sql._state.adding
    stored = {e.seq: values(e) for e in CaseEvent.objects.filter(seq__in=(90, 91))}
    for row in stored.values():
        row.pop("id")
        row.pop("seq")
    assert stored[90] == stored[91]
    assert CaseEvent.objects.get(pk=by_sql.pk).data == fields["data"]


def test_the_api_case_read_brings_lines_and_clock_log_on_postgresql(
    staff: Any, make_case: Any
) -> None:
    with_lines = make_case(order_lines=(2, 1))
    reply_to_case(with_lines.pk, "We are on it.", actor=Actor.staff(staff["ana"]))
    other = make_case(subject="one more")
    for case in (with_lines, other):
        read = selectors.read_case_for_api(staff["mei"], case.pk)
        assert read.case.pk == case.pk
        if connection.vendor != "postgresql":  # SQLite: read apart, when needed
            assert (read.lines, read.log) == (None, None)
            continue
        assert read.lines == selectors.case_line_numbers(case.pk)
        assert read.log is not None
        assert [(e.pk, e.at, e.kind, e.to_status) for e in read.log] == [
            (e.pk, e.at, e.kind, e.to_status) for e in clock_log(case.pk)
        ]
    assert selectors.read_case_for_api(staff["mei"], with_lines.pk).lines in (None, [1, 2])


def test_a_pipeline_writes_everything_or_raises_djangos_error_and_writes_nothing() -> None:
    from django.db import IntegrityError, transaction

    from manyi.desk.accounts.models import Team

    with transaction.atomic(), sqlrows.pipeline():
        sqlrows.insert(Team, ("code", "name"), [("north", "North")])
        sqlrows.insert(Team, ("code", "name"), [("south", "South")])
    assert set(Team.objects.filter(code__in=("north", "south")).values_list("name", flat=True)) == {
        "North",
        "South",
    }

    def east_north_west() -> None:
        with transaction.atomic(), sqlrows.pipeline():
            for code in ("east", "north", "west"):  # "north" is taken
                sqlrows.insert(Team, ("code", "name"), [(code, code.title())])

    with pytest.raises(IntegrityError):
        east_north_west()
    assert not Team.objects.filter(code__in=("east", "west")).exists()
    assert Team.objects.get(code="north").name == "North"
