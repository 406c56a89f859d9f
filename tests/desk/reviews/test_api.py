"""``/api/reviews``: posting with idempotency, field-level refusals that write nothing, lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from manyi.desk.commerce.models import Review
from manyi.desk.reviews.analysis import analyse_reviews
from manyi.desk.reviews.models import ReviewFollowUp

pytestmark = pytest.mark.django_db

MakeReview = Callable[..., Review]


def test_a_posted_review_is_stored_analysed_and_followed_up_at_once(
    api: Any, make_order: Any, set_rule: Any
) -> None:
    set_rule(team="returns")
    make_order("o-api")
    body = {
        "order_id": "o-api",
        "rating": 1,
        "title": "太失望了",
        "body": "快递太慢了，等了一个星期，质量也很差",
        "review_id": "tm-123",
        "author_name": "张**",
        "source": "tmall",
    }
    response = api.post("/api/reviews", body, as_="ana")

    assert response.status_code == 201, response.json()
    out = response.json()
    review = Review.objects.get(review_id="tm-123")
    assert out["id"] == review.pk
    assert (review.rating, review.source, review.language) == (1, "tmall", "zh")
    assert out["status"] == "escalated"
    assert out["author_name"] == "张**"
    assert out["analysis"]["sentiment"] == "negative"
    assert {"aspect": "logistics", "polarity": "negative"}.items() <= out["analysis"]["aspects"][
        0
    ].items()
    case = ReviewFollowUp.objects.get(review=review).case
    assert out["follow_up"]["case_id"] == case.case_id
    assert out["has_follow_up"] is True
    assert (case.contact_name, case.team_id, case.reason) == ("张**", "returns", "late_delivery")


def test_an_idempotency_key_replays_the_first_answer_and_stores_one_review(
    api: Any, make_order: Any
) -> None:
    make_order("o-key")
    body = {"order_id": "o-key", "rating": 5, "body": "Love it!"}
    headers = {"Idempotency-Key": "2b1f-retry-test"}
    first = api.post("/api/reviews", body, headers=headers)
    again = api.post("/api/reviews", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Review.objects.filter(order_id="o-key").count() == 1
    # Without a key, the same review id for the same order is a conflict.
    duplicate = {**body, "review_id": first.json()["review_id"]}
    conflict = api.post("/api/reviews", duplicate)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "review_exists"
    assert "review_id" in conflict.json()["fields"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"order_id": "o1", "rating": 0}, "rating", "1 to 5 stars"),
        ({"order_id": "o1", "rating": 6}, "rating", "1 to 5 stars"),
        ({"order_id": "o1", "rating": -1}, "rating", "1 to 5 stars"),
        ({"order_id": "o1", "rating": "5"}, "rating", "integer"),
        ({"order_id": "o1", "rating": 4.5}, "rating", "integer"),
        ({"order_id": "o1", "rating": True}, "rating", "integer"),
        ({"order_id": "o1", "rating": None}, "rating", "integer"),
        ({"order_id": "o1"}, "rating", "required"),
        ({"order_id": "o1", "rating": 5, "body": 123}, "body", "string"),
        ({"order_id": "o1", "rating": 5, "stars": 5}, "stars", "Unknown field"),
        (
            {"order_id": "o1", "rating": 5, "created_at": "2026-11-01T10:00"},
            "created_at",
            "timezone",
        ),
        (
            {"order_id": "o1", "rating": 5, "created_at": "2099-01-01T00:00:00Z"},
            "created_at",
            "future",
        ),
        ({"order_id": "o1", "rating": 5, "language": "PT"}, "language", "pattern"),
        ({"order_id": "o1", "rating": 5, "title": "x" * 256}, "title", "255"),
        ({"order_id": "o1", "rating": 5, "body": "a\x00b"}, "body", "NUL"),
        ({"order_id": "nope", "rating": 5}, "order_id", "No order nope"),
        ({"order_id": "", "rating": 5}, "order_id", "at least 1"),
    ],
)
def test_bad_input_is_answered_field_by_field_and_writes_nothing(
    api: Any, make_order: Any, snapshot: Any, body: dict[str, Any], field: str, message: str
) -> None:
    make_order("o1")
    before = snapshot()
    response = api.post("/api/reviews", body)
    assert response.status_code == 422, response.json()
    out = response.json()
    assert out["code"] == "invalid"
    assert field in out["fields"], out
    assert message.lower() in out["fields"][field].lower(), out
    assert snapshot() == before


def test_a_body_that_is_not_an_object_is_refused(api: Any, snapshot: Any) -> None:
    before = snapshot()
    for raw in ('[{"rating": 5}]', "{not json", '{"rating": NaN, "order_id": "o1"}'):
        response = api.post("/api/reviews", raw=raw)
        assert response.status_code in {400, 422}, raw
        assert response.json()["fields"], raw
    assert snapshot() == before


def test_an_analyst_may_read_but_not_post_and_a_stranger_neither(
    api: Any, make_review: MakeReview, snapshot: Any
) -> None:
    make_review(3, "ok", order_id="o-read")
    before = snapshot()
    refused = api.post("/api/reviews", {"order_id": "o-read", "rating": 5}, as_="li")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    anonymous = api.post("/api/reviews", {"order_id": "o-read", "rating": 5}, as_=None)
    assert anonymous.status_code == 401
    assert api.get("/api/reviews", as_=None).status_code == 401
    assert snapshot() == before
    listed = api.get("/api/reviews", as_="li")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1


def test_another_teams_follow_up_case_is_hidden(
    api: Any, make_review: MakeReview, set_rule: Any, now: Any
) -> None:
    set_rule(team="returns")
    review = make_review(1, "Chegou quebrado", language="pt", days_ago=0)
    analyse_reviews()
    case = ReviewFollowUp.objects.get().case

    mine = api.get(f"/api/reviews/{review.pk}", as_="ana").json()
    theirs = api.get(f"/api/reviews/{review.pk}", as_="bo").json()
    listed = api.get("/api/reviews?has_follow_up=true", as_="bo").json()

    assert mine["follow_up"]["case_id"] == case.case_id
    assert theirs["follow_up"] is None
    assert theirs["has_follow_up"] is True
    assert listed["items"][0]["follow_up"] is None
    assert str(case.case_id) not in str(theirs["follow_up"])
    assert case.number not in api.get(f"/api/reviews/{review.pk}", as_="bo").content.decode()


def test_the_list_filters_and_pages(
    api: Any, make_review: MakeReview, texts: dict[str, str], now: Any, set_rule: Any
) -> None:
    set_rule(enabled=False)
    zh_bad = make_review(2, texts["zh_negative"], category="toys", seller_id="s-toys")
    make_review(5, texts["zh_positive"], days_ago=40)
    en_bad = make_review(4, texts["en_negative"], days_ago=3)
    pt_good = make_review(5, texts["pt_positive"], days_ago=2)
    analyse_reviews(now=now)

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/reviews?{query}")
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids("rating=2") == [zh_bad.pk]
    assert ids("sentiment=negative") == [zh_bad.pk, en_bad.pk]
    assert ids("negative_aspect=as_described") == [en_bad.pk]
    assert ids("aspect=logistics&language=pt") == [pt_good.pk]
    assert ids("category=toys") == ids("seller=s-toys") == [zh_bad.pk]
    assert ids("q=fabric") == [en_bad.pk]
    assert ids(f"q={zh_bad.order_id}") == [zh_bad.pk]
    since = quote((now - timedelta(days=10)).isoformat())
    assert ids(f"created_from={since}") == [zh_bad.pk, pt_good.pk, en_bad.pk]
    page = api.get("/api/reviews?limit=2&offset=0").json()
    assert (page["count"], len(page["items"]), page["next_offset"]) == (4, 2, 2)
    assert api.get("/api/reviews?limit=2&offset=2").json()["next_offset"] is None
    assert api.get("/api/reviews?rating=9").status_code == 422
    assert api.get("/api/reviews?sentiment=angry").status_code == 422


def test_replies_and_status_through_the_api(
    api: Any, make_review: MakeReview, snapshot: Any
) -> None:
    review = make_review(4, "Bom")
    answer = api.post(f"/api/reviews/{review.pk}/replies", {"body": "Obrigado!"}, as_="ana")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["author"] == "ana"
    review.refresh_from_db()
    assert review.answered_at is not None
    status = api.post(f"/api/reviews/{review.pk}/status", {"status": "no_reply_needed"})
    assert status.json()["status"] == "no_reply_needed"
    before = snapshot()
    assert api.post(f"/api/reviews/{review.pk}/status", {"status": "gone"}).status_code == 422
    assert api.post(f"/api/reviews/{review.pk}/replies", {"body": ""}).status_code == 422
    assert api.post(f"/api/reviews/{review.pk}/replies", {"body": "x"}, as_="li").status_code == 403
    assert api.post("/api/reviews/999999/replies", {"body": "x"}).status_code == 404
    assert api.get("/api/reviews/999999").status_code == 404
    assert snapshot() == before


def test_the_list_costs_the_same_queries_for_few_or_many_reviews(
    api: Any, make_review: MakeReview, texts: dict[str, str], now: Any
) -> None:
    make_review(1, texts["zh_negative"])
    analyse_reviews(now=now)
    api.get("/api/reviews")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/reviews")
    for n in range(12):
        make_review(1 + n % 5, texts["en_negative"])
    analyse_reviews(now=now)
    with CaptureQueriesContext(connection) as many:
        assert api.get("/api/reviews").json()["count"] == 13
    assert len(many.captured_queries) == len(few.captured_queries)
