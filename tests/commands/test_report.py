"""``manyi report`` end to end on the Olist sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from manyi.commands.report import app


@pytest.fixture(scope="module")
def olist_spec(shared_data: Path) -> str:
    return f"olist:{shared_data / 'olist' / 'sample_15k'}"


def test_report_writes_html_and_json(tmp_path: Path, olist_spec: str) -> None:
    out, js = tmp_path / "r" / "report.html", tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "--source",
            olist_spec,
            "--out",
            str(out),
            "--json",
            str(js),
            "--lang",
            "en",
            "--since",
            "2017-01-01",
            "--until",
            "2017-12-31",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert doc["since"] == "2017-01-01"
    assert doc["until"] == "2017-12-31"
    assert doc["sections"]["delivery"]["status"] == "ok"
    page = out.read_text(encoding="utf-8")
    assert "Satisfaction and sales report" in page
    assert "Plotly.newPlot" in page


def test_sample_caps_reach_the_sections(tmp_path: Path) -> None:
    from manyi.data.samples import sample_path

    js = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "--source",
            f"olist:{sample_path('olist')}",
            "--out",
            str(tmp_path / "report.html"),
            "--json",
            str(js),
            "--max-text-reviews",
            "300",
            "--max-driver-orders",
            "500",
        ],
    )
    assert result.exit_code == 0, result.output
    sections = json.loads(js.read_text(encoding="utf-8"))["sections"]
    assert sections["review_text"]["data"]["analysed"] == 300
    assert sections["review_text"]["data"]["max_reviews"] == 300
    assert sections["drivers"]["data"]["rating"]["max_orders"] == 500
    assert sections["drivers"]["data"]["rating"]["sampled"] is True
    assert sections["satisfaction_value"]["status"] == "ok"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "满意度提升一档值多少钱" in page


def test_default_source_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANYI_DATABASE_URL", f"sqlite:///{tmp_path / 'missing.sqlite3'}")
    result = CliRunner().invoke(app, ["--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "missing.sqlite3 does not exist" in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2020-02-30"], "is not a date"),
        (["--since", "2020-02-01", "--until", "2020-01-01"], "is after --until"),
        (["--engine", "pandas"], "use duckdb or spark"),
        (["--lang", "pt"], "use zh or en"),
    ],
)
def test_bad_options_are_explained(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert message in result.output
