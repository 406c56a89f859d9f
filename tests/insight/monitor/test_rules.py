"""Rule dataclasses: validation, default ids, JSON and YAML round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manyi.insight.errors import InsightError
from manyi.insight.monitor.rules import (
    AnomalyRule,
    ChangeRule,
    ThresholdRule,
    load_rules,
    rule_from_dict,
    rule_to_dict,
    rules_to_json,
)


def test_every_rule_survives_a_json_round_trip() -> None:
    rules = [
        ThresholdRule("late_share", ">", 0.15, min_n=50, window=7),
        ChangeRule("complaints", window=7, baseline="same_weekday", test="poisson_exact"),
        ChangeRule("mean_rating", test="mann_whitney", direction="both", alpha=0.05),
        AnomalyRule("orders", method="stl", sensitivity="high", freq="hour", cooldown=6),
        AnomalyRule("bad_review_share", method="cusum", threshold=4.5, id="my-rule"),
    ]
    text = rules_to_json(rules)
    back = [rule_from_dict(d) for d in json.loads(text)]
    assert back == rules
    assert rule_to_dict(rules[0])["type"] == "threshold"


def test_default_ids_tell_rules_apart() -> None:
    assert ThresholdRule("late_share", ">", 0.15).id == "threshold:late_share:day:>0.15"
    assert ChangeRule("orders").id == "change:orders:day"
    assert ChangeRule("orders", window=7, baseline="same_weekday").id == (
        "change:orders:day:w7:same_weekday"
    )
    assert AnomalyRule("orders", method="ewma").id == "anomaly:orders:ewma:day"
    assert AnomalyRule("orders").season_length == 7
    assert AnomalyRule("orders", freq="hour").season_length == 24


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ThresholdRule("refunds", ">", 1), "unknown metric 'refunds'"),
        (lambda: ThresholdRule("orders", "=>", 1), "op must be one of"),  # type: ignore[arg-type]
        (lambda: ThresholdRule("orders", ">", 1, window=0), "window must be at least 1"),
        (lambda: ThresholdRule("orders", ">", 1, freq="week"), "freq must be one of day, hour"),
        (lambda: ChangeRule("orders", test="z"), "test 'z' does not fit orders"),
        (lambda: ChangeRule("late_share", test="welch"), "use auto or z"),
        (lambda: ChangeRule("bad_review_share", alpha=1.5), "alpha must lie between 0 and 1"),
        (lambda: ChangeRule("orders", baseline_periods=1), "baseline_periods must be at least 2"),
        (lambda: ChangeRule("first_response_hours", test="mann_whitney"), "discrete scale"),
        (lambda: AnomalyRule("orders", method="prophet"), "method must be one of"),  # type: ignore[arg-type]
        (lambda: AnomalyRule("orders", warmup=80), "warmup must lie between 0 and history"),
        (lambda: AnomalyRule("orders", window=3), "one period at a time"),
    ],
)
def test_rules_refuse_bad_settings(build: object, message: str) -> None:
    with pytest.raises(InsightError, match=message):
        build()  # type: ignore[operator]


def test_chosen_test_by_metric_kind() -> None:
    assert ChangeRule("orders").chosen_test == "poisson"
    assert ChangeRule("late_share").chosen_test == "z"
    assert ChangeRule("mean_rating").chosen_test == "welch"
    assert ChangeRule("nps").chosen_test == "nps_z"


def test_load_rules_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - {type: threshold, metric: late_share, op: '>', value: 0.15, window: 7}\n"
        "  - type: anomaly\n"
        "    metric: complaints\n"
        "    method: stl\n",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules == [
        ThresholdRule("late_share", ">", 0.15, window=7),
        AnomalyRule("complaints", method="stl"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: []\n", "expected a list of rules"),
        ("- {type: alarm, metric: orders}\n", "rule 1: rule type must be one of"),
        ("- {type: change, metric: orders, colour: red}\n", "unknown field\\(s\\) colour"),
        ("- {type: threshold, metric: orders}\n", "rule 1: threshold rule: .*missing"),
        ("- {type: change, metric: orders}\n- {type: change, metric: orders}\n", "repeated"),
        ("- 3\n", "rule 1 is not a mapping"),
        ("rules: [\n", "cannot read rules"),
    ],
)
def test_load_rules_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InsightError, match=message):
        load_rules(path)


def test_load_rules_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InsightError, match="cannot read rules from"):
        load_rules(tmp_path / "nope.yaml")
