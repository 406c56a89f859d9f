"""Promotion mode on the desk: Black Friday 2017 on the imported Olist sample (the review through
the button and the worker, and through the command), the live view (cached for everyone
watching), and surge hints (macros used on the rising case reasons, queues that will miss)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.core.management import call_command

from manyi.data.samples import sample_path
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Macro
from manyi.desk.cases.services import reply_to_case
from manyi.desk.dashboards import campaigns
from manyi.desk.dashboards.jobs import run_reviews
from manyi.desk.dashboards.models import Campaign, CampaignReview

pytestmark = pytest.mark.django_db(transaction=True)

BLACK_FRIDAY = {"name": "Black Friday 2017", "starts_on": "2017-11-24", "ends_on": "2017-11-27"}


def _placed_in_shanghai() -> list[datetime]:
    """Purchase instants of the sample's CSV as Shanghai wall times (Olist writes São Paulo
    wall times; an ambiguous hour is read as its first occurrence, as the importer does)."""
    raw = pd.read_csv(sample_path("olist") / "olist_orders_dataset.csv.gz")
    brazil, china = ZoneInfo("America/Sao_Paulo"), ZoneInfo("Asia/Shanghai")
    return [
        datetime.fromisoformat(text).replace(tzinfo=brazil).astimezone(china).replace(tzinfo=None)
        for text in raw["order_purchase_timestamp"]
    ]


def _orders_per_day_from_the_csv(first: date, last: date) -> float:
    """Orders placed on Shanghai days first..last, per day, straight from the sample's CSV."""
    count = sum(first <= at.date() <= last for at in _placed_in_shanghai())
    return count / ((last - first).days + 1)


def test_the_black_friday_review_through_the_button(olist_desk: None, login: Any) -> None:
    manager = login("mei")
    response = manager.post("/desk/campaigns/new/", BLACK_FRIDAY)
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/desk/campaigns/{campaign.pk}/"
    assert (campaign.baseline_starts_on, campaign.baseline_ends_on) == (
        date(2017, 10, 27),
        date(2017, 11, 23),
    )

    asked = manager.post(f"/desk/campaigns/{campaign.pk}/review/")
    review = CampaignReview.objects.get()
    assert asked["Location"] == f"/desk/campaigns/reviews/{review.pk}/"
    waiting = manager.get(asked["Location"]).content.decode()
    assert 'hx-trigger="every 3s"' in waiting  # the page polls until the worker is done
    assert run_reviews(datetime.now(ZoneInfo("UTC"))) == "1 reviews built"

    review.refresh_from_db()
    assert review.status == "done", review.error
    doc = json.loads(manager.get(f"/desk/campaigns/reviews/{review.pk}/json/").getvalue())
    assert doc["campaign"]["name"] == "Black Friday 2017"
    rows = doc["sections"]["metrics"]["data"]["rows"]
    orders = next(m for m in rows if m["metric"] == "orders_per_day")
    assert orders["campaign"]["value"] == pytest.approx(
        _orders_per_day_from_the_csv(date(2017, 11, 24), date(2017, 11, 27))
    )
    assert orders["baseline"]["value"] == pytest.approx(
        _orders_per_day_from_the_csv(date(2017, 10, 27), date(2017, 11, 23))
    )
    assert orders["significant"] is True
    assert {"orders_per_day", "late_share", "mean_rating", "bad_review_share"} <= {
        m["metric"] for m in rows
    }
    assert {s["metric"] for s in review.summary["significant"]} >= {"orders_per_day"}
    page = manager.get(f"/desk/campaigns/reviews/{review.pk}/")
    assert f'src="/desk/campaigns/reviews/{review.pk}/en/"' in page.content.decode()
    html = manager.get(f"/desk/campaigns/reviews/{review.pk}/en/")
    assert html["X-Frame-Options"] == "SAMEORIGIN"  # shown inside the desk's page
    assert html["Content-Security-Policy"] == "sandbox allow-scripts"  # review texts inside
    body = html.getvalue().decode()
    assert "Black Friday 2017" in body
    assert not re.search(r"<script[^>]+src=", body)  # plotly is inlined: works offline
    zh = manager.get(f"/desk/campaigns/reviews/{review.pk}/zh/?download=1")
    assert "attachment" in zh["Content-Disposition"]


