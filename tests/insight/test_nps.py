"""NPS: the published worked example, counts, change between periods, surveys, edge cases."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from manyi.insight.errors import ScaleError
from manyi.insight.nps import compute_nps, nps_change, nps_from_counts, nps_margin
from manyi.insight.sources import Source


def test_worked_example_33_3_plus_minus_7_3() -> None:
    # given p = 1/2 promoters, d = 1/6 detractors, n = 400; by hand:
    #   NPS = 100 (1/2 − 1/6) = 33.3
    #   Var = [1/2 + 1/6 − (1/3)²] / 400 = (2/3 − 1/9) / 400 = 0.0013889; √Var = 0.037268
    #   margin = 100 · 1.96 · 0.037268 = 7.30
    margin = nps_margin(1 / 2, 1 / 6, 400)
    assert round(100 * (1 / 2 - 1 / 6), 1) == 33.3
    assert round(margin, 1) == 7.3
    assert margin == pytest.approx(100 * 1.959964 * math.sqrt((2 / 3 - 1 / 9) / 400), rel=1e-6)


def test_nps_from_counts_and_change_by_hand() -> None:
    # given 40/30/30 then 50/30/20 promoters/passives/detractors of 100
    before, after = nps_from_counts(40, 30, 30), nps_from_counts(50, 30, 20)
    # then NPS 10 and 30; Var = (.4+.3−.01)/100 = .0069 and (.5+.2−.09)/100 = .0061
    assert (before.score, after.score) == pytest.approx((10.0, 30.0))
    change = nps_change(before, after)
    half = 100 * 1.959964 * math.sqrt(0.0069 + 0.0061)
    assert change.value == pytest.approx(20.0)
    assert change.high - change.value == pytest.approx(half, rel=1e-6)


def test_nps_edge_cases() -> None:
    empty = nps_from_counts(0, 0, 0)
    assert (empty.n, empty.score, empty.margin) == (0, None, None)
    assert nps_change(empty, nps_from_counts(1, 0, 0)).value is None
    one = nps_from_counts(1, 0, 0)
    assert (one.score, one.margin) == (100.0, 0.0)
    with pytest.raises(ValueError, match="negative"):
        nps_from_counts(-1, 0, 0)


def _survey(values: list[Any], month: str = "2024-01") -> dict[str, list[dict[str, Any]]]:
    responses = [
        {
            "response_id": f"{month}-{i}",
            "instrument": "nps",
            "customer_id": f"c{i}",
            "answered_at": f"{month}-15",
            "channel": "email" if i % 2 else "sms",
        }
        for i in range(len(values))
    ]
    answers = [
        {"response_id": f"{month}-{i}", "item": "nps", "value": v} for i, v in enumerate(values)
    ]
    return {"survey_responses": responses, "survey_answers": answers}


def test_compute_nps_from_survey_tables(make_source: Callable[..., Source]) -> None:
    # given 10 answers: 9, 10, 10 (promoters) 7, 8 (passives) 0, 3, 6, 6, 5 (detractors)
    src = make_source(**_survey([9, 10, 10, 7, 8, 0, 3, 6, 6, 5]))
    row = compute_nps(src).iloc[0]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (10, 3, 2, 5)
    assert row["nps"] == pytest.approx(-20.0)
    assert row["margin"] == pytest.approx(nps_margin(0.3, 0.5, 10))
    by_channel = compute_nps(src, by="channel").set_index("channel")
    assert by_channel["n"].to_dict() == {"email": 5, "sms": 5}


def test_nps_rejects_answers_off_the_0_10_scale(make_source: Callable[..., Source]) -> None:
    src = make_source(**_survey([9, 11]))
    with pytest.raises(ScaleError, match="must be a whole number in 0–10"):
        compute_nps(src)
    half = make_source(**_survey([9, 7.5]))
    with pytest.raises(ScaleError, match=r"has 7\.5"):
        compute_nps(half)


def test_nps_without_answers_has_no_score(make_source: Callable[..., Source]) -> None:
    src = make_source(**_survey([]))
    row = compute_nps(src).iloc[0]
    assert (row["n"], row["nps"], row["margin"]) == (0, None, None)


def test_nps_all_equal_answers(make_source: Callable[..., Source]) -> None:
    src = make_source(**_survey([10, 10, 10]))
    row = compute_nps(src).iloc[0]
    assert (row["nps"], row["margin"]) == (100.0, 0.0)
