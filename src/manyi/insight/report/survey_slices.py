"""The survey section's tables by team and by agent: CSAT, NPS and CES of who handled the case.

``survey_responses.agent_id`` and ``team_id`` are copied from the case when the customer answers
(the desk does this), so a survey about no case (after a delivery) has neither and lands in the
"no team" / "no agent" row. A figure resting on fewer than :data:`SMALL_N` answers is shown and
marked, not hidden: hiding small teams would make a report that looks better than the desk.

Examples
--------
>>> from manyi.insight.report.survey_slices import cell_csat
>>> cell_csat({"n": 12, "csat": 0.75, "csat_low": 0.47, "csat_high": 0.91}, "en")
'75.0 % (47.0 %–91.0 %), n = 12 *'
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from manyi.insight.csat import compute_ces, compute_csat
from manyi.insight.nps import compute_nps
from manyi.insight.report.charts import layout
from manyi.insight.report.jsonable import plain
from manyi.insight.report.section import Block, JSONDict
from manyi.insight.report.words import num, pct, pick
from manyi.insight.slicing import between, key_columns, run_grouped

if TYPE_CHECKING:
    from manyi.insight.sources import Source

#: Below this many answers a figure is marked as resting on too few answers.
SMALL_N = 30
SLICES = ("team", "agent")
_NAMES = {
    "team": {"en": "team", "zh": "团队"},
    "agent": {"en": "agent", "zh": "客服"},
}
_NONE = {
    "team": {"en": "(no team)", "zh": "（无团队）"},
    "agent": {"en": "(no agent)", "zh": "（无客服）"},
}


def compute_survey_slices(
    src: Source, by: str, *, since: date | None = None, until: date | None = None
) -> list[JSONDict] | None:
    """One row per ``by`` value (``team`` or ``agent``): responses, CSAT, NPS and CES.

    ``None`` when no response names a team (agent): a table with the one row "no team" says
    nothing. Rows: ``key`` (``None`` for no team/agent), ``responses`` (all instruments),
    ``csat`` (``n, csat, csat_low, csat_high``) and ``nps`` (``n, nps, margin``) or ``None``,
    and ``ces`` (``scale, n, mean`` per scale asked). Teams are in name order, agents by
    responses (most first); the no-team/no-agent row comes last.
    """
    column = key_columns([by])[0]
    responses = src.table("survey_responses")
    responses = responses.filter(between(src, responses.answered_at, since, until))
    counts = run_grouped(src, responses, [column], n=responses.count())
    rows: dict[Any, JSONDict] = {}
    for _, count in counts.iterrows():
        key = plain(count[column])
        rows[key] = {"key": key, "responses": int(count["n"]), "csat": None, "nps": None, "ces": []}
    if all(key is None for key in rows):
        return None
    for r in compute_csat(src, by=by, since=since, until=until).to_dict("records"):
        if r["n"] and plain(r[column]) in rows:
            rows[plain(r[column])]["csat"] = {
                k: plain(r[k]) for k in ("n", "csat", "csat_low", "csat_high")
            }
    for r in compute_nps(src, by=by, since=since, until=until).to_dict("records"):
        if r["n"] and plain(r[column]) in rows:
            rows[plain(r[column])]["nps"] = {k: plain(r[k]) for k in ("n", "nps", "margin")}
    for r in compute_ces(src, by=by, since=since, until=until).to_dict("records"):
        if plain(r[column]) in rows:
            rows[plain(r[column])]["ces"].append({k: plain(r[k]) for k in ("scale", "n", "mean")})
    return sorted(
        rows.values(),
        key=lambda row: (
            row["key"] is None,
            -row["responses"] if by == "agent" else 0,
            str(row["key"] or ""),
        ),
    )


def _flag(n: int) -> str:
    return " *" if n < SMALL_N else ""


def cell_csat(c: JSONDict | None, lang: str) -> str:
    """``75.0 % (47.0 %–91.0 %), n = 12 *`` (``*``: fewer than :data:`SMALL_N` answers)."""
    if c is None:
        return "–"
    return (
        f"{pct(c['csat'], lang)} ({pct(c['csat_low'], lang)}–{pct(c['csat_high'], lang)}), "
        f"n = {num(c['n'])}{_flag(c['n'])}"
    )


def cell_nps(c: JSONDict | None) -> str:
    if c is None or c["nps"] is None:
        return "–"
    return f"{c['nps']:.1f} ± {c['margin']:.1f}, n = {num(c['n'])}{_flag(c['n'])}"


def cell_ces(c: JSONDict | None) -> str:
    if c is None or c["mean"] is None:
        return "–"
    return f"{c['mean']:.2f}, n = {num(c['n'])}{_flag(c['n'])}"


def render_survey_slices(rows: list[JSONDict], by: str, lang: str) -> Block:
    """The table of one slicing (``team`` or ``agent``) and its finding."""
    name = _NAMES[by][lang]
    scales = sorted({c["scale"] for row in rows for c in row["ces"]})
    header = [
        name,
        pick(lang, "responses", "回复数"),
        pick(lang, "CSAT (95 % CI)", "CSAT（95% 置信区间）"),
        pick(lang, "NPS ± margin", "NPS ± 误差"),
        *[pick(lang, f"CES mean ({s})", f"CES 平均（{s}）") for s in scales],
    ]
    columns: list[list[str]] = [
        [_NONE[by][lang] if row["key"] is None else str(row["key"]) for row in rows],
        [num(row["responses"]) for row in rows],
        [cell_csat(row["csat"], lang) for row in rows],
        [cell_nps(row["nps"]) for row in rows],
    ]
    columns.extend(
        [cell_ces(next((c for c in row["ces"] if c["scale"] == scale), None)) for row in rows]
        for scale in scales
    )
    figure = {
        "data": [
            {
                "type": "table",
                "columnwidth": [1.2, 0.7, 2.2, 1.6] + [1.2] * len(scales),
                "header": {"values": header, "align": "left"},
                "cells": {"values": columns, "align": "left"},
            }
        ],
        "layout": layout(
            pick(lang, f"Survey results by {name}", f"按{name}的问卷结果"),
            height=120 + 32 * len(rows),
        ),
    }
    named = [row for row in rows if row["key"] is not None]
    rated = [row for row in named if row["csat"] and row["csat"]["n"] >= SMALL_N]
    small = sum(
        1
        for row in rows
        if any(c is not None and c["n"] < SMALL_N for c in (row["csat"], row["nps"], *row["ces"]))
    )
    lowest = min(rated, key=lambda row: row["csat"]["csat"]) if rated else None
    finding = pick(
        lang,
        f"Survey results of {num(len(named))} {name}s"
        + (
            f"; lowest CSAT with at least {SMALL_N} answers: {lowest['key']}, "
            f"{pct(lowest['csat']['csat'], lang)}"
            if lowest
            else ""
        )
        + (
            f". In {num(small)} rows a figure rests on fewer than {SMALL_N} answers (marked *): "
            "read those with care."
            if small
            else "."
        ),
        f"{num(len(named))} 个{name}的问卷结果"
        + (
            f"；至少 {SMALL_N} 条回答中 CSAT 最低的是 {lowest['key']}，"
            f"{pct(lowest['csat']['csat'], lang)}"
            if lowest
            else ""
        )
        + (
            f"。有 {num(small)} 行的数字基于不足 {SMALL_N} 条回答（标 *），请谨慎解读。"
            if small
            else "。"
        ),
    )
    return Block(finding, figure)
