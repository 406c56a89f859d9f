"""The post-campaign review: Black Friday 2017 on the Olist sample, figures checked with pandas on
the raw files; edge cases (empty window, no reviews, service and survey rows) on hand-made data."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from scipy import stats

from manyi.insight.errors import InsightError
from manyi.insight.monitor.campaign import Campaign, CampaignReview, review_campaign
from manyi.insight.sources import Source

BF = (date(2017, 11, 24), date(2017, 11, 27))
BASELINE = (date(2017, 10, 27), date(2017, 11, 23))


# --- Black Friday 2017 -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def black_friday(olist: Source) -> CampaignReview:
    return review_campaign(olist, *BF, name="Black Friday 2017")


@pytest.fixture(scope="module")
def raw(olist_dir: Path) -> SimpleNamespace:
    """The Olist files read with pandas; São Paulo wall times, so local dates are the strings'."""
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    orders["day"] = pd.to_datetime(orders["order_purchase_timestamp"]).dt.date
    delivered = pd.to_datetime(orders["order_delivered_customer_date"])
    promised = pd.to_datetime(orders["order_estimated_delivery_date"])
    orders["delivered"] = delivered.notna() & promised.notna()
    orders["late"] = orders["delivered"] & (delivered.dt.date > promised.dt.date)
    return SimpleNamespace(orders=orders, reviews=reviews)


def _window(raw: SimpleNamespace, first: date, last: date) -> dict[str, Any]:
    orders = raw.orders[(raw.orders.day >= first) & (raw.orders.day <= last)]
    reviews = raw.reviews.merge(orders[["order_id"]], on="order_id")
    scores = reviews["review_score"]
    delivered = orders[orders.delivered]
    return {
        "orders": len(orders),
        "delivered": len(delivered),
        "late": int(delivered.late.sum()),
        "reviews": len(scores),
        "mean": float(scores.mean()),
        "bad": int((scores <= 2).sum()),
        "good": int((scores >= 4).sum()),
    }


