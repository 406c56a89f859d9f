"""The report's service section: figures, zh/en findings, and a polite "no cases yet".

Five hand-made cases in the week of Monday 2 March 2026 (UTC):

====  =======  =============  ==================  ===================  ======================
case  channel  kind           first response      resolution           notes
====  =======  =============  ==================  ===================  ======================
1     email    return_refund  1 h (due 2 h)       24 h (in time)       order o1, damaged
2     chat     refund_only    2 h (due 1 h: late) 6 h (in time)        order o2, quality
3     chat     question       0.5 h (in time)     2 h (in time)        resolved, reopened, …
4     web      complaint      2 h (due 1 h: late) open, due after data
5     web      question       0.25 h (in time)    1 h (in time)
====  =======  =============  ==================  ===================  ======================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.data.schema import TABLES, ColumnType
from manyi.insight.intervals import wilson_interval
from manyi.insight.report.build import build_report
from manyi.insight.report.html import render_html
from manyi.insight.report.section import ReportContext
from manyi.insight.report.service_sections import SERVICE
from manyi.insight.sources import Source, open_source


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


def case(
    case_id: int, channel: str, kind: str, times: tuple[str | None, ...], **extra: Any
) -> dict:
    opened, first, first_due, resolved, resolution_due = (at(t) for t in times)
    return {
        "case_id": case_id,
        "channel": channel,
        "kind": kind,
        "status": "resolved" if resolved else "new",
        "priority": "normal",
        "currency": "CNY",
        "opened_at": opened,
        "first_response_at": first,
        "first_response_due_at": first_due,
        "resolved_at": resolved,
        "resolution_due_at": resolution_due,
        **extra,
    }


CASES = [
    case(1, "email", "return_refund",
         ("03-02 09:00", "03-02 10:00", "03-02 11:00", "03-03 09:00", "03-04 09:00"),
         order_id="o1", reason="damaged"),
    case(2, "chat", "refund_only",
         ("03-02 10:00", "03-02 12:00", "03-02 11:00", "03-02 16:00", "03-04 10:00"),
         order_id="o2", reason="quality"),
    case(3, "chat", "question",
         ("03-03 09:00", "03-03 09:30", "03-03 10:00", "03-03 11:00", "03-04 09:00")),
    case(4, "web", "complaint",
         ("03-04 09:00", "03-04 11:00", "03-04 10:00", None, "03-06 09:00")),
    case(5, "web", "question",
         ("03-05 09:00", "03-05 09:15", "03-05 10:00", "03-05 10:00", "03-06 09:00")),
]  # fmt: skip


def ev(case_id: int, seq: int, when: str, frm: str | None, to: str) -> dict[str, Any]:
    kind = "opened" if frm is None else "transition"
    return {
        "case_id": case_id,
        "seq": seq,
        "at": at(when),
        "kind": kind,
        "from_status": frm,
        "to_status": to,
        "actor": "agent1",
    }


EVENTS = [
    ev(1, 1, "03-02 09:00", None, "new"),
    ev(1, 2, "03-03 09:00", "new", "resolved"),
    ev(2, 1, "03-02 10:00", None, "new"),
    ev(2, 2, "03-02 16:00", "new", "resolved"),
    ev(3, 1, "03-03 09:00", None, "new"),
    ev(3, 2, "03-03 10:00", "new", "resolved"),
    ev(3, 3, "03-03 10:30", "resolved", "triaged"),  # "that did not help"
    ev(3, 4, "03-03 11:00", "triaged", "resolved"),
    ev(4, 1, "03-04 09:00", None, "new"),
    ev(5, 1, "03-05 09:00", None, "new"),
    ev(5, 2, "03-05 10:00", "new", "resolved"),
]

ORDERS = [
    {
        "order_id": f"o{i}",
        "customer_id": f"c{i}",
        "status": "delivered",
        "purchased_at": at("02-20 08:00"),
        "delivered_at": at("02-25 08:00"),
        "currency": "CNY",
        "item_total": 10.0,
        "freight_total": 0.0,
    }
    for i in range(1, 6)
]
ITEMS = [
    {"order_id": f"o{i}", "line_no": 1, "product_id": "phone" if i <= 2 else "book",
     "seller_id": "s1", "price": 10.0, "freight": 0.0}
    for i in range(1, 6)
]  # fmt: skip
PRODUCTS = [
    {"product_id": "phone", "category": "electronics"},
    {"product_id": "book", "category": "books"},
]


def write(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    columns = TABLES[name].columns
    frame = pd.DataFrame(rows, columns=[c.name for c in columns])
    for c in columns:
        if c.type == ColumnType.TIMESTAMP:
            frame[c.name] = pd.to_datetime(frame[c.name], utc=True)
        elif c.type == ColumnType.INTEGER:
            frame[c.name] = frame[c.name].astype("Int64")
        elif c.type in (ColumnType.DECIMAL, ColumnType.FLOAT):
            frame[c.name] = pd.to_numeric(frame[c.name]).astype("float64")
        else:
            frame[c.name] = frame[c.name].astype("string")
    frame.to_parquet(folder / f"{name}.parquet")


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Callable[..., Source]]:
    opened: list[Source] = []

    def make(**tables: list[dict[str, Any]]) -> Source:
        folder = tmp_path / f"src{len(opened)}"
        folder.mkdir()
        for name, rows in tables.items():
            write(folder, name, rows)
        src = open_source(f"parquet:{folder}")
        opened.append(src)
        return src

    yield make
    for src in opened:
        src.close()


@pytest.fixture
def data(build: Callable[..., Source]) -> dict[str, Any]:
    src = build(
        cases=CASES, case_events=EVENTS, orders=ORDERS, order_items=ITEMS, products=PRODUCTS
    )
    out = SERVICE.compute(ReportContext(src=src))
    assert out is not None
    return out


def test_the_section_holds_the_service_figures(data: dict[str, Any]) -> None:
    assert json.loads(json.dumps(data, allow_nan=False)) == data  # plain JSON
    assert data["cases"] == 5
    assert data["as_of"] == "2026-03-05T10:00:00+00:00"  # the last instant in the data
    t = data["times"]
    # first responses 1, 2, 0.5, 2, 0.25 h -> 0.25 0.5 1 2 2: median 1, p90 (rank 3.6) 2
    assert (t["first_response_n"], t["first_response_median_h"], t["first_response_p90_h"]) == (
        5,
        1.0,
        2.0,
    )
    # resolutions 24, 6, 2, 1 h -> 1 2 6 24: median 4, p90 (rank 2.7) 6 + 0.7 × 18 = 18.6
    assert t["resolution_median_h"] == pytest.approx(4.0)
    assert t["resolution_p90_h"] == pytest.approx(18.6)
    s = data["sla"]
    # first response on time for 1, 3, 5; late for 2 and 4
    assert (s["first_response_due"], s["first_response_met"], s["first_response_rate"]) == (
        5,
        3,
        0.6,
    )
    assert [s["first_response_rate_low"], s["first_response_rate_high"]] == pytest.approx(
        list(wilson_interval(3, 5))
    )
    # resolution: 1, 2, 3, 5 in time; 4 is open and not due before the data ends
    assert (s["resolution_due"], s["resolution_met"], s["resolution_pending"]) == (4, 4, 1)
    assert data["reopen"]["reopen_rate"] == 0.25  # case 3 of the 4 resolved
    assert (data["returns"]["orders"], data["returns"]["returned"]) == (5, 2)
    assert {r["reason"]: r["returned"] for r in data["returns_by_reason"]} == {
        "damaged": 1,
        "quality": 1,
    }
    assert {r["category"]: r["return_rate"] for r in data["returns_by_category"]} == {
        "books": 0.0,
        "electronics": 1.0,
    }
    # one week: 5 opened, 5 entries into resolved (3 twice), 1 reopening, case 4 still open
    assert data["backlog_by_week"] == [
        {"period": "2026-03-02", "open": 1, "opened": 5, "done": 5, "reopened": 1}
    ]
    assert [m["period"] for m in data["times_by_month"]] == ["2026-03-01"]
    assert {c["channel"]: c["cases"] for c in data["times_by_channel"]} == {
        "chat": 2,
        "email": 1,
        "web": 2,
    }


def test_findings_in_english_and_chinese(data: dict[str, Any]) -> None:
    en = SERVICE.render(data, "en")
    zh = SERVICE.render(data, "zh")
    assert len(en) == len(zh) == 4  # times, SLA, backlog (+ reopen), returns
    assert all(b.figure is not None for b in en)
    times, sla, backlog, returns = (b.finding for b in en)
    assert times.startswith("5 cases: first response in 1.0 h (median; 90 % within 2.0 h)")
    assert "resolution in 4.0 h (90 % within 18.6 h)" in times
    assert sla.startswith("First responses 60.0 % on time, 3 of 5 (95 % CI")
    assert "resolutions 100.0 % on time, 4 of 4" in sla
    assert "1 clock(s) still running" in sla
    assert backlog.startswith("1 case was open at the end of the week of 2026-03-02.")
    assert "25.0 % of resolved cases were reopened (1 of 4)" in backlog
    assert returns.startswith("40.00 % of delivered orders had a return or refund case (2 of 5")
    assert "Most common reason: damaged in transit (20.00 % of orders)" in returns
    assert zh[0].finding.startswith("5 个工单：首次响应中位数 1.0 小时（90% 在 2.0 小时 内）")
    assert "首次响应按时 60.0%，5 个中 3 个" in zh[1].finding
    assert "最常见原因：运输损坏（占订单 20.00%）" in zh[3].finding


def test_without_due_times_orders_or_a_log_the_section_says_less(
    build: Callable[..., Source],
) -> None:
    bare = [{**c, "first_response_due_at": None, "resolution_due_at": None} for c in CASES]
    data = SERVICE.compute(ReportContext(src=build(cases=bare)))
    assert data is not None
    assert "reopen" not in data
    assert "returns" not in data
    blocks = SERVICE.render(data, "en")
    assert len(blocks) == 3
    assert blocks[1].finding.startswith("No case has an SLA due time yet")
    assert blocks[1].figure is None
    assert "reopened" not in blocks[2].finding


def test_a_source_without_cases_gets_a_polite_no_data(build: Callable[..., Source]) -> None:
    src = build(orders=ORDERS)
    doc = build_report(src, sections=[SERVICE])
    entry = doc["sections"]["service"]
    assert (entry["status"], entry["data"]) == ("no_data", None)
    assert entry["reason"]["en"].startswith("No after-sales cases yet")
    assert entry["reason"]["zh"].startswith("暂无售后工单")
    page = render_html(doc, lang="en", sections=[SERVICE], include_plotlyjs=False)
    assert "No after-sales cases yet" in page


def test_the_olist_sample_has_no_cases_and_does_not_crash() -> None:
    with open_source(f"olist:{sample_path('olist')}") as src:
        doc = build_report(src, sections=[SERVICE])
    assert doc["sections"]["service"]["status"] == "no_data"
    assert doc["sections"]["service"]["reason"]["en"].startswith("No after-sales cases yet")


def test_an_empty_cases_table_or_window(build: Callable[..., Source]) -> None:
    empty = build_report(build(cases=[]), sections=[SERVICE])["sections"]["service"]
    assert empty["status"] == "no_data"
    assert empty["reason"] == {"en": "No after-sales cases yet.", "zh": "暂无售后工单。"}
    src = build(cases=CASES, case_events=EVENTS)
    later = build_report(src, since=date(2026, 4, 1), sections=[SERVICE])
    assert later["sections"]["service"]["reason"]["en"] == (
        "No after-sales cases in this period yet."
    )
