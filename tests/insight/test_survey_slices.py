"""Survey metrics by the agent and the team who handled the case (``by="agent"`` / ``"team"``),
on a hand-computed example."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from manyi.insight.csat import compute_ces, compute_csat
from manyi.insight.dsr import dsr_means
from manyi.insight.errors import InsightError
from manyi.insight.intervals import Z95
from manyi.insight.nps import compute_nps
from manyi.insight.ratings import rating_summary
from manyi.insight.slicing import key_columns
from manyi.insight.sources import Source, open_source

# (instrument, agent, team, {item: value}); None, None: a survey about no case (a delivery).
ANSWERS: list[tuple[str, str | None, str | None, dict[str, float]]] = [
    ("csat", "ana", "returns", {"csat": 5}),
    ("csat", "ana", "returns", {"csat": 4}),
    ("csat", "ana", "returns", {"csat": 2}),
    ("csat", "bo", "returns", {"csat": 3}),
    ("csat", "cy", "billing", {"csat": 5}),
    ("csat", "cy", "billing", {"csat": 5}),
    ("nps", "ana", "returns", {"nps": 10}),
    ("nps", "ana", "returns", {"nps": 9}),
    ("nps", "ana", "returns", {"nps": 3}),
    ("nps", "bo", "returns", {"nps": 7}),
    ("nps", None, None, {"nps": 0}),
    ("ces_effort_5", "cy", "billing", {"ces": 2}),
    ("ces_effort_5", "cy", "billing", {"ces": 4}),
    ("dsr", "ana", "returns", {"as_described": 4, "service": 2}),
    ("dsr", "ana", "returns", {"as_described": 5, "service": 4}),
    ("dsr", None, None, {"logistics": 1}),
]


def survey_tables(rows: list[tuple[str, str | None, str | None, dict[str, float]]]) -> Any:
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for n, (instrument, agent, team, values) in enumerate(rows):
        rid = f"r{n}"
        responses.append(
            {
                "response_id": rid,
                "instrument": instrument,
                "agent_id": agent,
                "team_id": team,
                "answered_at": "2026-03-02 10:00",
            }
        )
        answers += [{"response_id": rid, "item": k, "value": v} for k, v in values.items()]
    return {"survey_responses": responses, "survey_answers": answers}


@pytest.fixture
def src(make_source: Callable[..., Source]) -> Source:
    return make_source(**survey_tables(ANSWERS))


def test_agent_and_team_are_dimensions() -> None:
    assert key_columns(["agent", "team", "month"]) == ["agent_id", "team_id", "period"]


def test_csat_by_team_and_by_agent(src: Source) -> None:
    teams = compute_csat(src, by="team").set_index("team_id")
    # returns: 5, 4, 2, 3 -> 2 of 4 satisfied; billing: 5, 5 -> 2 of 2
    assert list(teams.index) == ["billing", "returns"]
    assert (teams.loc["returns", "n"], teams.loc["returns", "satisfied"]) == (4, 2)
    assert teams.loc["returns", "csat"] == 0.5
    assert teams.loc["returns", "mean"] == pytest.approx(14 / 4)
    assert (teams.loc["billing", "n"], teams.loc["billing", "csat"]) == (2, 1.0)
    agents = compute_csat(src, by="agent").set_index("agent_id")
    assert agents["n"].to_dict() == {"ana": 3, "bo": 1, "cy": 2}
    assert agents["satisfied"].to_dict() == {"ana": 2, "bo": 0, "cy": 2}


def test_nps_by_team_with_margin_and_a_row_for_no_team(src: Source) -> None:
    frame = compute_nps(src, by="team")
    returns = frame[frame["team_id"] == "returns"].iloc[0]
    # 10, 9, 3, 7: 2 promoters, 1 passive, 1 detractor of 4
    p, d, n = 2 / 4, 1 / 4, 4
    assert (returns["promoters"], returns["passives"], returns["detractors"]) == (2, 1, 1)
    assert returns["nps"] == pytest.approx(100 * (p - d))
    assert returns["margin"] == pytest.approx(100 * Z95 * math.sqrt((p + d - (p - d) ** 2) / n))
    # the delivery survey has no team: its own row, not dropped and not merged
    nobody = frame[frame["team_id"].isna()].iloc[0]
    assert (nobody["n"], nobody["nps"]) == (1, -100.0)
    assert set(frame["team_id"].dropna()) == {"returns"}


def test_ces_by_agent(src: Source) -> None:
    frame = compute_ces(src, by="agent")
    assert frame[["scale", "agent_id", "n", "easy", "mean"]].to_dict("records") == [
        {"scale": "ces_effort_5", "agent_id": "cy", "n": 2, "easy": 1, "mean": 3.0}
    ]


def test_dsr_means_by_agent_per_dimension(src: Source) -> None:
    frame = dsr_means(src, by="agent")
    ana = frame[frame["agent_id"] == "ana"].set_index("dimension")
    assert ana["n"].to_dict() == {"as_described": 2, "service": 2}
    assert ana["mean"].to_dict() == {"as_described": 4.5, "service": 3.0}
    # t interval of (2, 4): mean 3, s = sqrt(2), t(0.975, 1) = 12.706
    assert ana.loc["service", "mean_high"] - 3.0 == pytest.approx(12.7062 * 1.0, rel=1e-4)
    nobody = frame[frame["agent_id"].isna()]
    assert nobody[["dimension", "n", "mean"]].to_dict("records") == [
        {"dimension": "logistics", "n": 1, "mean": 1.0}
    ]


def test_a_source_without_team_id_groups_everything_under_none(tmp_path: Path) -> None:
    # given survey tables written before team_id existed (no such column at all)
    tables = survey_tables(ANSWERS[:6])
    responses = pd.DataFrame(tables["survey_responses"]).drop(columns=["team_id"])
    responses["answered_at"] = pd.to_datetime(responses["answered_at"], utc=True)
    responses.to_parquet(tmp_path / "survey_responses.parquet")
    pd.DataFrame(tables["survey_answers"]).to_parquet(tmp_path / "survey_answers.parquet")
    src = open_source(f"parquet:{tmp_path}")
    try:
        frame = compute_csat(src, by="team")
    finally:
        src.close()
    # then every answer falls in the one "no team" row
    assert len(frame) == 1
    assert pd.isna(frame.iloc[0]["team_id"])
    assert (frame.iloc[0]["n"], frame.iloc[0]["satisfied"]) == (6, 4)


def test_rows_without_an_agent_cannot_be_sliced_by_agent(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    src = make_source(
        orders=[helpers.order("o1", "c1", "2024-01-01")],
        reviews=[helpers.review("v1", "o1", 5, "2024-01-05")],
    )
    with pytest.raises(InsightError, match="carry no agent_id"):
        rating_summary(src, by="agent")
