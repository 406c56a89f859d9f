"""The HTML page: offline, both languages, every chart a valid plotly figure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from manyi.insight.report.build import build_report
from manyi.insight.report.html import render_html
from manyi.insight.report.registry import SECTIONS
from manyi.insight.sources import Source


@pytest.fixture(scope="module")
def doc(olist: Source, shared_data: Path) -> dict[str, Any]:
    churn = shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz"
    return build_report(olist, churn_path=churn)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_is_a_valid_plotly_figure(doc: dict[str, Any], lang: str) -> None:
    charts = 0
    for section in SECTIONS:
        entry = doc["sections"][section.key]
        if entry["status"] != "ok":
            continue
        blocks = section.render(entry["data"], lang)
        assert blocks, section.key
        for block in blocks:
            assert block.finding
            if block.figure is not None:
                go.Figure(block.figure)  # raises on any invalid property
                charts += 1
    assert charts >= 8


def test_page_works_offline_and_inlines_plotly(doc: dict[str, Any]) -> None:
    from plotly.offline import get_plotlyjs

    page = render_html(doc, lang="en")
    assert get_plotlyjs()[:200] in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    # plotly.js names its CDN only as the default map-shape URL (no geo charts here)
    assert "cdn.plot.ly" not in page.replace(get_plotlyjs(), "")
    assert "Late orders average 2.3★ against 4.3★ on time; 6.6 % of orders were late." in page


def test_chinese_page(doc: dict[str, Any]) -> None:
    page = render_html(doc, lang="zh", include_plotlyjs=False)
    assert '<html lang="zh-CN">' in page
    assert "延迟订单平均 2.3★，准时订单 4.3★；6.6% 的订单延迟送达。" in page
    assert "满意度与销售报告" in page
    assert "本部分暂无数据" in page  # the survey section of a shop without surveys


def test_unknown_language_is_rejected(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="lang must be one of zh, en"):
        render_html(doc, lang="pt")
