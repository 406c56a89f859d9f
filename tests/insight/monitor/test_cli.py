"""``manyi alerts check`` and ``manyi review-campaign`` end to end, and the module examples."""

from __future__ import annotations

import doctest
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.insight.sources import Source


@pytest.fixture
def spec(build_source: Callable[..., Source], rows: SimpleNamespace) -> str:
    # 3 orders and one 1★ review a day in March 2018, then 12 1★ reviews on 2018-04-02
    orders = [rows.order(f"o{d}", f"2018-03-{d:02d} 10:00") for d in range(1, 32)]
    reviews = [
        rows.review(f"r{d}", f"o{d}", 1 if d % 2 else 5, f"2018-03-{d:02d} 12:00")
        for d in range(1, 32)
    ]
    reviews += [rows.review(f"x{i}", "o31", 1, "2018-04-02 12:00") for i in range(12)]
    src = build_source(orders=orders, reviews=reviews)
    return src.spec


def _rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_alerts_check_exits_1_when_an_alert_fires(tmp_path: Path, spec: str) -> None:
    rules = _rules(tmp_path, "rules:\n  - {type: change, metric: complaints}\n")
    out = tmp_path / "alerts.json"
    result = CliRunner().invoke(
        app,
        ["alerts", "check", "--source", spec, "--rules", str(rules), "--as-of", "2018-04-02",
         "--lang", "en", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "fired" in result.output
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["as_of"] == "2018-04-02"
    assert payload["results"][0]["fired"] is True
    assert payload["results"][0]["message_en"].startswith("Complaints on 2018-04-02: 12 a day")


def test_alerts_check_exits_0_when_quiet(tmp_path: Path, spec: str) -> None:
    rules = _rules(
        tmp_path, "- {type: change, metric: complaints}\n- {type: anomaly, metric: orders}\n"
    )
    result = CliRunner().invoke(
        app,
        ["alerts", "check", "-s", spec, "--rules", str(rules), "--as-of", "2018-03-30", "--all"],
    )
    assert result.exit_code == 0, result.output
    assert "quiet" in result.output


def test_alerts_check_exits_2_on_a_bad_rules_file(tmp_path: Path, spec: str) -> None:
    rules = _rules(tmp_path, "- {type: change, metric: refunds}\n")
    result = CliRunner().invoke(app, ["alerts", "check", "-s", spec, "--rules", str(rules)])
    assert result.exit_code == 2
    assert "unknown metric 'refunds'" in result.output


def test_review_campaign_writes_html_and_json(tmp_path: Path, spec: str) -> None:
    out, js = tmp_path / "r" / "review.html", tmp_path / "review.json"
    result = CliRunner().invoke(
        app,
        ["review-campaign", "--source", spec, "--start", "2018-03-29", "--end", "2018-03-31",
         "--name", "Spring", "--out", str(out), "--json", str(js), "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert doc["campaign"] == {
        "name": "Spring", "start": "2018-03-29", "end": "2018-03-31",
        "baseline_start": "2018-03-01", "baseline_end": "2018-03-28",
        "days": 3, "baseline_days": 28,
    }  # fmt: skip
    page = out.read_text(encoding="utf-8")
    assert "<h1>Campaign review · Spring</h1>" in page
    assert "Orders per day" in result.output


def test_review_campaign_refuses_bad_windows(spec: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["review-campaign", "-s", spec, "--start", "2018-03-29", "--end", "2018-03-20"]
    )
    assert result.exit_code == 2
    assert "after it ends" in result.output
    result = runner.invoke(
        app, ["review-campaign", "-s", spec, "--start", "29/03/2018", "--end", "2018-03-30"]
    )
    assert result.exit_code == 2
    words = " ".join(result.output.replace("│", " ").split())
    assert "is not a date" in words


MODULES = (
    "anomaly",
    "campaign",
    "cohort",
    "debounce",
    "evaluate",
    "live",
    "localtime",
    "messages",
    "review_html",
    "rules",
    "series",
    "significance",
)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples_run(name: str) -> None:
    module = importlib.import_module(f"manyi.insight.monitor.{name}")
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
