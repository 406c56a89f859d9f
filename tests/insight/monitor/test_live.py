"""Live numbers of promotion mode: per-hour counts, SLA at risk, topics and the queue projection.

The hand-made shop (UTC): the baseline (2018-03-01 – 03-28) opens one question a day at 10:00;
on campaign day 2018-03-29, at ``now`` = 15:30,

====  ======  ===================  ==========================  =========================
case  opened  kind / reason        first response due          done
====  ======  ===================  ==========================  =========================
100+  10:00+  return / damaged     —                           c100–102 13:00, c103–104 11:00
105   13:00   complaint / late     15:00 (breached)            —
106   13:30   complaint / late     16:00                       —
107   14:00   complaint / late     16:30                       —
108   14:30   complaint / late     17:00                       —
109   15:00   complaint / late     20:00                       —
110   15:20   complaint / late     23:00                       —
====  ======  ===================  ==========================  =========================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from manyi.insight.errors import InsightError
from manyi.insight.monitor.campaign import Campaign
from manyi.insight.monitor.live import (
    baseline_profile,
    live_snapshot,
    profile_from_dict,
    profile_to_dict,
)
from manyi.insight.sources import Source

CAMPAIGN = Campaign("Spring sale", date(2018, 3, 29), date(2018, 3, 31))
NOW = datetime(2018, 3, 29, 15, 30, tzinfo=UTC)


@pytest.fixture
def shop(build_source: Callable[..., Source], rows: SimpleNamespace) -> Source:
    cases: list[dict[str, Any]] = [
        rows.case(d, f"2018-03-{d:02d} 10:00", resolved_at=f"2018-03-{d:02d} 11:00")
        for d in range(1, 29)
    ]
    cases += [
        rows.case(
            100 + i,
            f"2018-03-29 10:{10 * i:02d}",
            kind="return_refund",
            reason="damaged",
            resolved_at="2018-03-29 13:00" if i < 3 else "2018-03-29 11:00",
        )
        for i in range(5)
    ]
    for case_id, opened, due in (
        (105, "13:00", "15:00"),
        (106, "13:30", "16:00"),
        (107, "14:00", "16:30"),
        (108, "14:30", "17:00"),
        (109, "15:00", "20:00"),
        (110, "15:20", "23:00"),
    ):
        cases.append(
            rows.case(
                case_id,
                f"2018-03-29 {opened}",
                kind="complaint",
                reason="late_delivery",
                first_response_due_at=f"2018-03-29 {due}",
            )
        )
    orders = [rows.order(f"o{d}", f"2018-03-{d:02d} 10:00") for d in range(1, 30)]
    reviews = [
        rows.review(f"r{d}", f"o{d}", 5, f"2018-03-{d:02d} 18:00", body="produto ótimo, recomendo")
        for d in range(1, 29)
    ]
    reviews += [
        rows.review(f"x{i}", "o29", 1, "2018-03-29 12:00", body="não recebi o produto, atraso")
        for i in range(3)
    ]
    return build_source(orders=orders, reviews=reviews, cases=cases)


def test_hours_against_the_baselines_hour_of_day(shop: Source) -> None:
    snap = live_snapshot(shop, CAMPAIGN, NOW)
    assert len(snap.hours) == 24
    assert snap.hours[-1]["hour"] == "2018-03-29T15:00:00"
    assert snap.hours[-1]["partial"] is True
    by_hour = {h["hour"][11:13]: h for h in snap.hours if h["hour"].startswith("2018-03-29")}
    ten = by_hour["10"]["cases_opened"]
    # one case a day at 10:00 in the baseline: 1 expected, Poisson 95 % band 0–3
    assert (ten["count"], ten["expected"], ten["low"], ten["high"], ten["above"]) == (
        5, 1.0, 0.0, 3.0, True
    )  # fmt: skip
    assert by_hour["13"]["cases_opened"]["count"] == 2
    assert by_hour["13"]["cases_opened"]["above"] is True  # nothing expected at 13:00
    # the current hour is half gone: half the expectation
    assert by_hour["15"]["cases_opened"]["count"] == 2
    assert by_hour["11"]["cases_opened"] == {
        "count": 0, "expected": 0.0, "low": 0.0, "high": 0.0, "above": False
    }  # fmt: skip
    assert by_hour["12"]["complaints"]["count"] == 3  # three 1★ reviews
    assert by_hour["10"]["orders"]["count"] == 1


def test_sla_at_risk_and_the_queue_projection(shop: Source) -> None:
    snap = live_snapshot(shop, CAMPAIGN, NOW, capacity=8)
    assert snap.sla is not None
    assert {k: snap.sla[k] for k in ("open", "breached", "at_risk", "no_due")} == {
        "open": 6, "breached": 1, "at_risk": 3, "no_due": 0
    }  # fmt: skip
    assert [c["case_id"] for c in snap.sla["at_risk_cases"]] == [106, 107, 108]
    surge = snap.surge
    assert surge is not None
    # 6 cases opened and 3 finished in the last 3 hours
    assert (surge["arrivals_per_hour"], surge["handled_per_hour"]) == (2.0, 1.0)
    assert surge["hours_to_capacity"] == 2.0  # (8 - 6) / (2 - 1)
    # soonest-due first at 1 an hour: reached 16:30, 17:30, 18:30, 19:30, 20:30
    assert surge["projected_misses"] == 3
    assert [c["case_id"] for c in surge["miss_cases"]] == [106, 107, 108]
    assert surge["first_miss_due"] == "2018-03-29T16:00:00+00:00"
    assert surge["rising_reasons"][0]["label"] == "complaint/late_delivery"
    faster = live_snapshot(shop, CAMPAIGN, NOW, handled_per_hour=4.0)
    assert faster.surge is not None
    assert faster.surge["projected_misses"] == 0


def test_satisfaction_and_topics(shop: Source) -> None:
    snap = live_snapshot(shop, CAMPAIGN, NOW)
    assert snap.satisfaction is not None
    today = snap.satisfaction["days"][0]
    assert (today["day"], today["reviews"], today["mean_rating"], today["bad_share"]) == (
        "2018-03-29", 3, 1.0, 1.0
    )  # fmt: skip
    assert snap.satisfaction["baseline_mean_rating"] == 5.0
    assert snap.topics is not None
    assert snap.topics["analysed"] == 3
    logistics = next(a for a in snap.topics["aspects"] if a["aspect"] == "logistics")
    assert logistics["per_100"] > logistics["baseline_per_100"]
    assert any(p["new"] for p in snap.topics["rising_phrases"])
    json.dumps(snap.to_dict(), allow_nan=False)


def test_profile_is_reusable_and_round_trips(shop: Source) -> None:
    profile = baseline_profile(shop, CAMPAIGN)
    assert profile.hourly["cases_opened"][10] == 1.0
    assert profile.reasons == {"question/-": 1.0}
    again = profile_from_dict(json.loads(json.dumps(profile_to_dict(profile))))
    assert again == profile
    with_profile = live_snapshot(shop, CAMPAIGN, NOW, profile=again)
    assert "baseline" not in with_profile.seconds
    assert with_profile.hours == live_snapshot(shop, CAMPAIGN, NOW).hours


def test_naive_now_is_the_shops_wall_time(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    src = build_source("America/Sao_Paulo", orders=[rows.order("o1", "2018-03-29 09:15")])
    snap = live_snapshot(src, CAMPAIGN, datetime(2018, 3, 29, 9, 30))  # noqa: DTZ001 - wall time
    assert snap.now == "2018-03-29T09:30"
    assert snap.hours[-1]["orders"]["count"] == 1
    assert (snap.sla, snap.surge) == (None, None)  # no cases table


def test_bad_settings(shop: Source) -> None:
    with pytest.raises(InsightError, match="must be positive"):
        live_snapshot(shop, CAMPAIGN, NOW, hours=0)
    with pytest.raises(InsightError, match="unknown part\\(s\\) weather"):
        live_snapshot(shop, CAMPAIGN, NOW, parts=("hours", "weather"))


def test_a_refresh_may_ask_for_some_parts(shop: Source) -> None:
    profile = baseline_profile(shop, CAMPAIGN)
    snap = live_snapshot(shop, CAMPAIGN, NOW, profile=profile, parts=("hours", "sla"))
    assert len(snap.hours) == 24
    assert snap.sla is not None
    assert snap.sla["breached"] == 1
    assert (snap.satisfaction, snap.topics, snap.surge) == (None, None, None)


@pytest.mark.slow
def test_black_friday_afternoon_on_the_olist_sample(olist: Source, olist_dir: Path) -> None:
    bf = Campaign("Black Friday 2017", date(2017, 11, 24), date(2017, 11, 27))
    snap = live_snapshot(olist, bf, datetime(2017, 11, 24, 15, 30))  # noqa: DTZ001 - wall time
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    stamp = pd.to_datetime(orders["order_purchase_timestamp"])
    today = stamp[(stamp >= "2017-11-24") & (stamp < "2017-11-24 15:30")]
    expected = today.dt.hour.value_counts().to_dict()
    got = {
        int(h["hour"][11:13]): h["orders"]["count"] for h in snap.hours if h["hour"] >= "2017-11-24"
    }
    assert got == {h: expected.get(h, 0) for h in range(16)}
    assert sum(h["orders"]["above"] for h in snap.hours[-16:]) >= 8  # the surge is visible
    assert (snap.sla, snap.surge) == (None, None)
    assert snap.satisfaction is not None
    assert snap.satisfaction["days"][0]["reviews"] > 0
    assert snap.topics is not None
