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
    assert status == {k: "no_data" if k in {"surveys", "service"} else "ok" for k in status}
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
        "reason": None,
    }
    assert doc["sections"]["churn"]["status"] == "no_data"
    # the sections added later say why in both languages, and the page prints it
    for key in ("review_text", "drivers", "satisfaction_value"):
        assert doc["sections"][key]["status"] == "no_data", key
        assert doc["sections"][key]["reason"]["en"], key
        assert doc["sections"][key]["reason"]["zh"], key
    from manyi.insight.report.html import render_html

    page = render_html(doc, lang="en", include_plotlyjs=False)
    assert "The source has no reviews." in page


@pytest.mark.slow
def test_new_sections_on_the_15k_sample(doc: dict[str, Any], olist_dir: Path) -> None:
    s = doc["sections"]
    text = s["review_text"]["data"]
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    with_text = reviews["review_comment_message"].fillna("").str.strip().ne("").sum()
    assert text["reviews_with_text"] == with_text
    assert text["analysed"] == min(with_text, text["max_reviews"]) == 5000
    assert text["sampled"] is True
    rating = s["drivers"]["data"]["rating"]
    assert rating["sampled"] is True
    assert rating["max_orders"] == 10_000
    assert sum(d["lmg"] for d in rating["drivers"]) == pytest.approx(rating["r2"], rel=1e-9)
    assert s["drivers"]["data"]["churn"]["rows"] > 5000
    value = s["satisfaction_value"]["data"]
    assert value["spend_model"] == "gamma_gamma"
    assert sum(t["repeaters"] for t in value["tiers"]) > 50


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


def test_new_sections_agree_on_sqlite_itself(
    bundled: Source, tmp_path: Path, helpers: SimpleNamespace
) -> None:
    # given the bundled sample copied into a desk-like SQLite file
    from manyi.insight.report.registry import SECTIONS as ALL
    from manyi.insight.sources import open_source

    frames = {name: bundled.execute(bundled.table(name)) for name in bundled.raw}
    helpers.write_sqlite(tmp_path / "desk.sqlite3", frames)
    keys = {"review_text", "drivers", "satisfaction_value"}
    chosen = [s for s in ALL if s.key in keys]
    options = {"text_max_reviews": 100_000, "drivers_max_orders": 100_000}
    # when the new sections run on DuckDB and on SQLite itself, without sampling
    on_duck = build_report(bundled, sections=chosen, options=options)["sections"]
    with open_source(
        f"sqlite:///{tmp_path / 'desk.sqlite3'}", engine="sqlite", timezone="America/Sao_Paulo"
    ) as lite:
        on_lite = build_report(lite, sections=chosen, options=options)["sections"]
    # then the figures agree
    for key in keys:
        assert on_lite[key]["status"] == "ok", on_lite[key]["reason"]
    a, b = on_duck["review_text"]["data"], on_lite["review_text"]["data"]
    assert a["reviews_with_text"] == b["reviews_with_text"]
    assert a["sentiment"] == b["sentiment"]
    ra, rb = on_duck["drivers"]["data"]["rating"], on_lite["drivers"]["data"]["rating"]
    assert (ra["orders"], ra["reviews"]) == (rb["orders"], rb["reviews"])
    assert ra["r2"] == pytest.approx(rb["r2"], rel=1e-6)
    va, vb = on_duck["satisfaction_value"]["data"], on_lite["satisfaction_value"]["data"]
    assert [t["customers"] for t in va["tiers"]] == [t["customers"] for t in vb["tiers"]]
    assert va["shift"]["expected_change"] == pytest.approx(vb["shift"]["expected_change"], rel=1e-6)
