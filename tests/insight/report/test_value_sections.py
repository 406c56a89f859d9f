"""The 'what a point of satisfaction is worth' section: JSON, findings, assumptions, edges."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import plotly.graph_objects as go
import pytest

from manyi.insight.report.section import NoData, ReportContext
from manyi.insight.report.value_sections import SATISFACTION_VALUE, compute_value, render_value
from manyi.insight.sources import Source


@pytest.fixture(scope="module")
def data(bundled: Source) -> dict[str, Any]:
    out = compute_value(ReportContext(src=bundled, options={"value_shift_share": 0.25}))
    assert out is not None
    return out


def test_json_holds_tiers_shift_and_assumptions(data: dict[str, Any]) -> None:
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert [t["tier"] for t in data["tiers"]] == ["1-2", "3", "4-5"]
    assert data["shift"]["share"] == 0.25
    steps = data["shift"]["steps"]
    assert [(s["from_tier"], s["to_tier"]) for s in steps] == [("1-2", "3"), ("3", "4-5")]
    assert sum(s["expected_change"] for s in steps) == pytest.approx(
        data["shift"]["expected_change"]
    )
    tiers = {t["tier"]: t for t in data["tiers"]}
    assert steps[0]["moved_customers"] == pytest.approx(0.25 * tiers["1-2"]["customers"])
    assert data["model"] in ("bgnbd", "bgnbd_penalised", "pnbd")
    assert data["horizon_months"] == 12
    assert data["time_unit"] == "W"
    assert sum(t["customers"] for t in data["tiers"]) <= data["customers"]
    assert "not the effect of the rating" in " ".join(data["assumptions"]["en"])
    assert "相关关系" in " ".join(data["assumptions"]["zh"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_render_states_the_value_the_shift_and_the_assumptions(
    data: dict[str, Any], lang: str
) -> None:
    blocks = render_value(data, lang)
    assert len(blocks) == 3
    for block in blocks[:2]:
        go.Figure(block.figure)
    assert blocks[2].figure is None
    assert blocks[2].finding.startswith("Assumptions: (1)" if lang == "en" else "假设：（1）")
    word = "25 % of the customers" if lang == "en" else "25% 的顾客"
    assert word in blocks[1].finding


def test_no_repeat_purchase_is_explained(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    o, r = helpers.order, helpers.review
    src = make_source(
        orders=[o("o1", "c1", "2024-01-01"), o("o2", "c2", "2024-01-03")],
        reviews=[r("r1", "o1", 4, "2024-01-05")],
    )
    with pytest.raises(NoData) as why:
        SATISFACTION_VALUE.compute(ReportContext(src=src))
    assert "no customer ordered twice" in why.value.reason["en"]
    no_reviews = make_source(orders=[o("o1", "c1", "2024-01-01")])
    with pytest.raises(NoData, match="no reviews"):
        SATISFACTION_VALUE.compute(ReportContext(src=no_reviews))
