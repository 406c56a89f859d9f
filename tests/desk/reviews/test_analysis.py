"""The analysis step stores manyi.text's verdict per review, with the model version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.desk.commerce.models import Review
from manyi.desk.reviews.analysis import analyse_reviews, model_version, review_text
from manyi.desk.reviews.models import ReviewAnalysis, ReviewAspect
from manyi.text import analyse

pytestmark = pytest.mark.django_db

MakeReview = Callable[..., Review]


@pytest.mark.parametrize("language", ["zh", "en", "pt"])
def test_reviews_in_each_language_are_stored_as_manyi_text_sees_them(
    make_review: MakeReview, texts: dict[str, str], now: Any, language: str
) -> None:
    # Given a bad and a good review in the language, without a stored language (detected)
    bad = make_review(1, texts[f"{language}_negative"])
    good = make_review(5, texts[f"{language}_positive"], title=None)

    # When the job runs
    summary = analyse_reviews(now=now)

    # Then each stored analysis is what the library says, with the shipped models' version
    assert summary.analysed == 2
    for review in (bad, good):
        expected = analyse([review.body])[0]
        stored = ReviewAnalysis.objects.get(review=review)
        assert stored.language == language == expected.language
        assert stored.sentiment == expected.sentiment
        assert stored.p_positive == pytest.approx(expected.p_positive)
        assert stored.label == expected.label
        assert stored.model_version == model_version()
        assert stored.analysed_at == now
        aspects = list(review.aspects.order_by("pk").values_list("aspect", "polarity", "phrase"))
        assert aspects == [(a.aspect, a.polarity, a.phrase) for a in expected.aspects]
    assert ReviewAnalysis.objects.get(review=bad).sentiment == "negative"
    assert ReviewAnalysis.objects.get(review=good).sentiment == "positive"
    assert bad.aspects.filter(polarity="negative").exists()


def test_the_stored_language_is_trusted_and_the_title_is_read_with_the_text(
    make_review: MakeReview, now: Any
) -> None:
    review = make_review(4, "chegou antes do prazo", title="Ótimo", language="pt")
    analyse_reviews(now=now)
    expected = analyse([review_text("Ótimo", "chegou antes do prazo")], lang="pt")[0]
    stored = ReviewAnalysis.objects.get(review=review)
    assert (stored.language, stored.sentiment) == ("pt", expected.sentiment)
    assert stored.p_positive == pytest.approx(expected.p_positive)


def test_a_review_without_text_is_stored_as_neutral_and_not_analysed_again(
    make_review: MakeReview, now: Any
) -> None:
    review = make_review(5, None)
    assert analyse_reviews(now=now).analysed == 1
    stored = ReviewAnalysis.objects.get(review=review)
    assert (stored.language, stored.sentiment, stored.p_positive, stored.label) == (
        "unknown",
        "neutral",
        0.5,
        None,
    )
    assert analyse_reviews(now=now).analysed == 0


def test_a_second_run_analyses_nothing_and_changes_nothing(
    make_review: MakeReview, texts: dict[str, str], now: Any
) -> None:
    for key in texts:
        make_review(3, texts[key])
    assert analyse_reviews(now=now, batch_size=4).analysed == len(texts)
    before = list(ReviewAnalysis.objects.order_by("pk").values_list())
    aspects = list(ReviewAspect.objects.order_by("pk").values_list())
    assert analyse_reviews(now=now).analysed == 0
    assert list(ReviewAnalysis.objects.order_by("pk").values_list()) == before
    assert list(ReviewAspect.objects.order_by("pk").values_list()) == aspects


def test_analyses_of_older_models_are_redone_and_all_redoes_every_one(
    make_review: MakeReview, texts: dict[str, str], now: Any
) -> None:
    first = make_review(1, texts["zh_negative"])
    second = make_review(5, texts["en_positive"])
    analyse_reviews(now=now)
    aspects = ReviewAspect.objects.count()
    # A retrained model: the first review's analysis is from another version.
    ReviewAnalysis.objects.filter(review=first).update(model_version="older", sentiment="neutral")

    summary = analyse_reviews(now=now)

    assert summary.analysed == 1
    redone = ReviewAnalysis.objects.get(review=first)
    assert (redone.model_version, redone.sentiment) == (model_version(), "negative")
    assert ReviewAspect.objects.count() == aspects  # replaced, not added
    assert analyse_reviews(now=now, redo_all=True).analysed == 2
    assert ReviewAnalysis.objects.get(review=second).model_version == model_version()
    assert ReviewAspect.objects.count() == aspects


def test_the_command_analyses_and_reports(
    make_review: MakeReview, texts: dict[str, str], set_rule: Any
) -> None:
    set_rule(enabled=False)
    make_review(2, texts["pt_negative"])
    make_review(5, texts["pt_positive"])
    result = CliRunner().invoke(app, ["reviews", "analyse"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "2 reviews analysed" in said
    assert "0 follow-up cases opened" in said
    assert ReviewAnalysis.objects.count() == 2
    again = CliRunner().invoke(app, ["reviews", "analyse", "--all", "--batch-size", "1"])
    assert again.exit_code == 0, again.output
    assert "2 reviews analysed" in " ".join(again.output.split())
