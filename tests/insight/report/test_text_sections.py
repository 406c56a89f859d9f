"""The review-text section: the cap in the JSON, charts (a table included), no text."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import plotly.graph_objects as go
import pytest

from manyi.insight.report.section import NoData, ReportContext
from manyi.insight.report.text_sections import REVIEW_TEXT, compute_review_text, render_review_text
from manyi.insight.sources import Source


@pytest.fixture(scope="module")
def data(bundled: Source) -> dict[str, Any]:
    out = compute_review_text(ReportContext(src=bundled, options={"text_max_reviews": 400}))
    assert out is not None
    return out


def test_the_cap_is_stated(data: dict[str, Any]) -> None:
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["max_reviews"] == 400
    assert data["analysed"] == 400
    assert data["reviews_with_text"] == 1252
    assert data["sampled"] is True
    sent = data["sentiment"]
    assert sent["negative"] + sent["neutral"] + sent["positive"] == 400
    assert [a["aspect"] for a in data["aspects"]] == [
        "logistics",
        "quality",
        "as_described",
        "service",
        "price",
        "packaging",
    ]
    for a in data["aspects"]:
        assert a["negative"] + a["positive"] <= a["reviews"]
        assert a["negative_share_of_reviews"] == pytest.approx(a["negative"] / 400)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_render(data: dict[str, Any], lang: str) -> None:
    blocks = render_review_text(data, lang)
    assert len(blocks) == 3
    for block in blocks:
        go.Figure(block.figure)
    assert blocks[2].figure["data"][0]["type"] == "table"
    sample = "a fixed sample of 400 of 1,252" if lang == "en" else "固定抽取的 400 条"
    assert sample in blocks[0].finding


def test_reviews_without_text_say_why(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    o, r = helpers.order, helpers.review
    src = make_source(
        orders=[o("o1", "c1", "2024-01-01")], reviews=[r("r1", "o1", 5, "2024-01-02")]
    )
    with pytest.raises(NoData) as why:
        REVIEW_TEXT.compute(ReportContext(src=src))
    assert why.value.reason["en"] == "No review in the period has a text to analyse."
