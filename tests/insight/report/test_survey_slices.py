"""The survey section's tables by team and by agent, in both languages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import pytest

from manyi.insight.report.build import build_report
from manyi.insight.report.html import render_html
from manyi.insight.report.satisfaction_sections import SURVEYS
from manyi.insight.report.survey_slices import SMALL_N
from manyi.insight.sources import Source


def _responses(
    instrument: str, item: str, values: list[int], agent: str | None, team: str | None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (
            {
                "instrument": instrument,
                "agent_id": agent,
                "team_id": team,
                "answered_at": "2026-03-02 10:00",
            },
            {"item": item, "value": v},
        )
        for v in values
    ]


@pytest.fixture
def doc(make_source: Callable[..., Source]) -> dict[str, Any]:
    # given team "returns" with 40 CSAT answers (30 of them 4-5) by ana, 5 by bo (all 5),
    # team "billing" with 10 NPS answers by cy, and 3 delivery NPS answers of no case
    pairs = (
        _responses("csat", "csat", [5] * 20 + [4] * 10 + [2] * 10, "ana", "returns")
        + _responses("csat", "csat", [5] * 5, "bo", "returns")
        + _responses("nps", "nps", [10] * 6 + [8] * 2 + [0] * 2, "cy", "billing")
        + _responses("ces_effort_5", "ces", [2, 2, 3], "cy", "billing")
        + _responses("nps", "nps", [9, 9, 9], None, None)
    )
    responses = [{**r, "response_id": f"r{n}"} for n, (r, _) in enumerate(pairs)]
    answers = [{**a, "response_id": f"r{n}"} for n, (_, a) in enumerate(pairs)]
    src = make_source(survey_responses=responses, survey_answers=answers)
    return build_report(src, sections=[SURVEYS])


def test_section_holds_rows_by_team_and_by_agent(doc: dict[str, Any]) -> None:
    data = doc["sections"]["surveys"]["data"]
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    teams = {row["key"]: row for row in data["by_team"]}
    assert [row["key"] for row in data["by_team"]] == ["billing", "returns", None]
    returns = teams["returns"]
    assert returns["responses"] == 45
    assert (returns["csat"]["n"], returns["csat"]["csat"]) == (45, 35 / 45)
    assert returns["nps"] is None
    billing = teams["billing"]
    assert (billing["nps"]["n"], billing["nps"]["nps"]) == (10, pytest.approx(40.0))
    assert billing["ces"] == [{"scale": "ces_effort_5", "n": 3, "mean": pytest.approx(7 / 3)}]
    assert teams[None]["responses"] == 3
    # agents: most responses first, the row without an agent last
    assert [row["key"] for row in data["by_agent"]] == ["ana", "cy", "bo", None]


@pytest.mark.parametrize(
    ("lang", "title", "no_team"),
    [("en", "Survey results by team", "(no team)"), ("zh", "按团队的问卷结果", "（无团队）")],
)
def test_tables_render_with_small_counts_flagged(
    doc: dict[str, Any], lang: str, title: str, no_team: str
) -> None:
    blocks = SURVEYS.render(doc["sections"]["surveys"]["data"], lang)
    tables = [b for b in blocks if b.figure and b.figure["data"][0]["type"] == "table"]
    assert len(tables) == 2  # by team, by agent
    by_team = tables[0]
    go.Figure(by_team.figure)  # a valid plotly figure
    assert by_team.figure["layout"]["title"]["text"] == title
    cells = by_team.figure["data"][0]["cells"]["values"]
    assert cells[0] == ["billing", "returns", no_team]
    # returns' CSAT rests on 45 answers (not flagged); billing's NPS on 10 (flagged, shown)
    assert cells[2][1].endswith("n = 45")
    assert cells[3][0].endswith("n = 10 *")
    assert cells[3][0].startswith("40.0 ± ")
    assert f"{SMALL_N}" in by_team.finding
    page = render_html(doc, lang=lang, sections=[SURVEYS], include_plotlyjs=False)
    assert title in page


def test_no_tables_when_no_response_names_a_team_or_agent(
    make_source: Callable[..., Source],
) -> None:
    pairs = _responses("nps", "nps", [9, 7, 3], None, None)
    src = make_source(
        survey_responses=[{**r, "response_id": f"r{n}"} for n, (r, _) in enumerate(pairs)],
        survey_answers=[{**a, "response_id": f"r{n}"} for n, (_, a) in enumerate(pairs)],
    )
    data = build_report(src, sections=[SURVEYS])["sections"]["surveys"]["data"]
    assert "nps" in data
    assert "by_team" not in data
    assert "by_agent" not in data
