"""SERVQUAL gaps computed by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from manyi.insight.errors import ScaleError
from manyi.insight.servqual import DIMENSION_ITEMS, servqual_gaps
from manyi.insight.sources import Source


def _answers(
    rid: str, expect: int, perceive: dict[int, int], weights: dict[str, int] | None, default_p: int
) -> list[dict[str, Any]]:
    rows = []
    for i in range(1, 23):
        rows.append({"response_id": rid, "item": f"E{i}", "value": expect})
        rows.append({"response_id": rid, "item": f"P{i}", "value": perceive.get(i, default_p)})
    for dim, w in (weights or {}).items():
        rows.append({"response_id": rid, "item": f"W_{dim}", "value": w})
    return rows


def _source(make_source: Callable[..., Source], weights: bool = True) -> Source:
    # respondent A expects 7 everywhere, perceives 5 except reliability item 5 = 2
    # respondent B expects 6 everywhere, perceives 6 except empathy item 22 = 3
    wa = {"tangibles": 10, "reliability": 40, "responsiveness": 20, "assurance": 20, "empathy": 10}
    wb = {"tangibles": 20, "reliability": 20, "responsiveness": 20, "assurance": 20, "empathy": 20}
    answers = _answers("A", 7, {5: 2}, wa if weights else None, 5)
    answers += _answers("B", 6, {22: 3}, wb if weights else None, 6)
    responses = [
        {"response_id": r, "instrument": "servqual", "answered_at": "2024-03-01"}
        for r in ("A", "B")
    ]
    return make_source(survey_responses=responses, survey_answers=answers)


def test_servqual_gaps_by_hand(make_source: Callable[..., Source]) -> None:
    gaps = servqual_gaps(_source(make_source))
    items = gaps.items.set_index("item")
    # item gaps: A gives P−E = −2 (item 5: −5), B gives 0 (item 22: −3)
    assert items.loc[1, "gap"] == pytest.approx((-2 + 0) / 2)
    assert items.loc[5, "gap"] == pytest.approx((-5 + 0) / 2)
    assert items.loc[22, "gap"] == pytest.approx((-2 - 3) / 2)
    assert items.loc[1, "expectation"] == pytest.approx(6.5)
    dims = gaps.dimensions.set_index("dimension")
    # dimension gap = mean of its item gaps
    assert dims.loc["tangibles", "gap"] == pytest.approx(-1.0)
    assert dims.loc["reliability", "gap"] == pytest.approx((-2.5 - 1 * 4) / 5)
    assert dims.loc["empathy", "gap"] == pytest.approx((-1 * 4 - 2.5) / 5)
    expected_dims = {
        "tangibles": -1.0,
        "reliability": -1.3,
        "responsiveness": -1.0,
        "assurance": -1.0,
        "empathy": -1.3,
    }
    assert gaps.unweighted == pytest.approx(sum(expected_dims.values()) / 5)
    # weights: mean share of the 100 points, A and B averaged
    w = {
        "tangibles": 0.15,
        "reliability": 0.30,
        "responsiveness": 0.20,
        "assurance": 0.20,
        "empathy": 0.15,
    }
    assert dims.loc["reliability", "weight"] == pytest.approx(0.30)
    assert gaps.weighted == pytest.approx(sum(w[d] * g for d, g in expected_dims.items()))
    assert gaps.respondents == 2
    assert len(items) == 22
    assert set(DIMENSION_ITEMS) == set(dims.index)


def test_servqual_without_weights_has_no_weighted_score(
    make_source: Callable[..., Source],
) -> None:
    gaps = servqual_gaps(_source(make_source, weights=False))
    assert gaps.weighted is None
    assert gaps.unweighted is not None


def test_servqual_rejects_an_eight_and_handles_no_answers(
    make_source: Callable[..., Source],
) -> None:
    responses = [{"response_id": "A", "instrument": "servqual", "answered_at": "2024-03-01"}]
    bad = make_source(
        survey_responses=responses, survey_answers=[{"response_id": "A", "item": "P1", "value": 8}]
    )
    with pytest.raises(ScaleError, match="servqual"):
        servqual_gaps(bad)
    empty = make_source(survey_responses=responses, survey_answers=[])
    gaps = servqual_gaps(empty)
    assert (gaps.respondents, gaps.unweighted, gaps.weighted, len(gaps.items)) == (0, None, None, 0)
