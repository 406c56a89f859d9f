"""Service KPIs on small hand-made cases, case_events and orders, with figures worked by hand.

The cases (UTC; 2026-03-02 is a Monday):

====  ====  =====  =============  ================  ===========  =====  ========  ===========
case  team  chan.  kind           reason            opened       first  resolved  order
====  ====  =====  =============  ================  ===========  =====  ========  ===========
1     A     email  return_refund  damaged           03-02 09:00  +1 h   +24 h     o1
2     A     chat   refund_only    not_as_described  03-02 10:00  +4 h   +72 h     o2 (reopened)
3     B     chat   question       —                 03-09 09:00  +0.5h  closed+3h —
4     B     email  return_refund  damaged           03-10 09:00  —      —         o3
5     —     web    complaint      late_delivery     04-01 09:00  +2 h   +24 h     o1
6     A     web    return_refund  quality           03-20 09:00  —      —         o1
====  ====  =====  =============  ================  ===========  =====  ========  ===========
"""

from __future__ import annotations

import doctest
import math
import sqlite3
import statistics
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from scipy import stats

from manyi.data.schema import TABLES, ColumnType
from manyi.insight import service
from manyi.insight.errors import InsightError, ScaleError, SourceError
from manyi.insight.intervals import wilson_interval
from manyi.insight.service import (
    backlog,
    data_as_of,
    reopen_rate,
    response_times,
    return_rate,
    sla_attainment,
)
from manyi.insight.sources import Source, open_source


def at(text: str | None) -> datetime | None:
    """UTC instant from ``MM-DD HH:MM`` in 2026 (or a full ``YYYY-MM-DD HH:MM``)."""
    if text is None:
        return None
    full = text if text.count("-") == 2 else f"2026-{text}"
    return datetime.fromisoformat(full).replace(tzinfo=UTC)


def case(case_id: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": case_id,
        "kind": "question",
        "channel": "web",
        "status": "new",
        "priority": "normal",
        "currency": "CNY",
    }
    for key, value in fields.items():
        row[key] = at(value) if key.endswith("_at") else value
    return row


def event(case_id: int, seq: int, when: str, kind: str, frm: str | None, to: str | None) -> dict:
    return {
        "case_id": case_id,
        "seq": seq,
        "at": at(when),
        "kind": kind,
        "from_status": frm,
        "to_status": to,
        "actor": "system" if kind == "opened" else "agent1",
    }


CASES = [
    case(1, team="A", channel="email", kind="return_refund", reason="damaged", order_id="o1",
         status="resolved", opened_at="03-02 09:00", first_response_at="03-02 10:00",
         first_response_due_at="03-02 11:00", resolved_at="03-03 09:00",
         resolution_due_at="03-04 09:00"),
    case(2, team="A", channel="chat", kind="refund_only", reason="not_as_described",
         order_id="o2", status="resolved", opened_at="03-02 10:00",
         first_response_at="03-02 14:00", first_response_due_at="03-02 12:00",
         resolved_at="03-05 10:00", resolution_due_at="03-04 10:00"),
    case(3, team="B", channel="chat", kind="question", status="closed",
         opened_at="03-09 09:00", first_response_at="03-09 09:30",
         first_response_due_at="03-09 10:00", closed_at="03-09 12:00",
         resolution_due_at="03-10 09:00"),
    case(4, team="B", channel="email", kind="return_refund", reason="damaged", order_id="o3",
         opened_at="03-10 09:00", first_response_due_at="03-10 11:00"),
    case(5, channel="web", kind="complaint", reason="late_delivery", order_id="o1",
         status="closed", opened_at="04-01 09:00", first_response_at="04-01 11:00",
         resolved_at="04-02 09:00", closed_at="04-02 09:00", resolution_due_at="04-03 09:00"),
    case(6, team="A", channel="web", kind="return_refund", reason="quality", order_id="o1",
         opened_at="03-20 09:00"),
]  # fmt: skip

