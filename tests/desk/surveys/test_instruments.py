"""Instruments as versioned data: the seeded standard versions, drafts, publishing, and the
rule that a published version never changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from manyi.desk.surveys.errors import SurveyError, SurveyErrorCode
from manyi.desk.surveys.models import (
    ImmutableVersionError,
    Instrument,
    InstrumentKind,
    InstrumentVersion,
    Question,
    QuestionKind,
    SurveyResponse,
    VersionStatus,
)
from manyi.desk.surveys.services import CANONICAL_ITEMS, check_version, new_draft, publish_version
from manyi.desk.surveys.standard import SERVQUAL_ITEMS

pytestmark = pytest.mark.django_db


def current(code: str) -> InstrumentVersion:
    return InstrumentVersion.objects.get(instrument_id=code, status=VersionStatus.PUBLISHED)


def test_the_standard_instruments_are_published_in_both_languages() -> None:
    # given the data migration; then every standard instrument has a valid version 1
    for code, items in CANONICAL_ITEMS.items():
        version = current(code)
        assert version.number == 1
        assert check_version(version) == {}
        questions = list(version.questions.all())
        assert all(q.text_zh.strip() and q.text_en.strip() for q in questions)
        assert set(items) <= {q.item for q in questions}
    servqual = current("servqual").questions
    assert servqual.filter(item__regex=r"^E\d+$").count() == 22
    assert servqual.filter(item__regex=r"^P\d+$").count() == 22
    assert sorted(servqual.filter(kind=QuestionKind.POINTS).values_list("item", flat=True)) == [
        "W_assurance",
        "W_empathy",
        "W_reliability",
        "W_responsiveness",
        "W_tangibles",
    ]
    assert len(SERVQUAL_ITEMS) == 22
    assert current("ces_effort_5").questions.get(item="ces").scale_max == 5
    assert current("ces_agree_7").questions.get(item="ces").scale_max == 7
    assert current("csat").questions.get(item="reason").kind == QuestionKind.CHOICE


def test_a_published_version_cannot_be_changed() -> None:
    version = current("csat")
    question = version.questions.get(item="csat")
    before = (question.text_en, version.number, version.questions.count())

    question.text_en = "Did we do OK?"
    with pytest.raises(ImmutableVersionError):
        question.save()
    with pytest.raises(ImmutableVersionError):
        Question.objects.get(pk=question.pk).delete()
    with pytest.raises(ImmutableVersionError):
        Question(
            version=version, position=99, item="extra", kind="text", text_zh="x", text_en="x"
        ).save()
    version.note = "edited"
    with pytest.raises(ImmutableVersionError):
        version.save()
    with pytest.raises(ImmutableVersionError):
        InstrumentVersion.objects.get(pk=version.pk).delete()

    fresh = current("csat")
    assert (
        fresh.questions.get(item="csat").text_en,
        fresh.number,
        fresh.questions.count(),
    ) == before
    assert fresh.note == "Standard version 1"


def test_editing_makes_a_new_version_and_responses_keep_the_one_they_answered(
    invite: Any, submit: Any, now: datetime
) -> None:
    # given an answer to CSAT version 1
    invitation = invite("case")
    submit(invitation, {"csat.csat": "4", "ces_effort_5.ces": "2"})
    v1 = current("csat")

    # when staff draft, reword and publish version 2
    draft = new_draft("csat", now=now)
    assert new_draft("csat", now=now) == draft  # one draft at a time
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert draft.questions.count() == v1.questions.count()
    q = draft.questions.get(item="csat")
    q.text_en = "How happy are you with how we handled your request?"
    q.save()
    publish_version(draft.pk, now=now)

    # then v2 is current, v1 is retired unchanged, and the old answer still points at v1
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert v1.questions.get(item="csat").text_en.startswith("Overall, how satisfied")
    assert current("csat").pk == draft.pk
    assert SurveyResponse.objects.get(instrument_id="csat").version_id == v1.pk

    # and a new invitation asks version 2
    later = invite("case", at=now + timedelta(days=40), email="li@example.com")
    assert [v.pk for v in later.versions.all() if v.instrument_id == "csat"] == [draft.pk]


def test_a_canonical_instrument_must_keep_the_items_insight_reads(now: datetime) -> None:
    draft = new_draft("nps", now=now)
    q = draft.questions.get(item="nps")
    q.scale_max = 5
    q.save()
    draft.questions.filter(item="why").delete()

    with pytest.raises(SurveyError) as refused:
        publish_version(draft.pk, now=now)

    assert refused.value.code == SurveyErrorCode.INCOMPLETE_INSTRUMENT
    assert "nps" in refused.value.fields
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert current("nps").number == 1


def test_a_shop_can_add_its_own_questions(now: datetime) -> None:
    Instrument.objects.create(
        code="packaging", kind=InstrumentKind.CUSTOM, name_zh="包装", name_en="Packaging"
    )
    draft = new_draft("packaging", now=now)
    Question.objects.create(
        version=draft,
        position=1,
        item="packaging",
        kind=QuestionKind.SCALE,
        text_zh="包装完好吗？",
        text_en="Did the parcel arrive undamaged?",
        scale_min=1,
        scale_max=5,
    )
    Question.objects.create(
        version=draft,
        position=2,
        item="bag",
        kind=QuestionKind.CHOICE,
        text_zh="您希望用什么包装？",
        text_en="Which packaging would you prefer?",
        required=False,
        choices=[{"code": "box", "zh": "纸箱", "en": "Box"}, {"code": "bag", "zh": "袋子"}],
    )
    with pytest.raises(SurveyError) as refused:
        publish_version(draft.pk, now=now)
    assert set(refused.value.fields) == {"bag"}  # an option without its English label

    question = draft.questions.get(item="bag")
    question.choices[1]["en"] = "Bag"
    question.save()
    published = publish_version(draft.pk, now=now)

    assert (published.number, published.status) == (1, VersionStatus.PUBLISHED)
    with pytest.raises(SurveyError) as again:
        publish_version(draft.pk, now=now)
    assert again.value.code == SurveyErrorCode.NOT_DRAFT


def test_a_custom_instrument_cannot_pose_as_a_standard_one(now: datetime) -> None:
    Instrument.objects.create(code="csat2", kind=InstrumentKind.CSAT, name_zh="x", name_en="x")
    draft = new_draft("csat2", now=now)
    Question.objects.create(
        version=draft,
        position=1,
        item="csat",
        kind="scale",
        text_zh="满意吗",
        text_en="OK?",
        scale_min=1,
        scale_max=5,
    )
    with pytest.raises(SurveyError) as refused:
        publish_version(draft.pk, now=now)
    assert "__all__" in refused.value.fields
