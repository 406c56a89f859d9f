"""The bad-review rule: bad, recent reviews open one follow-up case each, never two."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from manyi.desk.cases.models import Case
from manyi.desk.commerce.models import Review
from manyi.desk.reviews import follow_ups
from manyi.desk.reviews.analysis import analyse_reviews
from manyi.desk.reviews.errors import ReviewError
from manyi.desk.reviews.follow_ups import (
    AspectPolarity,
    RuleConfig,
    apply_follow_up_rule,
    follow_up_trigger,
    guess_reason,
    open_follow_up_by_hand,
)
from manyi.desk.reviews.models import ReviewEvent, ReviewFollowUp, ReviewState

MakeReview = Callable[..., Review]


# --- the rule as a function ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "sentiment", "p_positive", "age_days", "config", "expected"),
    [
        (1, None, None, 1, RuleConfig(), "rating"),
        (2, "positive", 0.99, 29, RuleConfig(), "rating"),
        (3, None, None, 1, RuleConfig(), None),
        (4, "negative", 0.05, 1, RuleConfig(negative_threshold=0.9), "text"),
        (4, "negative", 0.10, 1, RuleConfig(negative_threshold=0.9), "text"),
        (4, "negative", 0.11, 1, RuleConfig(negative_threshold=0.9), None),
        (5, "neutral", 0.5, 1, RuleConfig(negative_threshold=0.5), None),
        (5, "positive", 0.97, 1, RuleConfig(), None),
        (1, None, None, 31, RuleConfig(), None),
        (1, None, None, 5, RuleConfig(max_age=timedelta(days=3)), None),
        (1, None, None, 1, RuleConfig(enabled=False), None),
        (5, "negative", 0.01, 1, RuleConfig(enabled=False), None),
    ],
)
def test_the_rule_decides_by_stars_text_age_and_switch(
    now: Any,
    rating: int,
    sentiment: str | None,
    p_positive: float | None,
    age_days: int,
    config: RuleConfig,
    expected: str | None,
) -> None:
    trigger = follow_up_trigger(
        rating=rating,
        sentiment=sentiment,
        p_positive=p_positive,
        created_at=now - timedelta(days=age_days),
        config=config,
        now=now,
    )
    assert trigger == expected


@pytest.mark.parametrize(
    ("negatives", "reason"),
    [
        ([("logistics", -1.0)], "late_delivery"),
        ([("quality", -1.0)], "quality"),
        ([("as_described", -1.0)], "not_as_described"),
        ([("packaging", -1.0)], "damaged"),
        ([("service", -1.0)], "other"),
        ([("price", -2.0), ("quality", -1.0)], "other"),
        ([("quality", -1.0), ("logistics", -1.5)], "late_delivery"),
        ([("packaging", -1.0), ("quality", -1.0)], "quality"),
        ([], "other"),
    ],
)
def test_the_reason_is_guessed_from_the_most_negative_aspect(
    negatives: list[tuple[str, float]], reason: str
) -> None:
    aspects = [AspectPolarity(a, "negative", s) for a, s in negatives]
    aspects.append(AspectPolarity("logistics", "positive", 3.0))
    assert guess_reason(aspects) == reason


# --- the rule in the analysis step -----------------------------------------------------------


@pytest.mark.django_db
def test_a_one_star_review_opens_one_complaint_linked_both_ways_even_when_run_twice(
    make_review: MakeReview, texts: dict[str, str], now: Any
) -> None:
    review = make_review(1, texts["zh_negative"], title="太失望了", language="zh")

    first = analyse_reviews(now=now)
    second = analyse_reviews(now=now)
    again = analyse_reviews(now=now, redo_all=True)

    assert (first.follow_ups, second.follow_ups, again.follow_ups) == (1, 0, 0)
    case = Case.objects.get()
    link = ReviewFollowUp.objects.get()
    assert link.review_id == review.pk
    assert link.case_id == case.case_id
    assert case.review_follow_up.review == review
    assert Review.objects.get(pk=review.pk).follow_up.case == case
    assert (case.kind, case.channel, case.reason) == ("complaint", "review", "late_delivery")
    assert case.description == f"太失望了\n\n{texts['zh_negative']}"
    assert case.order_id == review.order_id
    assert case.customer_id == review.order.customer_id
    assert case.language == "zh-hans"
    assert case.opened_at == now
    assert case.events.get().actor == "system"
    assert (link.trigger, link.opened_by) == ("rating", None)
    assert ReviewState.objects.get(review=review).status == "escalated"
    event = ReviewEvent.objects.get(review=review)
    assert (event.kind, event.to_status, event.data["case_id"]) == (
        "follow_up",
        "escalated",
        case.case_id,
    )


@pytest.mark.django_db
def test_a_two_star_review_without_text_opens_a_case_for_other_reasons(
    make_review: MakeReview, now: Any
) -> None:
    review = make_review(2, None)
    with translation.override("en"):
        assert analyse_reviews(now=now).follow_ups == 1
    case = Case.objects.get()
    assert (case.reason, case.description, case.subject) == ("other", "", "2★ review without text")
    assert case.order_id == review.order_id
    long = make_review(1, "Chegou quebrado. " * 10)
    with translation.override("zh-hans"):
        analyse_reviews(now=now)
    subject = ReviewFollowUp.objects.get(review=long).case.subject
    assert subject == "1★ 评价：" + ("Chegou quebrado. " * 4)[:59] + "…"


@pytest.mark.django_db
def test_a_four_star_review_with_negative_text_opens_one_case(
    make_review: MakeReview, texts: dict[str, str], set_rule: Any, now: Any
) -> None:
    set_rule(negative_threshold=0.9)
    review = make_review(4, texts["pt_negative"], language="pt")
    assert analyse_reviews(now=now).follow_ups == 1
    assert analyse_reviews(now=now, redo_all=True).follow_ups == 0
    link = ReviewFollowUp.objects.get()
    assert (link.review_id, link.trigger) == (review.pk, "text")
    assert link.case.reason in {"late_delivery", "quality"}


@pytest.mark.django_db
def test_good_old_disabled_and_below_threshold_reviews_open_nothing(
    make_review: MakeReview, texts: dict[str, str], set_rule: Any, now: Any
) -> None:
    make_review(5, texts["en_positive"])
    make_review(3, texts["zh_positive"])
    make_review(1, texts["en_negative"], days_ago=31)
    make_review(2, texts["zh_negative"], days_ago=30.01)
    set_rule(negative_threshold=1.0)
    make_review(4, texts["en_negative"])

    assert analyse_reviews(now=now).follow_ups == 0
    assert Case.objects.count() == 0
    assert ReviewFollowUp.objects.count() == 0


@pytest.mark.django_db
def test_a_disabled_rule_opens_nothing_and_the_age_is_configurable(
    make_review: MakeReview, texts: dict[str, str], set_rule: Any, now: Any
) -> None:
    set_rule(enabled=False)
    make_review(1, texts["pt_negative"])
    assert analyse_reviews(now=now).follow_ups == 0
    set_rule(enabled=True, max_age_days=90)
    older = make_review(1, texts["pt_negative"], days_ago=60)
    assert analyse_reviews(now=now).follow_ups == 1
    assert ReviewFollowUp.objects.get().review == older


@pytest.mark.django_db
def test_cases_go_to_the_configured_team_and_priority(
    make_review: MakeReview, set_rule: Any, now: Any
) -> None:
    set_rule(team="reviews", priority="urgent")
    make_review(1, "Nunca chegou", language="pt")
    analyse_reviews(now=now)
    case = Case.objects.get()
    assert (case.team_id, case.priority) == ("reviews", "urgent")


@pytest.mark.django_db
def test_a_failing_case_leaves_the_batch_unanalysed_so_the_next_run_retries(
    make_review: MakeReview, now: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_review(1, "Nunca chegou", language="pt")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the case service is down")

    monkeypatch.setattr(follow_ups, "open_case", broken)
    with pytest.raises(RuntimeError):
        analyse_reviews(now=now)
    assert Review.objects.filter(analysis__isnull=False).count() == 0
    monkeypatch.undo()
    assert analyse_reviews(now=now).follow_ups == 1


# --- by hand ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_inbox_opens_a_case_by_hand_for_an_old_review_once(
    staff: Any, make_review: MakeReview, texts: dict[str, str], now: Any, snapshot: Any
) -> None:
    review = make_review(3, texts["en_negative"], days_ago=400)
    analyse_reviews(now=now)
    assert Case.objects.count() == 0

    case = open_follow_up_by_hand(review.pk, user=staff["ana"], now=now)

    link = ReviewFollowUp.objects.get()
    assert (link.case, link.trigger, link.opened_by) == (case, "manual", staff["ana"])
    assert case.events.get().actor == "ana"
    before = snapshot()
    with pytest.raises(ReviewError) as refused:
        open_follow_up_by_hand(review.pk, user=staff["mei"], now=now)
    assert refused.value.code == "has_follow_up"
    assert snapshot() == before


@pytest.mark.django_db
def test_an_analyst_cannot_open_a_case_by_hand(
    staff: Any, make_review: MakeReview, snapshot: Any
) -> None:
    review = make_review(1, "Nunca chegou")
    before = snapshot()
    with pytest.raises(ReviewError) as refused:
        open_follow_up_by_hand(review.pk, user=staff["li"])
    assert refused.value.code == "forbidden"
    assert snapshot() == before


# --- concurrency -----------------------------------------------------------------------------


# The flush at the end removes the data migrations' rows; tests/conftest.py puts them back.
@pytest.mark.django_db(transaction=True)
def test_two_racing_runs_open_one_case(
    make_review: MakeReview, now: Any, close_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both runs pass the "has it one yet?" check before either inserts the link (the barrier
    holds them there), so only the unique constraint can keep the second case out. On SQLite
    the second run waits for the first transaction instead (BEGIN IMMEDIATE) and the barrier
    times out; the result must be the same."""
    review = make_review(1, "Chegou quebrado", language="pt")
    barrier = threading.Barrier(2, timeout=3)
    real_open_case = follow_ups.open_case

    def open_case_after_both_checked(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_open_case(*args, **kwargs)

    monkeypatch.setattr(follow_ups, "open_case", open_case_after_both_checked)
    opened: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            opened.append(apply_follow_up_rule([review.pk], now=now))
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)
        finally:
            close_connection()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(len(ids) for ids in opened) == [0, 1]
    assert Case.objects.count() == 1
    assert ReviewFollowUp.objects.get().case_id == Case.objects.get().case_id


# The flush at the end removes the data migrations' rows; tests/conftest.py puts them back.
@pytest.mark.django_db(transaction=True)
def test_two_workers_analysing_at_once_open_one_case_per_bad_review(
    make_review: MakeReview, texts: dict[str, str], now: Any, close_connection: Any
) -> None:
    bad = [make_review(1, texts[k]) for k in ("zh_negative", "en_negative", "pt_negative")]
    for key in ("zh_positive", "en_positive", "pt_positive"):
        make_review(5, texts[key])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            analyse_reviews(now=now, batch_size=2)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_connection()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(ReviewFollowUp.objects.values_list("review_id", flat=True)) == sorted(
        r.pk for r in bad
    )
    assert Case.objects.count() == 3
    assert Review.objects.filter(analysis__isnull=True).count() == 0
