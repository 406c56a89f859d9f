"""Metric series on hand-made sources (figures worked by hand) and on the Olist sample (pandas)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import ibis
import pandas as pd
import pytest

from manyi.insight.errors import InsightError, SourceError
from manyi.insight.monitor.localtime import window_local_time
from manyi.insight.monitor.series import METRICS, available_metrics, metric_series
from manyi.insight.sources import Source

SP = "America/Sao_Paulo"


def test_orders_per_local_day_with_empty_days(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    # given orders in São Paulo wall time, one late on 11-23 and two on 11-24
    src = build_source(
        SP,
        orders=[
            rows.order("o1", "2017-11-23 23:30"),
            rows.order("o2", "2017-11-24 00:30"),
            rows.order("o3", "2017-11-24 21:00"),  # 23:00 UTC, still the 24th locally
            rows.order("o4", "2017-11-27 12:00"),
        ],
    )
    # when
    s = metric_series(src, "orders", date(2017, 11, 23), date(2017, 11, 26))
    # then every day is there, the days without orders as 0
    assert s["period"].dt.date.tolist() == [date(2017, 11, d) for d in (23, 24, 25, 26)]
    assert s["value"].tolist() == [1.0, 2.0, 0.0, 0.0]
    assert s["n"].tolist() == [1, 2, 0, 0]
    assert list(s.columns) == ["period", "value", "n"]


def test_hourly_orders(build_source: Callable[..., Source], rows: SimpleNamespace) -> None:
    src = build_source(
        SP,
        orders=[
            rows.order("o1", "2017-11-24 09:10"),
            rows.order("o2", "2017-11-24 09:50"),
            rows.order("o3", "2017-11-24 23:59"),
        ],
    )
    s = metric_series(src, "orders", date(2017, 11, 24), date(2017, 11, 24), "hour")
    assert len(s) == 24
    assert s.set_index(s["period"].dt.hour)["n"].to_dict() == {
        h: {9: 2, 23: 1}.get(h, 0) for h in range(24)
    }


def test_late_share_by_delivery_day(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    src = build_source(
        SP,
        orders=[
            # late: delivered the day after the promise
            rows.order("o1", "2018-02-20", delivered_at="2018-03-05 10:00",
                       estimated_delivery_at="2018-03-04 00:00"),
            # on time: delivered late in the evening of the promised day
            rows.order("o2", "2018-02-20", delivered_at="2018-03-05 23:00",
                       estimated_delivery_at="2018-03-05 00:00"),
            # late, promised months before (outside daylight saving time then)
            rows.order("o3", "2017-12-01", delivered_at="2018-03-06 08:00",
                       estimated_delivery_at="2017-12-20 00:00"),
            # no promised date: not counted
            rows.order("o4", "2018-02-20", delivered_at="2018-03-05 12:00"),
            # not delivered: not counted
            rows.order("o5", "2018-02-20", estimated_delivery_at="2018-03-01 00:00"),
        ],
    )  # fmt: skip
    s = metric_series(src, "late_share", date(2018, 3, 5), date(2018, 3, 6))
    assert s["n"].tolist() == [2, 1]
    assert s["k"].tolist() == [1, 1]
    assert s["value"].tolist() == [0.5, 1.0]


def test_window_local_time_agrees_with_the_source_around_daylight_saving_changes(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    # São Paulo: DST began 2017-10-15 00:00 (to 01:00) and ended 2018-02-18 00:00 (to 23:00)
    src = build_source(SP, orders=[rows.order("o1", "2017-10-14")])
    instants = pd.date_range("2017-10-13", "2017-10-17", freq="37min", tz="UTC").append(
        pd.date_range("2018-02-16", "2018-02-20", freq="37min", tz="UTC")
    )
    t = ibis.memtable({"ts": instants})
    for first, last in (
        (date(2017, 10, 14), date(2017, 10, 16)),
        (date(2018, 2, 17), date(2018, 2, 19)),
    ):
        mine = src.execute(t.select(x=window_local_time(src, t.ts, first, last)))["x"]
        theirs = src.execute(t.select(x=src.local_time(t.ts)))["x"]
        kept = (instants >= pd.Timestamp(first, tz="UTC") - pd.Timedelta(days=1)) & (
            instants < pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=2)
        )
        assert mine[kept].tolist() == theirs[kept].tolist()


def test_rating_series(build_source: Callable[..., Source], rows: SimpleNamespace) -> None:
    src = build_source(
        orders=[rows.order("o1", "2018-03-01")],
        reviews=[
            rows.review("r1", "o1", 5, "2018-03-02 10:00"),
            rows.review("r2", "o1", 1, "2018-03-02 11:00"),
            rows.review("r3", "o1", 4, "2018-03-02 12:00"),
            rows.review("r4", "o1", 2, "2018-03-03 12:00"),
        ],
    )
    mean = metric_series(src, "mean_rating", date(2018, 3, 2), date(2018, 3, 4))
    assert mean["value"].tolist()[:2] == [pytest.approx(10 / 3), 2.0]
    assert pd.isna(mean["value"].iloc[2])
    assert mean.iloc[0][["n", "total", "total_sq", "at_1", "at_4", "at_5"]].tolist() == [
        3, 10.0, 42.0, 1, 1, 1
    ]  # fmt: skip
    bad = metric_series(src, "bad_review_share", date(2018, 3, 2), date(2018, 3, 3))
    assert bad["k"].tolist() == [1, 1]
    assert bad["value"].tolist() == [pytest.approx(1 / 3), 1.0]
    good = metric_series(src, "good_review_rate", date(2018, 3, 2), date(2018, 3, 3))
    assert good["value"].tolist() == [pytest.approx(2 / 3), 0.0]


def test_complaints_count_complaint_cases_and_bad_reviews_once(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    src = build_source(
        orders=[rows.order("o1", "2018-03-01")],
        reviews=[
            rows.review("r1", "o1", 1, "2018-03-02 10:00"),
            rows.review("r2", "o1", 5, "2018-03-02 11:00"),
        ],
        cases=[
            rows.case(1, "2018-03-02 09:00", kind="complaint"),
            # the desk's follow-up case of review r1: the review already counts
            rows.case(2, "2018-03-02 10:05", kind="complaint", channel="review"),
            rows.case(3, "2018-03-02 12:00", kind="return_refund"),
            rows.case(4, "2018-03-03 12:00", kind="complaint", channel="phone"),
        ],
    )
    s = metric_series(src, "complaints", date(2018, 3, 2), date(2018, 3, 3))
    assert s["value"].tolist() == [2.0, 1.0]
    opened = metric_series(src, "cases_opened", date(2018, 3, 2), date(2018, 3, 3))
    assert opened["value"].tolist() == [3.0, 1.0]
    # without a cases table the 1–2★ reviews alone are the complaints
    no_cases = build_source(
        orders=[rows.order("o1", "2018-03-01")],
        reviews=[rows.review("r1", "o1", 2, "2018-03-02 10:00")],
    )
    assert metric_series(no_cases, "complaints", date(2018, 3, 2), date(2018, 3, 2))[
        "value"
    ].tolist() == [1.0]


def test_sla_breaches_and_first_response_hours(
    build_source: Callable[..., Source], rows: SimpleNamespace
) -> None:
    src = build_source(
        cases=[
            # first response due 10:00: met at 09:00; resolution due 03-03, met
            rows.case(1, "2018-03-02 08:00", first_response_at="2018-03-02 09:00",
                      first_response_due_at="2018-03-02 10:00",
                      resolution_due_at="2018-03-03 08:00", resolved_at="2018-03-02 20:00"),
            # answered an hour after its due instant: missed
            rows.case(2, "2018-03-02 08:00", first_response_at="2018-03-02 11:00",
                      first_response_due_at="2018-03-02 10:00"),
            # never answered, due before the data's last instant: missed
            rows.case(3, "2018-03-02 08:00", first_response_due_at="2018-03-02 12:00"),
            # due after the data's last instant (03-05 09:00): not judged yet
            rows.case(4, "2018-03-05 09:00", first_response_due_at="2018-03-05 15:00"),
        ],
    )  # fmt: skip
    s = metric_series(src, "sla_breaches", date(2018, 3, 2), date(2018, 3, 5))
    assert s[["n", "k"]].values.tolist() == [[3, 2], [1, 0], [0, 0], [0, 0]]
    hours = metric_series(src, "first_response_hours", date(2018, 3, 2), date(2018, 3, 2))
    assert hours.iloc[0][["n", "value"]].tolist() == [2, 2.0]  # 1 h and 3 h


def test_survey_series(build_source: Callable[..., Source]) -> None:
    responses = [
        {"response_id": f"s{i}", "instrument": inst, "answered_at": "2018-03-02 10:00"}
        for i, inst in enumerate(["csat", "csat", "csat", "nps", "nps", "nps", "nps"])
    ]
    answers = [
        {"response_id": "s0", "item": "csat", "value": 5},
        {"response_id": "s1", "item": "csat", "value": 4},
        {"response_id": "s2", "item": "csat", "value": 2},
        {"response_id": "s3", "item": "nps", "value": 10},
        {"response_id": "s4", "item": "nps", "value": 9},
        {"response_id": "s5", "item": "nps", "value": 7},
        {"response_id": "s6", "item": "nps", "value": 3},
    ]
    src = build_source(survey_responses=responses, survey_answers=answers)
    csat = metric_series(src, "csat", date(2018, 3, 2), date(2018, 3, 2))
    assert csat.iloc[0][["n", "k"]].tolist() == [3, 2]
    nps = metric_series(src, "nps", date(2018, 3, 2), date(2018, 3, 2))
    assert nps.iloc[0][["n", "promoters", "detractors", "value"]].tolist() == [4, 2, 1, 25.0]
    assert available_metrics(src) == ["csat", "nps"]


def test_errors(build_source: Callable[..., Source], rows: SimpleNamespace) -> None:
    src = build_source(orders=[rows.order("o1", "2018-03-01")])
    with pytest.raises(InsightError, match="unknown metric 'refunds'; choose one of orders"):
        metric_series(src, "refunds", date(2018, 3, 1), date(2018, 3, 2))
    with pytest.raises(InsightError, match="starts on 2018-03-02 after it ends on 2018-03-01"):
        metric_series(src, "orders", date(2018, 3, 2), date(2018, 3, 1))
    with pytest.raises(InsightError, match="freq must be one of day, hour"):
        metric_series(src, "orders", date(2018, 3, 1), date(2018, 3, 1), "week")
    with pytest.raises(SourceError, match="has no table 'cases'"):
        metric_series(src, "cases_opened", date(2018, 3, 1), date(2018, 3, 1))
    assert available_metrics(src) == ["orders", "late_share"]


def test_every_metric_declares_its_columns() -> None:
    for name, spec in METRICS.items():
        assert spec.name == name
        assert spec.columns()[:3] == ["period", "value", "n"]
        assert set(spec.title) == {"en", "zh"}


# --- the Olist sample, against pandas on the raw files ---------------------------------------


@pytest.mark.slow
def test_olist_daily_orders_and_bad_share_match_pandas(olist: Source, olist_dir: Path) -> None:
    first, last = date(2017, 10, 27), date(2017, 11, 27)
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    day = pd.to_datetime(orders["order_purchase_timestamp"]).dt.date  # São Paulo wall time
    expected = day[(day >= first) & (day <= last)].value_counts().sort_index()
    s = metric_series(olist, "orders", first, last)
    got = dict(zip(s["period"].dt.date, s["n"], strict=True))
    assert {d: got[d] for d in expected.index} == expected.to_dict()
    assert sum(got.values()) == int(expected.sum())

    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    created = pd.to_datetime(reviews["review_creation_date"]).dt.date
    window = reviews[(created >= first) & (created <= last)].assign(day=created)
    by_day = window.groupby("day")["review_score"].agg(n="size", bad=lambda x: int((x <= 2).sum()))
    bad = metric_series(olist, "bad_review_share", first, last).set_index("period")
    for d, row in by_day.iterrows():
        assert bad.loc[pd.Timestamp(d), "n"] == row["n"]
        assert bad.loc[pd.Timestamp(d), "k"] == row["bad"]