def test_the_review_command_keeps_the_files_on_the_campaign(olist_desk: None, capsys: Any) -> None:
    campaign = campaigns.save_campaign(
        name="Black Friday 2017", starts_on=date(2017, 11, 24), ends_on=date(2017, 11, 27)
    )

    call_command("campaign_review", str(campaign.pk))

    review = CampaignReview.objects.get()
    out = capsys.readouterr().out
    assert review.status == "done"
    assert review.document.path in out
    assert review.page_zh.path in out


def test_a_baseline_overlapping_the_campaign_is_refused(login: Any) -> None:
    data = {**BLACK_FRIDAY, "baseline_starts_on": "2017-11-01", "baseline_ends_on": "2017-11-25"}

    response = login("mei").post("/desk/campaigns/new/", data)

    assert response.status_code == 200
    assert "overlaps" in str(response.context["form"].non_field_errors())
    assert Campaign.objects.count() == 0


def test_the_live_view_of_black_friday_replayed_at_an_hour(olist_desk: None, login: Any) -> None:
    campaign = campaigns.save_campaign(
        name="Black Friday 2017", starts_on=date(2017, 11, 24), ends_on=date(2017, 11, 27)
    )
    client = login("mei")

    page = client.get(f"/desk/campaigns/{campaign.pk}/?at=2017-11-24T15:30")

    snap = page.context["snap"]
    assert snap["now"] == "2017-11-24T15:30"
    assert len(snap["hours"]) == 24
    placed = sum(h["orders"]["count"] for h in snap["hours"] if h["hour"] >= "2017-11-24")
    shop_wall_time = datetime.fromisoformat  # naive: the shop's clock, as the replay's "at"
    assert placed == _orders_placed_between(
        shop_wall_time("2017-11-24T00:00"), shop_wall_time("2017-11-24T15:30")
    )
    html = page.content.decode()
    assert 'hx-trigger="every 5s"' in html
    assert "at=2017-11-24T15%3A30" in html  # the refresh keeps replaying the same instant
    assert {f["name"] for f in page.context["figures"]} >= {"orders", "satisfaction"}


def _orders_placed_between(first: datetime, last: datetime) -> int:
    return sum(first <= at <= last for at in _placed_in_shanghai())


def test_viewers_share_one_computation_per_refresh(
    login: Any, monkeypatch: Any, now: datetime
) -> None:
    campaign = campaigns.save_campaign(
        name="双 11", starts_on=now.date(), ends_on=now.date() + timedelta(days=1)
    )
    calls: list[int] = []
    real = campaigns.compute_live

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(campaigns, "compute_live", counting)
    url = f"/desk/campaigns/{campaign.pk}/live/?at={now.replace(tzinfo=None).isoformat()}"

    for name in ("mei", "li", "root"):
        assert login(name).get(url).status_code == 200

    assert len(calls) == 1


def test_surge_hints_name_the_macros_used_on_the_rising_reasons(
    login: Any, staff: Any, open_cases: Any, now: datetime
) -> None:
    macro = Macro.objects.create(
        name="运输破损致歉",
        language="zh-hans",
        body="{customer_name}您好，非常抱歉商品在运输中受损，我们马上为您补发。—— {agent_name}",
    )
    Macro.objects.create(name="Unused", language="en", body="Thank you for your patience!")
    open_cases(6, days_ago=10, team="returns", reason="quality")  # the baseline's usual
    surge = open_cases(4, days_ago=1 / 24, team="returns", reason="damaged")  # the last hour
    for case in surge[:3]:
        reply_to_case(
            case.case_id,
            "王先生您好，非常抱歉商品在运输中受损，我们马上为您补发。—— ana",
            actor=Actor.staff(staff["ana"]),
            now=now - timedelta(minutes=20),
        )
    campaign = campaigns.save_campaign(
        name="双 11", starts_on=now.date(), ends_on=now.date() + timedelta(days=1)
    )

    page = login("mei").get(
        f"/desk/campaigns/{campaign.pk}/?at={now.replace(tzinfo=None).isoformat()}"
    )

    snap = page.context["snap"]
    rising = [r["label"] for r in snap["surge"]["rising_reasons"]]
    assert rising[0] == "complaint/damaged"
    hint = next(h for h in snap["macros"] if h["label"] == "complaint/damaged")
    assert hint["macros"] == [{"id": macro.pk, "name": macro.name, "team": None, "cases": 3}]
    assert [t["team"] for t in snap["teams"]] == ["returns"]
    assert snap["teams"][0]["open"] == snap["sla"]["open"] == 10 - 0
    assert "运输破损致歉" in page.content.decode()
