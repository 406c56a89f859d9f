"""Survey rows: joining responses and answers, and telling whether a source has surveys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from manyi.insight.errors import ScaleError
from manyi.insight.sources import Source
from manyi.insight.surveys import has_surveys, survey_rows


def _source(make_source: Callable[..., Source]) -> Source:
    responses = [
        {"response_id": "a", "instrument": "nps", "answered_at": "2024-01-01", "channel": "sms"},
        {"response_id": "b", "instrument": "csat", "answered_at": "2024-01-02"},
    ]
    answers = [
        {"response_id": "a", "item": "nps", "value": 9},
        {"response_id": "a", "item": "comment_len", "value": 40},
        {"response_id": "b", "item": "csat", "value": 4},
    ]
    return make_source(survey_responses=responses, survey_answers=answers)


def test_survey_rows_keep_the_instrument_and_items_asked_for(
    make_source: Callable[..., Source],
) -> None:
    src = _source(make_source)
    rows = src.execute(survey_rows(src, "nps", items=["nps"]))
    assert rows[["response_id", "item", "value", "channel"]].to_dict("records") == [
        {"response_id": "a", "item": "nps", "value": 9.0, "channel": "sms"}
    ]
    assert src.execute(survey_rows(src, ["nps", "csat"]).count()) == 3


def test_has_surveys(make_source: Callable[..., Source], olist: Source) -> None:
    src = _source(make_source)
    assert has_surveys(src)
    assert has_surveys(src, "csat")
    assert not has_surveys(src, "servqual")
    assert not has_surveys(olist)


def test_scale_check_names_the_response(make_source: Callable[..., Source]) -> None:
    src = _source(make_source)
    with pytest.raises(ScaleError, match="response_id=a"):
        survey_rows(src, "nps", check=(0, 5))
