"""The review inbox pages: filters, the review page, replies, status, follow-ups, roles."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from manyi.desk.cases.models import Case
from manyi.desk.commerce.models import Review
from manyi.desk.reviews.analysis import analyse_reviews
from manyi.desk.reviews.models import ReplyTemplate, ReviewFollowUp, ReviewReply, ReviewState

pytestmark = pytest.mark.django_db

MakeReview = Callable[..., Review]
INBOX = "/desk/reviews/"


def _listed(response: Any) -> list[int]:
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'data-review="(\d+)"', response.content.decode())]


@pytest.fixture
def inbox(
    make_review: MakeReview, texts: dict[str, str], set_rule: Any, now: Any, staff: Any
) -> dict[str, Review]:
    """Six analysed reviews; the 1-star one has a follow-up case of the returns team, the
    English one a reply, the Portuguese good one is marked as needing no reply."""
    set_rule(team="returns")
    reviews = {
        "zh_bad": make_review(1, texts["zh_negative"], category="toys", seller_id="s-toys"),
        "zh_good": make_review(5, texts["zh_positive"], days_ago=45),
        "en_bad": make_review(3, texts["en_negative"], days_ago=3),
        "en_good": make_review(5, texts["en_positive"], days_ago=4),
        "pt_bad": make_review(4, texts["pt_negative"], language="pt", days_ago=5),
        "pt_good": make_review(5, texts["pt_positive"], language="pt", days_ago=6),
    }
    set_rule(negative_threshold=1.0)  # only the stars open cases here
    analyse_reviews(now=now)
    from manyi.desk.reviews.services import reply_to_review, set_review_status

    reply_to_review(reviews["en_bad"].pk, "Sorry!", user=staff["mei"], now=now)
    set_review_status(reviews["pt_good"].pk, "no_reply_needed", user=staff["mei"], now=now)
    return reviews


def test_anonymous_users_are_sent_to_the_login_page(client: Client, inbox: Any) -> None:
    review = inbox["zh_bad"]
    for path in (INBOX, f"{INBOX}{review.pk}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    before = ReviewReply.objects.count()
    response = client.post(f"{INBOX}{review.pk}/reply/", {"body": "hi"})
    assert response.status_code == 302
    assert ReviewReply.objects.count() == before


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["zh_bad", "en_bad", "en_good", "pt_bad", "pt_good", "zh_good"]),
        ("rating=5", ["en_good", "pt_good", "zh_good"]),
        ("sentiment=negative", ["zh_bad", "en_bad", "pt_bad"]),
        ("aspect=packaging", ["zh_good"]),
        ("negative_aspect=quality", ["zh_bad", "en_bad", "pt_bad"]),
        ("negative_aspect=as_described", ["en_bad"]),
        ("language=zh", ["zh_bad", "zh_good"]),
        ("status=escalated", ["zh_bad"]),
        ("status=replied", ["en_bad"]),
        ("status=no_reply_needed", ["pt_good"]),
        ("status=new", ["en_good", "pt_bad", "zh_good"]),
        ("reply=yes", ["en_bad"]),
        ("case=yes", ["zh_bad"]),
        ("from=2026-11-18&to=2026-11-20", ["en_bad", "en_good", "pt_bad"]),
        ("category=toys", ["zh_bad"]),
        ("seller=s-toys", ["zh_bad"]),
        ("q=fabric", ["en_bad"]),
        ("q=nothing-like-this", []),
        ("rating=9&sentiment=angry&from=not-a-date", None),  # ignored, like no filter
    ],
)
def test_the_inbox_filters(
    login: Callable[[str], Client], inbox: dict[str, Review], query: str, expected: Any
) -> None:
    listed = _listed(login("ana").get(f"{INBOX}?{query}"))
    if expected is None:
        expected = ["zh_bad", "en_bad", "en_good", "pt_bad", "pt_good", "zh_good"]
    assert listed == [inbox[name].pk for name in expected]


def test_the_inbox_counts_statuses_and_answers_htmx_with_the_results_only(
    login: Callable[[str], Client], inbox: Any
) -> None:
    client = login("ana")
    page = client.get(INBOX).content.decode()
    assert re.search(r'data-status="escalated">Escalated <span class="count">1<', page)
    assert re.search(r'data-status="all">All <span class="count">6<', page)
    partial = client.get(f"{INBOX}?rating=5", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()
    assert len(_listed(partial)) == 3


def test_the_review_page_highlights_aspects_and_shows_order_customer_and_case(
    login: Callable[[str], Client], inbox: dict[str, Review]
) -> None:
    review = inbox["zh_bad"]
    case = ReviewFollowUp.objects.get(review=review).case
    page = login("ana").get(f"{INBOX}{review.pk}/").content.decode()
    assert '<mark class="pol pol-negative" title="logistics"' in page
    assert "快递太慢了" in page
    assert review.order_id in page
    assert review.order.customer_id in page
    assert "toys" in page
    assert f'href="/desk/cases/{case.case_id}/"' in page
    assert 'data-testid="follow-up-case"' in page


def test_another_teams_follow_up_case_is_not_shown(
    login: Callable[[str], Client], inbox: dict[str, Review]
) -> None:
    review = inbox["zh_bad"]
    case = ReviewFollowUp.objects.get(review=review).case
    page = login("bo").get(f"{INBOX}{review.pk}/").content.decode()
    assert 'data-testid="follow-up-hidden"' in page
    assert f"/desk/cases/{case.case_id}/" not in page
    assert case.number not in page
    listed = login("bo").get(INBOX).content.decode()
    assert case.number not in listed


def test_an_agent_replies_with_a_template_from_the_page(
    login: Callable[[str], Client], inbox: dict[str, Review]
) -> None:
    review = inbox["en_good"]
    template = ReplyTemplate.objects.create(
        name="thanks", language="en", body="Thank you, {customer_name}, for order {order_id}!"
    )
    client = login("ana")
    filled = client.get(f"{INBOX}{review.pk}/?template={template.pk}").content.decode()
    expected = f"Thank you, customer, for order {review.order_id}!"
    assert f'data-testid="reply-body">{expected}</textarea>' in filled

    response = client.post(
        f"{INBOX}{review.pk}/reply/", {"body": expected, "template": template.pk}
    )

    assert response.status_code == 302
    reply = ReviewReply.objects.get(review=review)
    assert (reply.body, reply.author_name, reply.template) == (expected, "ana", template)
    review.refresh_from_db()
    assert review.answered_at == reply.created_at
    page = client.get(f"{INBOX}{review.pk}/").content.decode()
    assert expected in page
    assert 'data-testid="review-status">Replied<' in page


def test_an_empty_reply_comes_back_with_the_field_message(
    login: Callable[[str], Client], inbox: dict[str, Review]
) -> None:
    review = inbox["en_good"]
    response = login("ana").post(f"{INBOX}{review.pk}/reply/", {"body": "  "})
    assert response.status_code == 422
    assert 'data-field="body"' in response.content.decode()
    assert not ReviewReply.objects.filter(review=review).exists()


def test_status_bulk_status_and_a_case_by_hand_from_the_pages(
    login: Callable[[str], Client], inbox: dict[str, Review]
) -> None:
    client = login("ana")
    old = inbox["zh_good"]
    client.post(f"{INBOX}{old.pk}/status/", {"status": "no_reply_needed"})
    assert ReviewState.objects.get(review=old).status == "no_reply_needed"

    picked = [inbox["en_good"].pk, inbox["pt_bad"].pk]
    response = client.post(
        f"{INBOX}bulk/", {"review_ids": picked, "status": "replied", "query": "rating=5"}
    )
    assert response.status_code == 200
    assert "2 of 2 reviews" in response.content.decode()
    assert set(ReviewState.objects.filter(pk__in=picked).values_list("status", flat=True)) == {
        "replied"
    }

    client.post(f"{INBOX}{old.pk}/follow-up/")
    link = ReviewFollowUp.objects.get(review=old)
    assert (link.trigger, link.opened_by.username) == ("manual", "ana")
    assert Case.objects.count() == 2


def test_an_analyst_reads_but_every_change_is_forbidden(
    login: Callable[[str], Client], inbox: dict[str, Review], snapshot: Any
) -> None:
    client = login("li")
    review = inbox["en_good"]
    assert client.get(INBOX).status_code == 200
    page = client.get(f"{INBOX}{review.pk}/").content.decode()
    assert "reply-body" not in page
    assert 'name="review_ids"' not in client.get(INBOX).content.decode()
    before = snapshot()
    for path, data in (
        (f"{INBOX}{review.pk}/reply/", {"body": "hi"}),
        (f"{INBOX}{review.pk}/status/", {"status": "replied"}),
        (f"{INBOX}{review.pk}/follow-up/", {}),
        (f"{INBOX}bulk/", {"review_ids": [review.pk], "status": "replied"}),
    ):
        assert client.post(path, data).status_code == 403, path
    assert snapshot() == before


def test_a_user_without_the_review_permission_is_refused(
    client: Client, django_user_model: Any, inbox: Any
) -> None:
    user = django_user_model.objects.create_user("guest", password="a-long-password-1")
    client.force_login(user)
    assert client.get(INBOX).status_code == 403


def test_a_missing_review_is_a_404(login: Callable[[str], Client], inbox: Any) -> None:
    client = login("ana")
    assert client.get(f"{INBOX}999999/").status_code == 404
    assert client.post(f"{INBOX}999999/reply/", {"body": "x"}).status_code == 404


def test_the_pages_speak_chinese(login: Callable[[str], Client], inbox: dict[str, Review]) -> None:
    client = login("ana")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    page = client.get(INBOX).content.decode()
    assert "评价" in page
    assert "已升级" in page
    review_page = client.get(f"{INBOX}{inbox['zh_bad'].pk}/").content.decode()
    assert "跟进工单" in review_page


def test_the_inbox_costs_the_same_queries_for_few_or_many_reviews(
    login: Callable[[str], Client],
    inbox: dict[str, Review],
    make_review: MakeReview,
    texts: dict[str, str],
    now: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = login("bo")
    client.get(INBOX)  # warm: session, permissions
    with CaptureQueriesContext(connection) as few:
        client.get(INBOX)
    for n in range(15):
        make_review(1 + n % 5, texts["pt_negative"] if n % 2 else texts["zh_positive"])
    analyse_reviews(now=now)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_listed(client.get(INBOX))) == 21
