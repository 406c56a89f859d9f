"""The report's JSON document on the Olist sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from manyi.insight.report.build import REPORT_VERSION, build_report
from manyi.insight.report.registry import SECTIONS
from manyi.insight.report.section import Block, ReportContext, Section
from manyi.insight.sources import Source


@pytest.fixture(scope="module")
def doc(olist: Source, shared_data: Path) -> dict[str, Any]:
    churn = shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz"
    return build_report(olist, churn_path=churn)


def test_document_has_every_section_and_is_plain_json(doc: dict[str, Any]) -> None:
    assert doc["report_version"] == REPORT_VERSION
    assert list(doc["sections"]) == [s.key for s in SECTIONS]
    status = {k: v["status"] for k, v in doc["sections"].items()}
    assert status == {k: "no_data" if k == "surveys" else "ok" for k in status}
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc  # no NaN, no numpy types


def test_figures_equal_an_independent_pandas_computation(
    doc: dict[str, Any], olist_dir: Path
) -> None:
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz").dropna(
        subset=["order_delivered_customer_date", "order_estimated_delivery_date"]
    )
    late = (
        pd.to_datetime(orders["order_delivered_customer_date"]).dt.normalize()
        > pd.to_datetime(orders["order_estimated_delivery_date"]).dt.normalize()
    )
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    delivery = doc["sections"]["delivery"]["data"]
    summary = doc["sections"]["ratings"]["data"]["summary"]
    assert delivery["late_share"]["value"] == pytest.approx(late.mean(), rel=1e-12)
    assert summary["good_rate"] == pytest.approx(reviews["review_score"].isin([4, 5]).mean())
    assert summary["share_1"] == pytest.approx((reviews["review_score"] == 1).mean())
    assert doc["sections"]["overview"]["data"]["orders"] == 15_000


def test_since_until_narrow_every_section(olist: Source) -> None:
    from datetime import date

    doc = build_report(
        olist, since=date(2018, 1, 1), until=date(2018, 3, 31), sections=SECTIONS[:3]
    )
    overview = doc["sections"]["overview"]["data"]
    assert overview["first_purchase"] >= "2018-01-01"
    assert overview["last_purchase"] <= "2018-03-31"
    months = [m["period"][:7] for m in doc["sections"]["ratings"]["data"]["by_month"]]
    assert months == ["2018-01", "2018-02", "2018-03"]
    assert doc["since"] == "2018-01-01"


def test_sections_of_a_source_without_reviews_report_no_data(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    src = make_source(orders=[helpers.order("o1", "c1", "2024-01-01")])
    doc = build_report(src)
    assert doc["sections"]["overview"]["status"] == "ok"
    assert doc["sections"]["ratings"] == {
        "status": "no_data",
        "title": SECTIONS[1].title | {},
        "data": None,
    }
    assert doc["sections"]["churn"]["status"] == "no_data"


def test_an_extra_section_plugs_in(olist: Source) -> None:
    # given a section written elsewhere (the extension point)
    def compute(ctx: ReportContext) -> dict[str, Any]:
        return {"answer": 42}

    def render(data: dict[str, Any], lang: str) -> list[Block]:
        return [Block(f"{data['answer']}")]

    extra = Section("clv", {"en": "CLV", "zh": "客户终身价值"}, compute, render)
    seen: list[str] = []
    doc = build_report(
        olist, sections=(*SECTIONS[:1], extra), on_section=lambda s: seen.append(s.key)
    )
    assert doc["sections"]["clv"]["data"] == {"answer": 42}
    assert seen == ["overview", "clv"]
