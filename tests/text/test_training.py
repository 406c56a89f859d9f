"""Metrics and the training function behind ``manyi train-sentiment``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from manyi.text.training import evaluate_predictions, train_language


def test_metrics_on_a_hand_checked_example() -> None:
    # truth 1,1,1,0 ; predicted 1,0,1,0 -> accuracy 3/4
    # class 1: tp 2, fp 0, fn 1 -> F1 0.8 ; class 0: tp 1, fp 1, fn 0 -> F1 2/3
    result = evaluate_predictions(np.array([1, 1, 1, 0]), np.array([0.9, 0.2, 0.6, 0.1]))
    assert result.accuracy == 0.75
    assert result.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert (result.recall_negative, result.recall_positive) == (1.0, pytest.approx(2 / 3))


def test_metrics_of_nothing_are_nan() -> None:
    assert math.isnan(evaluate_predictions(np.array([]), np.array([])).accuracy)


@pytest.mark.slow
def test_training_portuguese_reproduces_the_shipped_model(
    shared_data: Path, tmp_path: Path
) -> None:
    # given the shipped metadata; when the Portuguese model is retrained from the data
    from importlib import resources

    shipped = json.loads((resources.files("manyi.text.models") / "pt.json").read_text("utf-8"))
    meta = train_language("pt", shared_data, tmp_path)
    # then the split, the threshold and the held-out figures are the same
    written = json.loads((tmp_path / "pt.json").read_text("utf-8"))
    assert meta["holdout_metrics"] == shipped["holdout_metrics"]
    assert written["threshold"] == shipped["threshold"]
    assert written["n_features"] == shipped["n_features"]
    assert written["data"] == shipped["data"]
