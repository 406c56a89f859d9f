"""A customer answers surveys on a phone-sized screen in headless Chromium, in Chinese and in
English. Screenshots go to ``tests/artifacts/`` (``survey-*.png``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from manyi.desk.surveys.links import make_survey_token
from manyi.desk.surveys.models import SurveyAnswer, SurveyResponse, SurveyTextAnswer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_customer_answers_the_after_case_survey_in_chinese(
    live_server: Any,
    new_page: Callable[..., Any],
    screenshot: Callable[..., Any],
    invite: Any,
    clock: Any,
    now: datetime,
) -> None:
    invitation = invite("case", language="zh-hans")
    clock(now + timedelta(hours=1))
    page = new_page(viewport=PHONE, locale="zh-CN")

    page.goto(f"{live_server.url}/s/{make_survey_token(invitation.pk)}/")
    assert page.locator("h1").inner_text() == "我们的服务怎么样？"
    assert fits_the_screen(page)
    screenshot("survey-zh-1-question", page)

    # sending nothing: the error summary takes the focus and links to the first radio
    page.get_by_role("button", name="提交回答").click()
    # (waits for the answer page: the click only starts the POST)
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.get_by_role("alert").get_by_role("link").count() == 2
    screenshot("survey-zh-2-errors", page)
    page.get_by_role("alert").get_by_role("link").first.click()
    assert page.evaluate("location.hash") == "#q-csat-csat-1"

    # real radio buttons: arrow keys move within a scale, labels are tappable
    page.focus("#q-csat-csat-3")
    page.keyboard.press("ArrowRight")
    assert page.is_checked("#q-csat-csat-4")
    page.get_by_text("处理速度").click()
    page.get_by_role("group", name="为了处理这个问题，您个人花了多少力气？").get_by_label(
        "2"
    ).check()
    page.get_by_label("还有什么想告诉我们的吗？").fill("客服很耐心，谢谢！")
    fieldset = page.locator("#q-csat-csat")
    assert "q-csat-csat-error" in (fieldset.get_attribute("aria-describedby") or "")
    screenshot("survey-zh-3-answered", page)

    page.get_by_role("button", name="提交回答").click()
    assert page.get_by_test_id("thanks").inner_text() == "谢谢您！"
    screenshot("survey-zh-4-thanks", page)

    csat = SurveyResponse.objects.get(invitation=invitation, instrument_id="csat")
    assert dict(csat.answers.values_list("item", "value")) == {"csat": 4.0}
    assert dict(csat.text_answers.values_list("item", "text")) == {
        "reason": "speed",
        "comment": "客服很耐心，谢谢！",
    }
    assert csat.language == "zh-hans"


def test_a_customer_switches_to_english_and_rates_the_shop_after_delivery(
    live_server: Any,
    new_page: Callable[..., Any],
    screenshot: Callable[..., Any],
    invite: Any,
    clock: Any,
    now: datetime,
) -> None:
    invitation = invite("order")  # no language known: Chinese by default
    clock(now + timedelta(hours=1))
    page = new_page(viewport=PHONE, locale="en-GB")

    page.goto(f"{live_server.url}/s/{make_survey_token(invitation.pk)}/")
    page.get_by_role("navigation", name="语言").get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "How was your order?"
    assert page.locator("html").get_attribute("lang") == "en"
    assert fits_the_screen(page)  # the 0-10 scale too
    screenshot("survey-en-1-question", page)

    for name, point in (("Item as described", "5"), ("The seller's service", "4")):
        page.get_by_role("group", name=name).get_by_label(point, exact=True).check()
    page.get_by_role("group", name="The delivery service").get_by_label("3", exact=True).check()
    nps = page.get_by_role("group", name="How likely are you to recommend this shop")
    nps.get_by_label("10", exact=True).check()
    page.get_by_label("What is the main reason for your score?").fill("Fast and well packed")
    screenshot("survey-en-2-answered", page)
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_test_id("thanks").inner_text() == "Thank you!"

    # the thank-you page leads back to the answers, which can still be changed
    page.get_by_role("link", name="change your answers").click()
    assert page.get_by_test_id("already-answered").is_visible()
    assert page.is_checked("#q-dsr-as_described-5")
    page.get_by_role("group", name="The delivery service").get_by_label("2", exact=True).check()
    page.get_by_role("button", name="Save my changes").click()
    assert page.get_by_test_id("thanks").is_visible()
    screenshot("survey-en-3-thanks", page)

    dsr = SurveyResponse.objects.get(invitation=invitation, instrument_id="dsr")
    assert dict(SurveyAnswer.objects.filter(response=dsr).values_list("item", "value")) == {
        "as_described": 5.0,
        "service": 4.0,
        "logistics": 2.0,
    }
    assert SurveyTextAnswer.objects.get(response__instrument_id="nps").text == (
        "Fast and well packed"
    )
    assert dsr.language == "en"  # the language it was answered in, not the invitation's
