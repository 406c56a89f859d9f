"""Replies, reply templates and the inbox status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from manyi.desk.commerce.models import Review
from manyi.desk.reviews.analysis import analyse_reviews
from manyi.desk.reviews.errors import ReviewError
from manyi.desk.reviews.models import ReplyTemplate, ReviewEvent, ReviewReply, ReviewState
from manyi.desk.reviews.services import (
    bulk_set_review_status,
    render_reply_template,
    reply_to_review,
    set_review_status,
)

pytestmark = pytest.mark.django_db

MakeReview = Callable[..., Review]


def test_the_first_reply_sets_answered_at_and_is_stored_with_author_and_time(
    staff: Any, make_review: MakeReview, now: Any
) -> None:
    review = make_review(4, "Good, but the box was dented")

    first = reply_to_review(
        review.pk, "  Thank you, we are sorry about the box.  ", user=staff["ana"], now=now
    )
    later = reply_to_review(
        review.pk,
        "Follow-up: a new box is on its way.",
        user=staff["mei"],
        now=now + timedelta(hours=2),
    )

    review.refresh_from_db()
    assert review.answered_at == now  # the first answer, kept by later ones
    assert (first.body, first.author, first.author_name, first.created_at) == (
        "Thank you, we are sorry about the box.",
        staff["ana"],
        "ana",
        now,
    )
    assert (later.author_name, later.created_at) == ("mei", now + timedelta(hours=2))
    assert ReviewState.objects.get(review=review).status == "replied"
    kinds = list(
        ReviewEvent.objects.filter(review=review).order_by("pk").values_list("kind", "actor")
    )
    assert kinds == [("reply", "ana"), ("status", "ana"), ("reply", "mei")]


def test_an_escalated_review_stays_escalated_when_answered(
    staff: Any, make_review: MakeReview, now: Any
) -> None:
    review = make_review(1, "Nunca chegou", language="pt")
    analyse_reviews(now=now)
    assert ReviewState.objects.get(review=review).status == "escalated"
    reply_to_review(review.pk, "Estamos verificando.", user=staff["ana"], now=now)
    assert ReviewState.objects.get(review=review).status == "escalated"
    review.refresh_from_db()
    assert review.answered_at == now


def test_an_imported_answer_time_is_kept(staff: Any, make_review: MakeReview, now: Any) -> None:
    review = make_review(5, "Ótimo")
    Review.objects.filter(pk=review.pk).update(answered_at=now - timedelta(days=1))
    reply_to_review(review.pk, "Obrigado!", user=staff["ana"], now=now)
    review.refresh_from_db()
    assert review.answered_at == now - timedelta(days=1)


@pytest.mark.parametrize(("body", "field"), [("", "body"), ("   ", "body"), ("x" * 5001, "body")])
def test_an_empty_or_long_reply_is_refused_and_nothing_written(
    staff: Any, make_review: MakeReview, snapshot: Any, body: str, field: str
) -> None:
    review = make_review(3, "ok")
    before = snapshot()
    with pytest.raises(ReviewError) as refused:
        reply_to_review(review.pk, body, user=staff["ana"])
    assert refused.value.code == "invalid"
    assert field in refused.value.fields
    assert snapshot() == before


def test_an_analyst_may_not_reply_or_change_the_status(
    staff: Any, make_review: MakeReview, snapshot: Any
) -> None:
    review = make_review(3, "ok")
    before = snapshot()
    for action in (
        lambda: reply_to_review(review.pk, "Hello", user=staff["li"]),
        lambda: set_review_status(review.pk, "no_reply_needed", user=staff["li"]),
        lambda: bulk_set_review_status([review.pk], "replied", user=staff["li"]),
    ):
        with pytest.raises(ReviewError) as refused:
            action()
        assert refused.value.code == "forbidden"
    assert snapshot() == before


def test_templates_fill_their_variables_and_nothing_else(
    staff: Any, make_review: MakeReview, now: Any
) -> None:
    review = make_review(1, "Nunca chegou", language="pt")
    ReviewState.objects.create(review=review, author_name="张**", updated_at=now)
    analyse_reviews(now=now)
    case = review.follow_up.case
    template = ReplyTemplate.objects.create(
        name="sorry",
        language="zh-hans",
        body=(
            "{customer_name}您好，订单 {order_id} 的问题已转为工单 {case_number}（{rating}★，"
            "{review_id}）。{agent_name} {unknown} {order_id.__class__}"
        ),
    )
    text = render_reply_template(template, review, staff["ana"])
    assert text == (
        f"张**您好，订单 {review.order_id} 的问题已转为工单 {case.number}（1★，"
        f"{review.review_id}）。ana {{unknown}} {{order_id.__class__}}"
    )


def test_a_reply_from_a_template_fills_variables_and_names_the_template(
    staff: Any, make_review: MakeReview, now: Any
) -> None:
    review = make_review(5, "Love it")
    template = ReplyTemplate.objects.create(
        name="thanks", language="en", body="Thank you, {customer_name}!"
    )
    reply = reply_to_review(
        review.pk, template.body, user=staff["ana"], template_id=template.pk, now=now
    )
    assert reply.body == "Thank you, customer!"
    assert reply.template == template
    inactive = ReplyTemplate.objects.create(name="old", language="en", body="x", active=False)
    with pytest.raises(ReviewError) as refused:
        reply_to_review(review.pk, "x", user=staff["ana"], template_id=inactive.pk)
    assert "template" in refused.value.fields
    assert ReviewReply.objects.count() == 1


def test_status_changes_are_logged_and_bulk_changes_count_what_changed(
    staff: Any, make_review: MakeReview, now: Any
) -> None:
    reviews = [make_review(5, f"ok {n}") for n in range(3)]
    set_review_status(reviews[0].pk, "no_reply_needed", user=staff["ana"], now=now)
    assert ReviewState.objects.get(review=reviews[0]).updated_by == staff["ana"]

    changed = bulk_set_review_status(
        [r.pk for r in reviews] + [reviews[0].pk, 999_999],
        "no_reply_needed",
        user=staff["mei"],
        now=now,
    )

    assert changed == 2
    assert set(ReviewState.objects.values_list("status", flat=True)) == {"no_reply_needed"}
    events = ReviewEvent.objects.filter(kind="status").order_by("pk")
    assert [(e.actor, e.from_status, e.to_status) for e in events] == [
        ("ana", "new", "no_reply_needed"),
        ("mei", "new", "no_reply_needed"),
        ("mei", "new", "no_reply_needed"),
    ]
    with pytest.raises(ReviewError):
        set_review_status(reviews[0].pk, "archived", user=staff["ana"])
    with pytest.raises(ReviewError) as missing:
        set_review_status(999_999, "replied", user=staff["ana"])
    assert missing.value.code == "not_found"
