"""The dashboards in a real browser, in Chinese and in English: the manager's dashboard on the
imported Olist sample with a drill-down to the reviews behind a number, the Black Friday 2017
campaign (replayed live view, and the post-campaign review built by the worker), and a live
view that refreshes by itself while a case arrives.

Screenshots are kept as artefacts (``tests/artifacts/`` or ``MANYI_TEST_ARTIFACTS``):
dashboard-{zh,en}.png, dashboard-drilldown-{zh,en}.png, campaign-live-{zh,en}.png,
campaign-live-refreshed-{zh,en}.png, campaign-review-{zh,en}.png.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from manyi.desk.cases.events import Actor
from manyi.desk.cases.services import NewCase, open_case
from manyi.desk.dashboards import campaigns
from manyi.desk.dashboards.models import CampaignReview

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-password-1"
LOCALES = {"zh": "zh-CN", "en": "en-GB"}
PERIOD = "since=2018-06-01&until=2018-08-31"


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _open_in_period(n: int, *, at: Any, team: str = "returns", every: float = 3) -> None:
    """``n`` complaints about late delivery, opened ``every`` hours apart from ``at``."""
    for i in range(n):
        open_case(
            NewCase(
                kind="complaint",
                channel="web",
                subject=f"物流太慢 {i}",
                reason="late_delivery",
                team=team,
                contact_email=f"b{i}@example.com",
            ),
            actor=Actor.customer(),
            now=at + timedelta(hours=every * i),
        )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_drill_down_and_the_black_friday_review(
    live_server: Any, new_page: Any, screenshot: Any, olist_desk: None, staff: Any, lang: str
) -> None:
    _open_in_period(6, at=datetime(2018, 8, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    page = new_page(locale=LOCALES[lang], viewport=(1366, 900))
    page.set_default_timeout(90_000)  # the first visit computes every block
    base = live_server.url
    log_in(page, base, "mei")

    page.goto(f"{base}/desk/dashboard/?{PERIOD}")
    expect(page.locator("section[data-block]")).to_have_count(6)
    expect(page.locator("figure.chart[data-drawn]")).to_have_count(10)
    assert page.locator("html").get_attribute("lang") == ("zh-hans" if lang == "zh" else "en")
    heading = {"zh": "满意度", "en": "Satisfaction"}[lang]
    expect(page.locator("#block-satisfaction h2")).to_contain_text(heading)
    screenshot(f"dashboard-{lang}", page)

    bad = page.locator('[data-kpi="bad_review_rate"]')
    count = int(bad.get_attribute("data-count") or 0)
    assert count > 0
    bad.locator("a.value").click()
    expect(page).to_have_url(re.compile(r"/desk/dashboard/rows/reviews/\?.*set=bad"))
    assert int(page.locator("[data-total]").get_attribute("data-total") or -1) == count
    stars = page.locator("#rows tbody tr td:nth-child(2)").all_inner_texts()
    assert stars
    assert set(stars) <= {"1★", "2★"}
    screenshot(f"dashboard-drilldown-{lang}", page)

    campaign = campaigns.save_campaign(
        name="Black Friday 2017",
        starts_on=date(2017, 11, 24),
        ends_on=date(2017, 11, 27),
    )
    page.goto(f"{base}/desk/campaigns/{campaign.pk}/?at=2017-11-25T20:00")
    expect(page.locator("#live-view figure.chart[data-drawn]").first).to_be_visible()
    screenshot(f"campaign-live-{lang}", page)

    page.click("#run-review")
    expect(page.locator("#review-body")).to_have_attribute("data-status", "queued")
    assert campaigns.run_queued_reviews() == 1
    assert CampaignReview.objects.get().status == "done"
    expect(page.locator("#review-body")).to_have_attribute("data-status", "done", timeout=20_000)
    frame = page.frame_locator("iframe.review")
    expect(frame.locator("body")).to_contain_text("Black Friday 2017")
    expect(frame.locator(".js-plotly-plot").first).to_be_visible()
    page.wait_for_timeout(1000)
    screenshot(f"campaign-review-{lang}", page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_live_view_refreshes_by_itself(
    live_server: Any, new_page: Any, screenshot: Any, staff: Any, open_cases: Any, lang: str
) -> None:
    now = timezone.now()
    open_cases(8, days_ago=12, team="returns", reason="quality")
    _open_in_period(3, at=now - timedelta(hours=2), every=0.5)
    campaign = campaigns.save_campaign(
        name="双 11" if lang == "zh" else "Double 11",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=1),
    )
    page = new_page(locale=LOCALES[lang])
    page.set_default_timeout(60_000)
    log_in(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/desk/campaigns/{campaign.pk}/")
    opened = page.locator('[data-kpi="open"] .value')
    expect(opened).to_have_text("11")
    served = page.locator("#live-view").get_attribute("data-served")
    screenshot(f"campaign-live-{lang}-now", page)

    _open_in_period(1, at=timezone.now())  # a case arrives while the manager watches

    expect(opened).to_have_text("12", timeout=30_000)
    assert page.locator("#live-view").get_attribute("data-served") != served
    expect(page.locator("#live-view figure.chart[data-drawn]").first).to_be_visible()
    screenshot(f"campaign-live-refreshed-{lang}", page)
