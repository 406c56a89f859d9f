"""CLI tests of ``manyi sentiment`` and ``manyi train-sentiment``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from manyi.commands.sentiment import app
from manyi.commands.train import train_sentiment
from manyi.data.samples import sample_path

runner = CliRunner()


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "in.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_predict_adds_the_result_columns_in_chunks(tmp_path: Path) -> None:
    # given 300 real Chinese reviews plus an empty and a garbage row
    sample = pd.read_csv(sample_path("reviews_zh")).head(300)
    extra = pd.DataFrame({"cat": ["x", "x"], "label": [1, 0], "review": [None, "。。。"]})
    source = _write(tmp_path, pd.concat([sample, extra], ignore_index=True))
    out = tmp_path / "out.csv"
    # when predicted in chunks of 100
    result = runner.invoke(
        app, ["predict", "--input", str(source), "--text-column", "review",
              "--output", str(out), "--chunk-size", "100"],
    )  # fmt: skip
    # then every row is written once with the new columns
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored.columns) == [
        "cat", "label", "review", "sentiment", "p_positive", "aspects", "language",
    ]  # fmt: skip
    assert len(scored) == 302
    assert scored["review"].iloc[:300].tolist() == sample["review"].tolist()
    new_columns = ["sentiment", "p_positive", "aspects", "language"]
    assert scored.iloc[300:][new_columns].values.tolist() == [
        ["neutral", 0.5, "", "unknown"], ["neutral", 0.5, "", "unknown"],
    ]  # fmt: skip
    assert set(scored["sentiment"]) == {"negative", "neutral", "positive"}


def test_evaluate_prints_json_metrics_for_star_labels(tmp_path: Path) -> None:
    frame = pd.read_csv(sample_path("reviews_en")).head(400)
    source = tmp_path / "en.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        frame.to_csv(handle, index=False)
    result = runner.invoke(
        app, ["evaluate", "--input", str(source), "--text-column", "Review Text",
              "--title-column", "Title", "--label-column", "Rating", "--stars", "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    kept = frame[frame["Rating"] != 3]
    assert report["n"] == len(kept)
    assert report["skipped_three_star"] == int((frame["Rating"] == 3).sum())
    assert report["languages"] == {"en": len(kept) - report["undetermined"]}
    assert 0.85 <= report["accuracy"] <= 1.0
    assert report["reviews_per_second"] > 0


def test_a_missing_column_is_named_with_the_file(tmp_path: Path) -> None:
    source = _write(tmp_path, pd.DataFrame({"text": ["很好"]}))
    result = runner.invoke(
        app, ["predict", "--input", str(source), "--text-column", "review",
              "--output", str(tmp_path / "o.csv")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no column 'review'" in result.stderr
    assert str(source) in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_an_unreadable_label_names_row_field_and_reason(tmp_path: Path) -> None:
    source = _write(tmp_path, pd.DataFrame({"t": ["很好", "太差"], "y": ["1", "maybe"]}))
    result = runner.invoke(
        app, ["evaluate", "--input", str(source), "--text-column", "t", "--label-column", "y"]
    )
    assert result.exit_code == 2
    assert "row 3: field 'y': cannot read 'maybe' as a label" in result.stderr


def test_a_bad_language_is_refused() -> None:
    result = runner.invoke(
        app, ["evaluate", "--input", "x.csv", "--text-column", "t", "--label-column", "y",
              "--lang", "fr"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--lang must be auto, zh, en or pt" in result.stderr


@pytest.mark.slow
def test_train_sentiment_writes_the_portuguese_model(shared_data: Path, tmp_path: Path) -> None:
    cli = typer.Typer()
    cli.command()(train_sentiment)
    result = runner.invoke(
        cli, ["--lang", "pt", "--data-dir", str(shared_data), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pt.json", "pt.npz"]
    report = json.loads(result.stdout)
    written = json.loads((tmp_path / "pt.json").read_text("utf-8"))
    assert report["holdout"]["pt"] == written["holdout_metrics"]


def test_gbk_files_need_and_accept_their_encoding(tmp_path: Path) -> None:
    # given real Chinese reviews saved in GBK, as Chinese Excel does
    sample = pd.read_csv(sample_path("reviews_zh")).head(20)
    sample["review"] = sample["review"].str.lstrip("\ufeff")
    source = tmp_path / "gbk.csv"
    sample.to_csv(source, index=False, encoding="gbk", errors="replace")
    args = ["evaluate", "--input", str(source), "--text-column", "review",
            "--label-column", "label"]  # fmt: skip
    # when read as UTF-8 the error names the file and the way out
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "is not valid utf-8-sig; pass the file's encoding with --encoding" in refused.stderr
    # and with --encoding gbk every row is scored
    accepted = runner.invoke(app, [*args, "--encoding", "gbk"])
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["n"] == 20


def test_a_utf8_bom_before_the_header_is_not_part_of_the_column_name(tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    source.write_text("review,label\n物流很快，质量不错,1\n", encoding="utf-8-sig")
    result = runner.invoke(
        app, ["evaluate", "--input", str(source), "--text-column", "review",
              "--label-column", "label"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == 1.0