EVENTS = [
    event(1, 1, "03-02 09:00", "opened", None, "new"),
    event(1, 2, "03-02 10:00", "reply", None, None),
    event(1, 3, "03-03 09:00", "transition", "new", "resolved"),
    event(2, 1, "03-02 10:00", "opened", None, "new"),
    event(2, 2, "03-03 10:00", "transition", "new", "resolved"),
    event(2, 3, "03-04 10:00", "transition", "resolved", "triaged"),  # reopened
    event(2, 4, "03-05 10:00", "transition", "triaged", "resolved"),
    event(3, 1, "03-09 09:00", "opened", None, "new"),
    event(3, 2, "03-09 12:00", "transition", "new", "closed"),
    event(4, 1, "03-10 09:00", "opened", None, "new"),
    event(5, 1, "04-01 09:00", "opened", None, "new"),
    event(5, 2, "04-02 09:00", "transition", "new", "resolved"),
    event(5, 3, "04-02 09:00", "transition", "resolved", "closed"),  # done -> done: no reopen
    event(6, 1, "03-20 09:00", "opened", None, "new"),
]


def order(order_id: str, delivered: str | None) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": f"c-{order_id}",
        "status": "delivered" if delivered else "shipped",
        "purchased_at": at("03-01 08:00"),
        "delivered_at": at(delivered),
        "currency": "CNY",
        "item_total": 10.0,
        "freight_total": 0.0,
    }


def item(order_id: str, line_no: int, product_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_no": line_no,
        "product_id": product_id,
        "seller_id": "s1",
        "price": 5.0,
        "freight": 0.0,
    }


ORDERS = [order(o, "03-01 18:00") for o in ("o1", "o2", "o3", "o4")] + [order("o5", None)]
# o1's first item is electronics (its second line is a book): the order counts as electronics
ITEMS = [
    item("o1", 2, "book"),
    item("o1", 1, "phone"),
    item("o2", 1, "book"),
    item("o3", 1, "phone"),
    item("o4", 1, "book"),
    item("o5", 1, "phone"),
]
PRODUCTS = [
    {"product_id": "phone", "category": "electronics"},
    {"product_id": "book", "category": "books"},
]


def frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of canonical table ``name`` with the canonical column types (missing = null)."""
    columns = TABLES[name].columns
    out = pd.DataFrame(rows, columns=[c.name for c in columns])
    for c in columns:
        if c.type == ColumnType.TIMESTAMP:
            out[c.name] = pd.to_datetime(out[c.name], utc=True)
        elif c.type == ColumnType.INTEGER:
            out[c.name] = out[c.name].astype("Int64")
        elif c.type in (ColumnType.DECIMAL, ColumnType.FLOAT):
            out[c.name] = pd.to_numeric(out[c.name]).astype("float64")
        else:
            out[c.name] = out[c.name].astype("string")
    return out


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Callable[..., Source]]:
    """A ``parquet:DIR`` source from rows per canonical table."""
    opened: list[Source] = []

    def make(timezone: str = "UTC", **tables: list[dict[str, Any]]) -> Source:
        folder = tmp_path / f"src{len(opened)}"
        folder.mkdir()
        for name, rows in tables.items():
            frame(name, rows).to_parquet(folder / f"{name}.parquet")
        src = open_source(f"parquet:{folder}", timezone=timezone)
        opened.append(src)
        return src

    yield make
    for src in opened:
        src.close()


@pytest.fixture
def shop(build: Callable[..., Source]) -> Source:
    return build(
        cases=CASES, case_events=EVENTS, orders=ORDERS, order_items=ITEMS, products=PRODUCTS
    )


def by_key(frame: pd.DataFrame, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in frame.to_dict("records")}


def test_the_module_example_runs() -> None:
    result = doctest.testmod(service)
    assert result.attempted >= 5
    assert result.failed == 0


# --- response and resolution times ----------------------------------------------------------


def test_response_times_overall(shop: Source) -> None:
    row = response_times(shop).iloc[0]
    assert row["cases"] == 6
    # first responses 1, 4, 0.5, 2 h -> sorted 0.5 1 2 4: median at rank 1.5 = 1.5 h;
    # p90 at rank 2.7 = 2 + 0.7 × (4 − 2) = 3.4 h; mean 7.5 / 4 = 1.875 h
    assert row["first_response_n"] == 4
    assert row["first_response_median_h"] == pytest.approx(1.5)
    assert row["first_response_p90_h"] == pytest.approx(3.4)
    assert row["first_response_mean_h"] == pytest.approx(1.875)
    sd = statistics.stdev([1, 4, 0.5, 2])
    half = stats.t.ppf(0.975, 3) * sd / 2
    assert row["first_response_mean_h_low"] == pytest.approx(1.875 - half)
    assert row["first_response_mean_h_high"] == pytest.approx(1.875 + half)
    # resolutions 24, 72, 3 (closed without "resolved"), 24 h -> 3 24 24 72: median 24;
    # p90 = 24 + 0.7 × 48 = 57.6; mean 123 / 4 = 30.75
    assert row["resolution_n"] == 4
    assert row["resolution_median_h"] == pytest.approx(24.0)
    assert row["resolution_p90_h"] == pytest.approx(57.6)
    assert row["resolution_mean_h"] == pytest.approx(30.75)


def test_response_times_by_team_keep_the_case_without_a_team(shop: Source) -> None:
    rows = response_times(shop, by="team")
    assert list(rows["team"]) == ["A", "B", None]
    a, b, none = rows.to_dict("records")
    # A: cases 1, 2, 6; first responses 1 and 4 h: median 2.5, p90 1 + 0.9 × 3 = 3.7
    assert (a["cases"], a["first_response_n"]) == (3, 2)
    assert a["first_response_median_h"] == pytest.approx(2.5)
    assert a["first_response_p90_h"] == pytest.approx(3.7)
    assert a["resolution_median_h"] == pytest.approx(48.0)
    # B: case 3 answered in 0.5 h, case 4 never: one value, no interval
    assert (b["cases"], b["first_response_n"], b["first_response_median_h"]) == (2, 1, 0.5)
    assert b["first_response_p90_h"] == 0.5
    assert pd.isna(b["first_response_mean_h_low"])
    assert (none["cases"], none["first_response_median_h"]) == (1, 2.0)


def test_response_times_by_month_and_channel(shop: Source) -> None:
    rows = response_times(shop, by=["month", "channel"])
    got = {(r["period"], r["channel"]): r["cases"] for r in rows.to_dict("records")}
    assert got == {
        (date(2026, 3, 1), "chat"): 2,
        (date(2026, 3, 1), "email"): 2,
        (date(2026, 3, 1), "web"): 1,
        (date(2026, 4, 1), "web"): 1,
    }


def test_periods_are_shop_local(build: Callable[..., Source]) -> None:
    # 31 March 20:00 UTC is 1 April 04:00 in Shanghai
    late = case(1, opened_at="03-31 20:00", first_response_at="03-31 21:00")
    utc = response_times(build(cases=[late]), by="month")
    shanghai = response_times(build(timezone="Asia/Shanghai", cases=[late]), by="month")
    assert list(utc["period"]) == [date(2026, 3, 1)]
    assert list(shanghai["period"]) == [date(2026, 4, 1)]


def test_since_until_filter_on_the_opening_date(shop: Source) -> None:
    march = response_times(shop, since=date(2026, 3, 9), until=date(2026, 3, 31)).iloc[0]
    # cases 3, 4, 6
    assert (march["cases"], march["first_response_n"]) == (3, 1)
    assert march["first_response_median_h"] == 0.5


def test_category_and_region_slices_go_through_the_order_and_customer(
    build: Callable[..., Source],
) -> None:
    customers = [{"customer_id": "c1", "region": "SP"}]
    src = build(
        cases=[*CASES[:2], case(9, customer_id="c1", opened_at="03-02 09:00")],
        orders=ORDERS,
        order_items=ITEMS,
        products=PRODUCTS,
        customers=customers,
    )
    cats = by_key(response_times(src, by="category"), "category")
    # case 1 (o1: first item a phone) and case 2 (o2: a book); case 9 has no order
    assert {k: v["cases"] for k, v in cats.items()} == {"books": 1, "electronics": 1, None: 1}
    regions = by_key(response_times(src, by="region"), "region")
    assert {k: v["cases"] for k, v in regions.items()} == {"SP": 1, None: 2}


def test_no_cases_one_case_and_all_open(build: Callable[..., Source]) -> None:
    empty = response_times(build(cases=[])).iloc[0]
    assert (empty["cases"], empty["first_response_n"]) == (0, 0)
    assert pd.isna(empty["first_response_median_h"])
    assert response_times(build(cases=[]), by="team").empty
    one = response_times(
        build(cases=[case(1, opened_at="03-02 09:00", first_response_at="03-02 09:45")])
    ).iloc[0]
    assert (one["first_response_n"], one["first_response_median_h"]) == (1, 0.75)
    assert one["first_response_p90_h"] == 0.75
    assert pd.isna(one["first_response_mean_h_low"])
    assert one["resolution_n"] == 0
    all_open = response_times(
        build(cases=[case(1, opened_at="03-02 09:00"), case(2, opened_at="03-03 09:00")])
    ).iloc[0]
    assert (all_open["cases"], all_open["first_response_n"], all_open["resolution_n"]) == (2, 0, 0)
    assert pd.isna(all_open["resolution_mean_h"])


def test_a_reply_before_the_opening_is_rejected_with_the_case_id(
    build: Callable[..., Source],
) -> None:
    bad = case(7, opened_at="03-02 09:00", first_response_at="03-02 08:00")
    with pytest.raises(ScaleError, match=r"1 case\(s\) were answered or resolved .*case_id 7"):
        response_times(build(cases=[case(1, opened_at="03-02 09:00"), bad]))


def test_unknown_slices_are_rejected(shop: Source) -> None:
    with pytest.raises(InsightError, match="cannot slice cases by \\['colour'\\]"):
        response_times(shop, by="colour")
    with pytest.raises(InsightError, match="at most one period"):
        response_times(shop, by=["day", "month"])


def test_a_source_without_cases_says_so(build: Callable[..., Source]) -> None:
    src = build(orders=ORDERS)
    with pytest.raises(SourceError, match="has no table 'cases'"):
        response_times(src)


# --- SLA attainment --------------------------------------------------------------------------


def test_sla_attainment_overall(shop: Source) -> None:
    assert data_as_of(shop) == at("04-02 09:00")
    row = sla_attainment(shop).iloc[0]
    # first response: due on cases 1-4. 1 and 3 in time, 2 late (14:00 > 12:00), 4 never
    # answered and overdue by the data's last instant; 5 and 6 have no due instant
    assert (row["first_response_due"], row["first_response_met"]) == (4, 2)
    assert row["first_response_rate"] == 0.5
    assert (row["first_response_rate_low"], row["first_response_rate_high"]) == pytest.approx(
        wilson_interval(2, 4)
    )
    assert (row["first_response_pending"], row["first_response_no_due"]) == (0, 2)
    # resolution: due on 1, 2, 3, 5. 2 was late (03-05 10:00 > 03-04 10:00); 3 closed in time
    assert (row["resolution_due"], row["resolution_met"], row["resolution_rate"]) == (4, 3, 0.75)
    assert (row["resolution_pending"], row["resolution_no_due"]) == (0, 2)


def test_a_waiting_case_is_pending_until_its_due_instant(shop: Source) -> None:
    # judged at 03-10 10:00, case 4's first response (due 11:00) may still come in time
    row = sla_attainment(shop, until=date(2026, 3, 15), as_of=at("03-10 10:00")).iloc[0]
    assert (row["cases"], row["first_response_due"], row["first_response_met"]) == (4, 3, 2)
    assert row["first_response_pending"] == 1
    later = sla_attainment(shop, until=date(2026, 3, 15), as_of=at("03-10 11:01")).iloc[0]
    assert (later["first_response_due"], later["first_response_pending"]) == (4, 0)


def test_sla_attainment_by_team(shop: Source) -> None:
    rows = by_key(sla_attainment(shop, by="team"), "team")
    assert (rows["A"]["first_response_due"], rows["A"]["first_response_met"]) == (2, 1)
    assert (rows["B"]["first_response_due"], rows["B"]["first_response_met"]) == (2, 1)
    # the case without a team had no first-response due instant: no rate, not zero
    assert rows[None]["first_response_due"] == 0
    assert pd.isna(rows[None]["first_response_rate"])
    assert (rows[None]["resolution_due"], rows[None]["resolution_met"]) == (1, 1)


def test_missing_due_dates_give_no_rate(build: Callable[..., Source]) -> None:
    src = build(cases=[case(1, opened_at="03-02 09:00", first_response_at="03-02 10:00")])
    row = sla_attainment(src).iloc[0]
    assert (row["first_response_due"], row["first_response_no_due"]) == (0, 1)
    assert pd.isna(row["first_response_rate"])
    assert pd.isna(row["first_response_rate_low"])
    empty = sla_attainment(build(cases=[])).iloc[0]
    assert (empty["cases"], empty["resolution_due"]) == (0, 0)
    assert pd.isna(empty["resolution_rate"])


def test_as_of_must_be_aware(shop: Source) -> None:
    with pytest.raises(InsightError, match="timezone-aware"):
        sla_attainment(shop, as_of=datetime(2026, 3, 10))  # noqa: DTZ001 - the point


# --- reopen rate -----------------------------------------------------------------------------


def test_reopen_rate(shop: Source) -> None:
    row = reopen_rate(shop).iloc[0]
    # resolved at least once: 1, 2, 3 (closed), 5; reopened: 2 (resolved -> triaged).
    # 5's resolved -> closed is not a reopening
    assert (row["cases"], row["resolved"], row["reopened"], row["reopenings"]) == (6, 4, 1, 1)
    assert row["reopen_rate"] == 0.25
    assert (row["reopen_rate_low"], row["reopen_rate_high"]) == pytest.approx(wilson_interval(1, 4))
    teams = by_key(reopen_rate(shop, by="team"), "team")
    assert (teams["A"]["resolved"], teams["A"]["reopened"], teams["A"]["reopen_rate"]) == (
        2,
        1,
        0.5,
    )
    assert (teams["B"]["resolved"], teams["B"]["reopen_rate"]) == (1, 0.0)


def test_reopen_rate_needs_the_event_log(build: Callable[..., Source]) -> None:
    with pytest.raises(SourceError, match="case_events"):
        reopen_rate(build(cases=CASES))


# --- return rate -----------------------------------------------------------------------------


def test_return_rate_overall(shop: Source) -> None:
    row = return_rate(shop).iloc[0]
    # delivered: o1-o4 (o5 is not delivered). Returned: o1 (cases 1 and 6), o2, o3 (case 4);
    # case 5 on o1 is a complaint, not a return
    assert (row["orders"], row["returned"], row["cases"]) == (4, 3, 4)
    assert row["return_rate"] == 0.75
    assert (row["return_rate_low"], row["return_rate_high"]) == pytest.approx(wilson_interval(3, 4))


def test_return_rate_by_reason_is_over_all_delivered_orders(shop: Source) -> None:
    rows = by_key(return_rate(shop, by="reason"), "reason")
    assert set(rows) == {"damaged", "not_as_described", "quality"}
    assert (rows["damaged"]["orders"], rows["damaged"]["returned"]) == (4, 2)  # o1, o3
    assert rows["damaged"]["return_rate"] == 0.5
    assert (rows["quality"]["returned"], rows["quality"]["return_rate"]) == (1, 0.25)


def test_return_rate_by_first_item_category(shop: Source) -> None:
    rows = by_key(return_rate(shop, by="category"), "category")
    # electronics: o1 (first line a phone) and o3, both returned; books: o2 returned, o4 not
    assert (rows["electronics"]["orders"], rows["electronics"]["returned"]) == (2, 2)
    assert rows["electronics"]["cases"] == 3
    assert (rows["books"]["orders"], rows["books"]["returned"]) == (2, 1)
    assert rows["books"]["return_rate"] == 0.5
    both = return_rate(shop, by=["category", "reason"])
    got = {(r["category"], r["reason"]): (r["orders"], r["returned"]) for _, r in both.iterrows()}
    assert got == {
        ("books", "not_as_described"): (2, 1),
        ("electronics", "damaged"): (2, 2),
        ("electronics", "quality"): (2, 1),
    }


def test_return_rate_without_returns_and_bad_slices(build: Callable[..., Source]) -> None:
    src = build(cases=[case(1, opened_at="03-02 09:00")], orders=ORDERS)
    row = return_rate(src).iloc[0]
    assert (row["orders"], row["returned"], row["cases"], row["return_rate"]) == (4, 0, 0, 0.0)
    assert return_rate(src, by="reason").empty
    with pytest.raises(InsightError, match="cannot be sliced by \\['team'\\]"):
        return_rate(src, by="team")


# --- backlog ---------------------------------------------------------------------------------


def test_daily_backlog_follows_the_status_log(shop: Source) -> None:
    daily = backlog(shop).set_index("period")
    assert daily.index[0] == date(2026, 3, 2)
    assert daily.index[-1] == date(2026, 4, 2)
    assert len(daily) == 32
    # 03-02: cases 1, 2 open; 03-03: both resolved; 03-04: 2 reopened; 03-05: resolved again;
    # 03-09: 3 opened and closed the same day; 03-10: 4 opened; 03-20: 6 opened;
    # 04-01: 5 opened; 04-02: 5 resolved (then closed: no change)
    expected = {
        "2026-03-02": 2, "2026-03-03": 0, "2026-03-04": 1, "2026-03-05": 0, "2026-03-09": 0,
        "2026-03-10": 1, "2026-03-19": 1, "2026-03-20": 2, "2026-04-01": 3, "2026-04-02": 2,
    }  # fmt: skip
    for day, open_cases in expected.items():
        assert daily.loc[date.fromisoformat(day), "open"] == open_cases, day
    assert daily.loc[date(2026, 3, 4), "reopened"] == 1
    assert daily.loc[date(2026, 3, 3), "done"] == 2


def test_weekly_and_monthly_backlog(shop: Source) -> None:
    weekly = backlog(shop, freq="week")
    assert list(weekly["period"]) == [date(2026, 3, d) for d in (2, 9, 16, 23, 30)]
    assert list(weekly["open"]) == [0, 1, 2, 2, 2]
    assert list(weekly["opened"]) == [2, 2, 1, 0, 1]
    assert list(weekly["done"]) == [3, 1, 0, 0, 1]
    assert list(weekly["reopened"]) == [1, 0, 0, 0, 0]
    monthly = backlog(shop, freq="month")
    assert list(monthly["period"]) == [date(2026, 3, 1), date(2026, 4, 1)]
    assert list(monthly["open"]) == [2, 2]
    assert list(monthly["opened"]) == [5, 1]


def test_backlog_by_team_and_window(shop: Source) -> None:
    teams = backlog(shop, freq="month", by="team")
    got = {(r["period"], r["team"]): r["open"] for _, r in teams.iterrows()}
    # end of March: A has case 6, B has case 4; the team-less case 5 opens in April
    assert got[(date(2026, 3, 1), "A")] == 1
    assert got[(date(2026, 3, 1), "B")] == 1
    assert got[(date(2026, 3, 1), None)] == 0
    assert got[(date(2026, 4, 1), None)] == 0
    # a window starts with the backlog built up before it
    window = backlog(shop, since=date(2026, 3, 15), until=date(2026, 3, 16))
    assert list(window["open"]) == [1, 1]
    assert list(window["opened"]) == [0, 0]


def test_backlog_without_the_event_log_uses_the_dates(build: Callable[..., Source]) -> None:
    daily = backlog(build(cases=CASES)).set_index("period")
    # case 2 only has its last resolution: open from 03-02 to 03-05
    assert daily.loc[date(2026, 3, 3), "open"] == 1
    assert daily.loc[date(2026, 3, 5), "open"] == 0
    assert daily.loc[date(2026, 4, 2), "open"] == 2


def test_backlog_of_no_cases_and_bad_arguments(build: Callable[..., Source]) -> None:
    empty = backlog(build(cases=[]))
    assert empty.empty
    assert list(empty.columns) == ["period", "open", "opened", "done", "reopened"]
    src = build(cases=CASES)
    with pytest.raises(InsightError, match="freq"):
        backlog(src, freq="year")
    with pytest.raises(InsightError, match="case's own columns"):
        backlog(src, by="category")


# --- the same figures on the desk's SQLite database ------------------------------------------


def _write_sqlite(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    # as the desk stores them: a surrogate id on case_events, aware datetimes as naive UTC text
    con = sqlite3.connect(path)
    for name, rows in tables.items():
        table = TABLES[name]
        types = {
            ColumnType.TIMESTAMP: "datetime",
            ColumnType.INTEGER: "integer",
            ColumnType.DECIMAL: "decimal(12, 2)",
            ColumnType.FLOAT: "real",
        }
        cols = [f"{c.name} {types.get(c.type, 'varchar(64)')}" for c in table.columns]
        if name == "case_events":
            cols.insert(0, "id integer primary key")
        con.execute(f"create table {name} ({', '.join(cols)})")
        names = [c.name for c in table.columns]
        values = [
            tuple(
                row.get(n).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                if isinstance(row.get(n), datetime)
                else row.get(n)
                for n in names
            )
            for row in rows
        ]
        marks = ", ".join("?" for _ in names)
        con.executemany(f"insert into {name} ({', '.join(names)}) values ({marks})", values)
    con.commit()
    con.close()


def _write_postgres(url: str, tables: dict[str, list[dict[str, Any]]]) -> None:
    import psycopg

    types = {
        ColumnType.TIMESTAMP: "timestamp with time zone",
        ColumnType.INTEGER: "bigint",
        ColumnType.DECIMAL: "numeric(12, 2)",
        ColumnType.FLOAT: "double precision",
    }
    with psycopg.connect(url, autocommit=True) as con:
        for name, rows in tables.items():
            table = TABLES[name]
            cols = [f"{c.name} {types.get(c.type, 'text')}" for c in table.columns]
            con.execute(f"drop table if exists {name}")
            con.execute(f"create table {name} ({', '.join(cols)})")
            names = [c.name for c in table.columns]
            with con.cursor().copy(f"copy {name} ({', '.join(names)}) from stdin") as copy:
                for row in rows:
                    copy.write_row([row.get(n) for n in names])


def _same(a: pd.DataFrame, b: pd.DataFrame, engine: str) -> None:
    assert list(a.columns) == list(b.columns), engine
    assert len(a) == len(b), engine
    for x, y in zip(a.to_dict("records"), b.to_dict("records"), strict=True):
        for k in x:
            if isinstance(x[k], float) and not math.isnan(x[k]):
                assert y[k] == pytest.approx(x[k], rel=1e-9), (engine, k)
            else:
                assert x[k] == y[k] or (pd.isna(x[k]) and pd.isna(y[k])), (engine, k)


def _all_kpis(src: Source) -> list[pd.DataFrame]:
    return [
        response_times(src, by="team"),
        response_times(src, by=["month", "channel"]),
        sla_attainment(src),
        reopen_rate(src, by="month"),
        return_rate(src, by="category"),
        return_rate(src, by="reason"),
        backlog(src, freq="week"),
    ]


DESK_TABLES = {
    "cases": CASES,
    "case_events": EVENTS,
    "orders": ORDERS,
    "order_items": ITEMS,
    "products": PRODUCTS,
}


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_the_desk_sqlite_database_gives_the_same_figures(
    shop: Source, tmp_path: Path, engine: str
) -> None:
    path = tmp_path / "desk.sqlite3"
    _write_sqlite(path, DESK_TABLES)
    with open_source(f"sqlite:///{path}", engine=engine) as desk:
        for expected, got in zip(_all_kpis(shop), _all_kpis(desk), strict=True):
            _same(expected, got, engine)


@pytest.mark.parametrize("engine", ["postgres", "duckdb"])
def test_the_desk_postgres_database_gives_the_same_figures(
    shop: Source, pg_url: str, engine: str
) -> None:
    _write_postgres(pg_url, DESK_TABLES)
    with open_source(pg_url, engine=engine) as desk:
        for expected, got in zip(_all_kpis(shop), _all_kpis(desk), strict=True):
            _same(expected, got, engine)


@pytest.mark.slow
def test_spark_gives_the_same_figures(shop: Source, tmp_path: Path, spark_session: Any) -> None:
    path = tmp_path / "desk.sqlite3"
    _write_sqlite(path, DESK_TABLES)
    with open_source(f"sqlite:///{path}", engine="spark", spark_session=spark_session) as desk:
        for expected, got in zip(_all_kpis(shop), _all_kpis(desk), strict=True):
            _same(expected, got, "spark")