@pytest.mark.slow
def test_black_friday_against_the_four_weeks_before(
    black_friday: CampaignReview, raw: SimpleNamespace
) -> None:
    c, b = _window(raw, *BF), _window(raw, *BASELINE)
    assert black_friday.campaign.baseline_window() == BASELINE

    orders = black_friday.metric("orders_per_day")
    assert orders["campaign"]["value"] == pytest.approx(c["orders"] / 4)
    assert orders["baseline"]["value"] == pytest.approx(b["orders"] / 28)
    assert orders["verdict"] == "up"

    late = black_friday.metric("late_share")
    assert (late["campaign"]["n"], late["baseline"]["n"]) == (c["delivered"], b["delivered"])
    assert late["campaign"]["value"] == pytest.approx(c["late"] / c["delivered"])
    assert late["baseline"]["value"] == pytest.approx(b["late"] / b["delivered"])
    pooled = (c["late"] + b["late"]) / (c["delivered"] + b["delivered"])
    z = (c["late"] / c["delivered"] - b["late"] / b["delivered"]) / math.sqrt(
        pooled * (1 - pooled) * (1 / c["delivered"] + 1 / b["delivered"])
    )
    assert late["statistic"] == pytest.approx(z)
    assert late["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert late["verdict"] == "worse"  # Black Friday orders arrived late far more often

    bad = black_friday.metric("bad_review_share")
    assert (bad["campaign"]["n"], bad["baseline"]["n"]) == (c["reviews"], b["reviews"])
    assert bad["campaign"]["value"] == pytest.approx(c["bad"] / c["reviews"])
    assert bad["baseline"]["value"] == pytest.approx(b["bad"] / b["reviews"])
    mean = black_friday.metric("mean_rating")
    assert mean["campaign"]["value"] == pytest.approx(c["mean"])
    assert mean["baseline"]["value"] == pytest.approx(b["mean"])
    good = black_friday.metric("good_review_rate")
    assert good["campaign"]["value"] == pytest.approx(c["good"] / c["reviews"])
    complaints = black_friday.metric("complaints_per_1000_orders")
    assert complaints["campaign"]["value"] == pytest.approx(1000 * c["bad"] / c["orders"])

    # q-values are Benjamini–Hochberg across every metric of the review
    p = [row["p_value"] for row in black_friday.metrics]
    q = stats.false_discovery_control(p, method="bh")
    assert [row["q_value"] for row in black_friday.metrics] == pytest.approx(list(q))
    names = [row["metric"] for row in black_friday.metrics]
    assert "cases_per_1000_orders" not in names  # the Olist sample has no cases
    assert "csat" not in names


@pytest.mark.slow
def test_black_friday_what_went_wrong(black_friday: CampaignReview, raw: SimpleNamespace) -> None:
    findings = black_friday.findings
    mix = findings["delivery_mix"]
    assert mix["status"] == "ok"
    # Kitagawa: the two parts add up to the change
    assert mix["mix_effect"] + mix["rate_effect"] == pytest.approx(mix["change"])
    assert mix["mix_effect"] > 0  # more late deliveries pushed the 1–2★ share up
    late = next(s for s in mix["statuses"] if s["status"] == "late")
    assert late["campaign_share"] > late["baseline_share"]

    drivers = findings["drivers"]
    assert drivers["status"] == "ok"
    assert drivers["drivers"][0]["driver"] in ("late", "delivery_days")
    assert drivers["campaign"]["rows"] >= 300

    aspects = findings["aspects"]
    assert aspects["status"] == "ok"
    assert aspects["campaign"]["analysed"] == min(aspects["campaign"]["with_text"], 2000)
    logistics = next(a for a in aspects["aspects"] if a["aspect"] == "logistics")
    assert logistics["campaign_per_100"] > logistics["baseline_per_100"]

    look = findings["look_at"]
    campaign_orders = set(
        raw.orders.loc[(raw.orders.day >= BF[0]) & (raw.orders.day <= BF[1]), "order_id"]
    )
    assert 0 < len(look["bad_reviews"]) <= 20
    assert all(r["rating"] <= 2 and r["order_id"] in campaign_orders for r in look["bad_reviews"])
    assert [r["rating"] for r in look["bad_reviews"]] == sorted(
        r["rating"] for r in look["bad_reviews"]
    )
    late_bad = look["late_bad_orders"]
    assert late_bad
    assert all(r["days_late"] > 0 and r["rating"] <= 2 for r in late_bad)
    assert [r["days_late"] for r in late_bad] == sorted(
        (r["days_late"] for r in late_bad), reverse=True
    )
    assert look["breached_cases"] is None


@pytest.mark.slow
def test_black_friday_json_and_pages(black_friday: CampaignReview) -> None:
    doc = black_friday.to_dict()
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    assert doc["review_version"] == 1
    assert doc["campaign"]["name"] == "Black Friday 2017"
    assert doc["campaign"]["baseline_start"] == "2017-10-27"
    assert set(doc["sections"]) == {
        "summary", "metrics", "daily", "delivery_mix", "drivers", "aspects", "look_at"
    }  # fmt: skip
    assert all(s["status"] == "ok" for s in doc["sections"].values())
    summary = doc["sections"]["summary"]["data"]
    assert any(line.startswith("Late deliveries rose from") for line in summary["en"])
    assert any(line.startswith("延迟送达占比从") for line in summary["zh"])
    assert len(doc["sections"]["daily"]["data"]["days"]) == 32
    assert "\\u" not in text[:200]
    for lang, title in (
        ("en", "Campaign review · Black Friday 2017"),
        ("zh", "活动复盘 · Black Friday 2017"),
    ):
        page = black_friday.to_html(lang, include_plotlyjs=False)
        assert f"<h1>{title}</h1>" in page
        assert page.count("Plotly.newPlot") >= 6
        # Nothing loaded from elsewhere (the page also names the data's folder, which may
        # contain any letters, so look for CDN hosts and remote scripts, not the word "cdn").
        assert "cdn.plot.ly" not in page.lower()
        assert re.search(r"<script[^>]*\ssrc=", page) is None


# --- edge cases on hand-made data ------------------------------------------------------------


def _shop(rows: SimpleNamespace, *, reviews: bool = True) -> dict[str, list[dict[str, Any]]]:
    orders, revs = [], []
    for day in range(1, 33):  # 2018-03-01 .. 2018-04-01
        stamp = f"2018-{3 + day // 32:02d}-{(day - 1) % 31 + 1:02d} 10:00"
        for j in range(3 if day <= 28 else 6):
            oid = f"o{day}-{j}"
            late = j == 0 and day > 28
            orders.append(
                rows.order(
                    oid,
                    stamp,
                    delivered_at=stamp.replace("10:00", "20:00"),
                    estimated_delivery_at=stamp[:10] if not late else "2018-03-01",
                )
            )
            revs.append(
                rows.review(
                    f"r{oid}", oid, 1 if late else 5, stamp, body="atraso" if late else "ok"
                )
            )
    return {"orders": orders, "reviews": revs} if reviews else {"orders": orders}


def test_review_on_hand_made_data(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    src = build_source(**_shop(rows))
    review = review_campaign(src, date(2018, 3, 29), date(2018, 4, 1), max_reviews=50)
    orders = review.metric("orders_per_day")
    assert (orders["campaign"]["value"], orders["baseline"]["value"]) == (6.0, 3.0)
    late = review.metric("late_share")
    # one of the six orders a day arrived late and got 1★
    assert (late["campaign"]["value"], late["baseline"]["value"]) == (pytest.approx(1 / 6), 0.0)
    assert review.metric("bad_review_share")["campaign"]["value"] == pytest.approx(1 / 6)
    assert review.findings["drivers"]["status"] == "no_data"  # 24 campaign reviews: too few
    assert "Too few rated" in review.findings["drivers"]["reason"]["en"]
    json.dumps(review.to_dict(), allow_nan=False)
    assert "<h1>活动复盘</h1>" in review.to_html("zh", include_plotlyjs=False)


def test_empty_campaign_window(build_source: Callable[..., Source], rows: SimpleNamespace) -> None:
    src = build_source(**_shop(rows))
    review = review_campaign(src, date(2018, 6, 1), date(2018, 6, 3), max_reviews=50)
    orders = review.metric("orders_per_day")
    assert orders["campaign"]["value"] == 0.0
    late = review.metric("late_share")
    assert (late["campaign"]["value"], late["p_value"], late["verdict"]) == (
        None,
        None,
        "no_change",
    )
    assert review.findings["aspects"]["status"] == "no_data"
    doc = review.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["sections"]["aspects"]["status"] == "no_data"
    assert doc["sections"]["aspects"]["reason"]["zh"]
    review.to_html("en", include_plotlyjs=False)


def test_source_without_reviews(build_source: Callable[..., Source], rows: SimpleNamespace) -> None:
    src = build_source(**_shop(rows, reviews=False))
    review = review_campaign(src, date(2018, 3, 29), date(2018, 4, 1))
    names = [r["metric"] for r in review.metrics]
    assert names == ["orders_per_day", "late_share", "delivery_days", "complaints_per_1000_orders"]
    assert review.findings["delivery_mix"]["status"] == "no_data"
    assert review.findings["look_at"]["bad_reviews"] == []
    assert review.to_dict()["sections"]["drivers"]["status"] == "no_data"


def test_service_and_survey_rows(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    shop = _shop(rows)
    cases = [
        rows.case(i + 1, f"2018-03-{d:02d} 09:00", order_id=f"o{d}-0", kind="complaint",
                  first_response_due_at=f"2018-03-{d:02d} 13:00",
                  first_response_at=f"2018-03-{d:02d} {'11' if d < 29 else '17'}:00")
        for i, d in enumerate(range(1, 32))
    ]  # fmt: skip
    responses = [
        {"response_id": f"s{i}", "instrument": "csat", "answered_at": f"2018-03-{d:02d} 12:00"}
        for i, d in enumerate(range(1, 32))
    ]
    answers = [
        {"response_id": f"s{i}", "item": "csat", "value": 2 if d >= 29 else 5}
        for i, d in enumerate(range(1, 32))
    ]
    src = build_source(**shop, cases=cases, survey_responses=responses, survey_answers=answers)
    review = review_campaign(src, date(2018, 3, 29), date(2018, 4, 1))
    sla = review.metric("sla_first_response")
    assert (sla["campaign"]["value"], sla["baseline"]["value"]) == (0.0, 1.0)
    assert sla["verdict"] == "worse"
    hours = review.metric("first_response_hours")
    assert (hours["campaign"]["value"], hours["baseline"]["value"]) == (8.0, 2.0)
    per_order = review.metric("cases_per_1000_orders")
    assert per_order["campaign"]["value"] == pytest.approx(1000 * 3 / 24)
    # complaint cases (web) add to the 1–2★ reviews of the campaign's orders
    complaints = review.metric("complaints_per_1000_orders")
    assert complaints["campaign"]["value"] == pytest.approx(1000 * (3 + 4) / 24)
    assert review.metric("csat")["campaign"]["value"] == 0.0
    breached = review.findings["look_at"]["breached_cases"]
    assert [c["case_id"] for c in breached] == [29, 30, 31]
    assert breached[0]["hours_over"] == pytest.approx(4.0)


def test_campaign_validation() -> None:
    with pytest.raises(InsightError, match="starts on 2018-03-02 after it ends on 2018-03-01"):
        Campaign("x", date(2018, 3, 2), date(2018, 3, 1))
    with pytest.raises(InsightError, match="overlaps the campaign"):
        Campaign("x", date(2018, 3, 2), date(2018, 3, 5), date(2018, 3, 1), date(2018, 3, 3))
    c = Campaign("双 11", date(2017, 11, 11), date(2017, 11, 11))
    assert Campaign.from_dict(c.to_dict()).baseline_window() == (
        date(2017, 10, 14),
        date(2017, 11, 10),
    )
    with pytest.raises(InsightError, match="needs a start and an end"):
        Campaign.from_dict({"name": "x"})
