"""The survey page's hand-written reads and its cache of published versions."""

from __future__ import annotations

from typing import Any

import pytest

from manyi.desk.surveys import selectors
from manyi.desk.surveys.models import (
    InstrumentVersion,
    InvitationVersion,
    SurveyAnswer,
    SurveySettings,
    SurveyTextAnswer,
    VersionStatus,
)

pytestmark = pytest.mark.django_db


def _shape(versions: list[InstrumentVersion]) -> list[Any]:
    return [
        (
            v.pk,
            v.instrument_id,
            v.instrument.name_en,
            v.number,
            v.intro,
            v.sections,
            [(q.position, q.item, q.kind, q.text_en, q.choices) for q in v.questions.all()],
        )
        for v in versions
    ]


def test_pinned_versions_equal_the_orms_with_and_without_the_cache(invite: Any) -> None:
    invitation = invite("order")
    selectors.forget_versions()
    expected = [
        link.version
        for link in InvitationVersion.objects.filter(invitation=invitation)
        .select_related("version__instrument")
        .order_by("position")
    ]
    first = selectors.list_pinned_versions(invitation.pk)
    second = selectors.list_pinned_versions(invitation.pk)
    assert [v.instrument_id for v in first] == ["dsr", "nps"]
    assert _shape(first) == _shape(expected) == _shape(second)
    assert [id(v) for v in first] == [id(v) for v in second]  # served from the cache


def test_a_draft_version_is_never_cached(invite: Any) -> None:
    invitation = invite("order")
    link = InvitationVersion.objects.filter(invitation=invitation).order_by("position").first()
    assert link is not None
    InstrumentVersion.objects.filter(pk=link.version_id).update(status=VersionStatus.DRAFT)
    selectors.forget_versions()
    first = selectors.list_pinned_versions(invitation.pk)
    second = selectors.list_pinned_versions(invitation.pk)
    assert first[0].pk == second[0].pk == link.version_id
    assert first[0] is not second[0]  # read again: a draft may change
    assert first[1] is second[1]  # the published one is kept


def test_the_page_reads_the_invitation_its_rule_and_the_answers_so_far(
    invite: Any, submit: Any
) -> None:
    invitation = invite("order")
    submit(
        invitation,
        {
            "dsr.as_described": "4",
            "dsr.service": "5",
            "dsr.logistics": "2",
            "nps.nps": "9",
            "nps.why": "Chegou rápido",
        },
    )
    page = selectors.get_survey_page(invitation.pk)
    assert page is not None
    assert page.invitation.pk == invitation.pk
    assert page.invitation.rule.code == invitation.rule_id
    assert page.invitation.expires_at == type(invitation).objects.get(pk=invitation.pk).expires_at
    assert page.values == {
        "dsr.as_described": "4",
        "dsr.service": "5",
        "dsr.logistics": "2",
        "nps.nps": "9",
        "nps.why": "Chegou rápido",
    }
    assert SurveyAnswer.objects.filter(response__invitation=invitation).count() == 4
    assert SurveyTextAnswer.objects.filter(response__invitation=invitation).count() == 1
    assert selectors.get_survey_page(987_654) is None


@pytest.mark.parametrize("kind", ["order", "case"])
def test_the_lock_reads_what_the_submission_needs_as_the_separate_reads_do(
    invite: Any, kind: str
) -> None:
    from django.db import connection, transaction

    from manyi.desk.cases.models import CaseItem
    from manyi.desk.commerce.models import OrderItem
    from manyi.desk.surveys import services

    invitation = invite(kind)
    with transaction.atomic():
        locked = services._lock_invitation(invitation.pk)
    assert locked.invitation is not None
    assert locked.invitation.pk == invitation.pk
    if connection.vendor != "postgresql":  # read apart, in the same process
        assert (locked.case_items, locked.order_items, locked.links) == (None, None, None)
    else:
        case_items = list(
            CaseItem.objects.filter(case_id=invitation.case_id)
            .order_by("id")
            .values_list("order_item_id", flat=True)
        )
        order_items = list(
            OrderItem.objects.filter(order_id=invitation.order_id)
            .order_by("id")
            .values_list("id", flat=True)
        )
        assert locked.case_items == case_items
        assert locked.order_items == order_items
        if kind == "order":
            assert locked.order_items  # the order has lines: the comparison is not empty
        selectors.forget_versions()
        from_lock = selectors.list_pinned_versions(invitation.pk, links=locked.links)
        assert _shape(from_lock) == _shape(selectors.list_pinned_versions(invitation.pk))
    # Either way, the lines the responses are about are the same.
    expected = services._order_items(invitation, services._Locked(invitation))
    assert services._order_items(invitation, locked) == expected
    if kind == "order":
        assert expected  # every line of the order


def test_settings_are_read_and_created_when_missing() -> None:
    SurveySettings.objects.filter(pk=1).update(link_days=14)
    assert selectors.get_settings().link_days == 14
    SurveySettings.objects.all().delete()
    assert selectors.get_settings().link_days == 28
    assert SurveySettings.objects.filter(pk=1).exists()
