"""CSAT top-2-box with Wilson interval, and CES on the scale that was asked."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from manyi.insight.csat import compute_ces, compute_csat
from manyi.insight.errors import ScaleError
from manyi.insight.sources import Source


def _survey(instrument: str, item: str, values: list[Any]) -> dict[str, list[dict[str, Any]]]:
    responses = [
        {
            "response_id": f"{instrument}{i}",
            "instrument": instrument,
            "customer_id": f"c{i}",
            "answered_at": "2024-02-01",
        }
        for i in range(len(values))
    ]
    answers = [
        {"response_id": f"{instrument}{i}", "item": item, "value": v} for i, v in enumerate(values)
    ]
    return {"survey_responses": responses, "survey_answers": answers}


def test_csat_is_top_two_box_with_wilson_interval(make_source: Callable[..., Source]) -> None:
    # given 8 answers, 6 of them 4 or 5
    src = make_source(**_survey("csat", "csat", [5, 4, 4, 5, 3, 1, 5, 4]))
    row = compute_csat(src).iloc[0]
    # then CSAT = 6/8 and the Wilson bounds are, by hand with z = 1.959964:
    z2 = 1.959964**2
    centre = (0.75 + z2 / 16) / (1 + z2 / 8)
    half = 1.959964 * math.sqrt(0.75 * 0.25 / 8 + z2 / 256) / (1 + z2 / 8)
    assert (row["n"], row["satisfied"], row["csat"]) == (8, 6, 0.75)
    assert row["csat_low"] == pytest.approx(centre - half, abs=1e-6)
    assert row["csat_high"] == pytest.approx(centre + half, abs=1e-6)
    assert row["mean"] == pytest.approx(31 / 8)


def test_csat_rejects_off_scale_and_handles_no_rows(make_source: Callable[..., Source]) -> None:
    with pytest.raises(ScaleError, match="whole number in 1–5"):
        compute_csat(make_source(**_survey("csat", "csat", [0, 5])))
    row = compute_csat(make_source(**_survey("csat", "csat", []))).iloc[0]
    assert (row["n"], row["csat"]) == (0, None)


def test_ces_keeps_the_scale_and_its_direction(make_source: Callable[..., Source]) -> None:
    # given an effort survey (1–5, low is good) and an agreement survey (1–7, high is good)
    effort = _survey("ces_effort_5", "ces", [1, 2, 2, 4, 5])
    agree = _survey("ces_agree_7", "ces", [7, 6, 5, 2])
    src = make_source(
        survey_responses=effort["survey_responses"] + agree["survey_responses"],
        survey_answers=effort["survey_answers"] + agree["survey_answers"],
    )
    rows = compute_ces(src).set_index("scale")
    # then each scale is summarised on its own, never mixed
    assert rows.loc["ces_effort_5", "n"] == 5
    assert rows.loc["ces_effort_5", "easy_share"] == pytest.approx(3 / 5)  # answers 1–2
    assert bool(rows.loc["ces_effort_5", "lower_is_better"]) is True
    assert rows.loc["ces_agree_7", "easy_share"] == pytest.approx(3 / 4)  # answers 5–7
    assert rows.loc["ces_agree_7", "mean"] == pytest.approx(5.0)


def test_ces_effort_rejects_a_seven(make_source: Callable[..., Source]) -> None:
    src = make_source(**_survey("ces_effort_5", "ces", [7]))
    with pytest.raises(ScaleError, match="ces_effort_5"):
        compute_ces(src)


def test_ces_without_answers_is_an_empty_table(make_source: Callable[..., Source]) -> None:
    src = make_source(**_survey("csat", "csat", [5]))
    assert compute_ces(src).empty
