"""Answers given through the survey services reach ``manyi.insight`` through the canonical
tables: DuckDB over the desk database (what ``manyi report --source <db url>`` reads) computes
CSAT, NPS, CES, DSR and SERVQUAL equal to a hand computation of the same answers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from manyi.desk.surveys.models import Invitation, RuleInstrument, SurveyRule, SurveySettings
from manyi.insight.csat import compute_ces, compute_csat
from manyi.insight.dsr import dsr_scores
from manyi.insight.nps import compute_nps
from manyi.insight.servqual import servqual_gaps
from manyi.insight.sources import Source, open_source

pytestmark = pytest.mark.django_db(transaction=True)

Z95 = 1.959963984540054


@pytest.fixture
def source(desk_database_url: str) -> Iterator[Any]:
    """``source()`` opens the desk database the way the report does (DuckDB, read-only)."""
    opened: list[Source] = []

    def open_() -> Source:
        src = open_source(desk_database_url)
        opened.append(src)
        return src

    yield open_
    for src in opened:
        src.close()


@pytest.fixture
def ask(resolved_case: Any, run_jobs: Any, submit: Any, now: datetime) -> Any:
    """``ask(["csat", ...], [answers, ...])``: one resolved case per answer set, surveyed by
    the after-case rule asking those instruments, answered through the service."""
    SurveySettings.objects.filter(pk=1).update(fatigue_days=0)
    SurveyRule.objects.filter(code="after_delivery").update(active=False)
    rule = SurveyRule.objects.get(code="after_case")
    step = iter(range(1000))

    def run(instruments: list[str], answers: list[dict[str, str]]) -> list[Invitation]:
        RuleInstrument.objects.filter(rule=rule).delete()
        for n, code in enumerate(instruments, start=1):
            RuleInstrument.objects.create(rule=rule, instrument_id=code, position=n)
        invitations = []
        for data in answers:
            at = now + timedelta(hours=next(step))
            case = resolved_case(email=f"c{at:%d%H}@example.com", at=at - timedelta(hours=25))
            run_jobs(at)
            invitation = Invitation.objects.get(case=case)
            submit(invitation, data, at=at + timedelta(minutes=5))
            invitations.append(invitation)
        return invitations

    return run


def test_csat_and_ces_equal_a_hand_computation(ask: Any, source: Any) -> None:
    csat = [5, 4, 3, 1, 5, 4, 2]
    effort = [1, 2, 4, 2, 5, 1, 3]
    agree = [7, 6, 2, 5]
    ask(
        ["csat", "ces_effort_5"],
        [
            {"csat.csat": str(c), "ces_effort_5.ces": str(e)}
            for c, e in zip(csat, effort, strict=True)
        ],
    )
    ask(["ces_agree_7"], [{"ces_agree_7.ces": str(a)} for a in agree])

    src = source()
    got_csat = compute_csat(src).iloc[0]
    got_ces = compute_ces(src).set_index("scale")

    # CSAT is the share of 4-5 answers; CES "easy" is 1-2 of 5 effort or 5-7 of 7 agreement
    assert int(got_csat["n"]) == len(csat)
    assert int(got_csat["satisfied"]) == sum(c >= 4 for c in csat) == 4
    assert got_csat["csat"] == pytest.approx(4 / 7)
    assert got_csat["mean"] == pytest.approx(sum(csat) / len(csat))
    assert got_ces.loc["ces_effort_5", "easy_share"] == pytest.approx(
        sum(e <= 2 for e in effort) / len(effort)
    )
    assert got_ces.loc["ces_effort_5", "mean"] == pytest.approx(sum(effort) / len(effort))
    assert bool(got_ces.loc["ces_effort_5", "lower_is_better"]) is True
    assert got_ces.loc["ces_agree_7", "easy_share"] == pytest.approx(3 / 4)
    assert got_ces.loc["ces_agree_7", "mean"] == pytest.approx(sum(agree) / len(agree))


def test_nps_equals_a_hand_computation(ask: Any, source: Any) -> None:
    scores = [10, 9, 9, 8, 7, 6, 3, 10, 10, 5]
    ask(["nps"], [{"nps.nps": str(s), "nps.why": "物流快"} for s in scores])

    got = compute_nps(source()).iloc[0]

    promoters = sum(s >= 9 for s in scores)  # 5
    detractors = sum(s <= 6 for s in scores)  # 3
    p, d, n = promoters / len(scores), detractors / len(scores), len(scores)
    assert (int(got["promoters"]), int(got["passives"]), int(got["detractors"])) == (5, 2, 3)
    assert got["nps"] == pytest.approx(100 * (p - d)) == pytest.approx(20.0)
    assert got["margin"] == pytest.approx(100 * Z95 * math.sqrt((p + d - (p - d) ** 2) / n))


def test_servqual_gaps_on_a_worked_example(ask: Any, source: Any) -> None:
    dims = {
        "tangibles": range(1, 5),
        "reliability": range(5, 10),
        "responsiveness": range(10, 14),
        "assurance": range(14, 18),
        "empathy": range(18, 23),
    }
    # Respondent 1 expects 6 everywhere and perceives 5, 4, 6, 7, 5 by dimension;
    # respondent 2 expects 7 and perceives 5 everywhere.
    perceived_1 = {"tangibles": 5, "reliability": 4, "responsiveness": 6, "assurance": 7}
    one = {f"servqual.E{i}": "6" for i in range(1, 23)}
    for dim, items in dims.items():
        one.update({f"servqual.P{i}": str(perceived_1.get(dim, 5)) for i in items})
    two = {f"servqual.E{i}": "7" for i in range(1, 23)}
    two.update({f"servqual.P{i}": "5" for i in range(1, 23)})
    weights_1 = dict(zip(dims, ["10", "40", "20", "20", "10"], strict=True))
    weights_2 = dict(zip(dims, ["20", "30", "20", "15", "15"], strict=True))
    one.update({f"servqual.W_{d}": w for d, w in weights_1.items()})
    two.update({f"servqual.W_{d}": w for d, w in weights_2.items()})
    ask(["servqual"], [one, two])

    gaps = servqual_gaps(source())

    # item gaps: mean of (P - E) over both: tangibles (-1 - 2)/2, reliability (-2 - 2)/2,
    # responsiveness (0 - 2)/2, assurance (1 - 2)/2, empathy (-1 - 2)/2
    expected = {
        "tangibles": -1.5,
        "reliability": -2.0,
        "responsiveness": -1.0,
        "assurance": -0.5,
        "empathy": -1.5,
    }
    by_dim = gaps.dimensions.set_index("dimension")
    assert gaps.respondents == 2
    assert len(gaps.items) == 22
    for dim, gap in expected.items():
        assert by_dim.loc[dim, "gap"] == pytest.approx(gap)
    # weights: mean share of the 100 points, e.g. reliability (40 + 30) / 200 = 0.35
    assert by_dim.loc["reliability", "weight"] == pytest.approx(0.35)
    assert gaps.unweighted == pytest.approx(-6.5 / 5) == pytest.approx(-1.3)
    weighted = 0.15 * -1.5 + 0.35 * -2.0 + 0.20 * -1.0 + 0.175 * -0.5 + 0.125 * -1.5
    assert gaps.weighted == pytest.approx(weighted) == pytest.approx(-1.4)


def test_dsr_per_seller_against_its_industry_equals_a_hand_computation(
    make_order: Any, run_jobs: Any, submit: Any, source: Any, now: datetime
) -> None:
    SurveySettings.objects.filter(pk=1).update(fatigue_days=0)
    SurveyRule.objects.filter(code="after_case").update(active=False)
    # (order, seller, category, as_described, service, logistics, answered days after delivery)
    plan = [
        ("o1", "s1", "bed", 5, 5, 4, 1),
        ("o2", "s1", "bed", 4, 5, 3, 2),
        ("o3", "s1", "bed", 3, 4, 2, 3),
        ("o4", "s2", "bed", 5, 4, 5, 1),
        ("o5", "s2", "bed", 4, 4, 4, 14),
        ("o6", "s3", "toys", 2, 3, 1, 1),
        ("o7", "s3", "toys", 4, 5, 5, 2),
        ("o8", "s1", "bed", 1, 1, 1, 20),  # after the 15-day rating period: not counted
    ]
    delivered = now - timedelta(hours=25)
    for n, (order_id, seller, category, *_answers) in enumerate(plan):
        make_order(
            order_id, customer_id=f"c{n}", seller_id=seller, category=category, delivered=delivered
        )
    run_jobs(now)
    for order_id, _s, _c, described, service, logistics, days in plan:
        invitation = Invitation.objects.get(order_id=order_id)
        submit(
            invitation,
            {
                "dsr.as_described": str(described),
                "dsr.service": str(service),
                "dsr.logistics": str(logistics),
                "nps.nps": "9",
            },
            at=delivered + timedelta(days=days, minutes=1),
        )

    scores = dsr_scores(source()).set_index(["seller_id", "dimension"])

    counted = [p for p in plan if p[6] <= 15]
    index = {"as_described": 3, "service": 4, "logistics": 5}
    for seller in ("s1", "s2", "s3"):
        mine = [p for p in counted if p[1] == seller]
        industry = [p for p in counted if p[2] == mine[0][2]]
        for dim, col in index.items():
            row = scores.loc[(seller, dim)]
            shop = sum(p[col] for p in mine) / len(mine)
            mean = sum(p[col] for p in industry) / len(industry)
            assert int(row["n"]) == len(mine)
            assert row["score"] == pytest.approx(shop)
            assert row["industry_score"] == pytest.approx(mean)
            assert row["vs_industry"] == pytest.approx((shop - mean) / mean)
    # for instance s1's as-described: (5 + 4 + 3) / 3 = 4 against bed's (5+4+3+5+4) / 5 = 4.2
    assert scores.loc[("s1", "as_described"), "vs_industry"] == pytest.approx(-0.2 / 4.2)
