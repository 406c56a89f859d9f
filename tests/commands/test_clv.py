"""CLI tests of ``manyi clv`` and ``manyi drivers`` (the latter belongs in test_drivers.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from manyi.commands.clv import app as clv_app
from manyi.commands.drivers import app as drivers_app

runner = CliRunner()

CDNOW_ARGS = [
    "--customer-column",
    "customer_id",
    "--date-column",
    "date",
    "--date-format",
    "%Y%m%d",
    "--amount-column",
    "dollar_value",
    "--calibration-end",
    "1997-09-30",
]


def test_clv_fit_prints_and_writes_the_published_bgnbd_fit(
    shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fit.json"
    result = runner.invoke(
        clv_app,
        [
            "fit",
            "--transactions",
            str(shared_data / "cdnow" / "cdnow_sample.csv.gz"),
            *CDNOW_ARGS,
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "-9582.43" in result.output
    assert "7+" in result.output
    written = json.loads(out.read_text())
    assert written["params"]["r"] == pytest.approx(0.2426, abs=5e-5)
    assert written["customers"] == 2357
    assert written["holdout"]["actual_total"] == 1882


def test_clv_fit_pareto_and_gamma_gamma(shared_data: Path, tmp_path: Path) -> None:
    path = str(shared_data / "cdnow" / "cdnow_sample.csv.gz")
    for model, name, value in (("pnbd", "s", 0.606), ("gg", "p", 6.25)):
        out = tmp_path / f"{model}.json"
        result = runner.invoke(
            clv_app,
            ["fit", "--transactions", path, *CDNOW_ARGS, "--model", model, "--json", str(out)],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(out.read_text())["params"][name] == pytest.approx(value, abs=5e-3)


def test_clv_fit_names_file_line_and_field_of_a_bad_date(shared_data: Path, tmp_path: Path) -> None:
    # given the sample with the date on data line 3 (file line 4) broken
    with gzip.open(shared_data / "cdnow" / "cdnow_sample.csv.gz", "rt") as handle:
        lines = handle.read().splitlines()
    fields = lines[3].split(",")
    fields[2] = "1997-13-45"
    lines[3] = ",".join(fields)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    # when it is fitted
    result = runner.invoke(clv_app, ["fit", "--transactions", str(bad), *CDNOW_ARGS])
    # then the error names the file, the line, the field and the reason
    assert result.exit_code == 2
    assert f"{bad}: line 4: field 'date': not a date in format %Y%m%d" in result.output
    assert "'1997-13-45'" in result.output


def test_clv_fit_reports_a_missing_column(shared_data: Path) -> None:
    result = runner.invoke(
        clv_app,
        [
            "fit",
            "--transactions",
            str(shared_data / "cdnow" / "cdnow_sample.csv.gz"),
            *CDNOW_ARGS[:-2],
            "--calibration-end",
            "1997-09-30",
            "--amount-column",
            "price",
        ],
    )
    assert result.exit_code == 2
    assert "column(s) price not found" in result.output


def test_drivers_accepts_input_and_source(shared_data: Path, tmp_path: Path) -> None:
    path = str(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")
    out = tmp_path / "drivers.json"
    result = runner.invoke(
        drivers_app,
        [
            "--input",
            path,
            "--target",
            "Churn",
            "--drivers",
            "SatisfactionScore,Complain,Tenure",
            "--bootstrap",
            "10",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["method"] == "logistic"
    assert written["drivers"][0]["driver"] == "Tenure"
    assert sum(d["importance"] for d in written["drivers"]) == pytest.approx(written["r2"])
    again = runner.invoke(
        drivers_app,
        [
            "--source",
            path,
            "--target",
            "OrderCount",
            "--drivers",
            "CouponUsed,PreferedOrderCat",
            "--bootstrap",
            "0",
        ],
    )
    assert again.exit_code == 0, again.output
    assert "PreferedOrderCat" in again.output


def test_drivers_reports_an_unknown_target(shared_data: Path) -> None:
    path = str(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")
    result = runner.invoke(drivers_app, ["--input", path, "--target", "Rating"])
    assert result.exit_code == 2
    assert "column(s) Rating not found" in result.output
