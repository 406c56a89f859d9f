"""Fixtures shared by the text tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from manyi.data.samples import sample_path
from manyi.text.sentiment import SentimentModel


@pytest.fixture(scope="module")
def en_sample() -> pd.DataFrame:
    """The bundled English reviews as the English model reads them: title + ". " + text,
    1-2 stars negative (0), 4-5 positive (1), three-star reviews left out."""
    frame = pd.read_csv(sample_path("reviews_en")).dropna(subset=["Review Text"])
    frame = frame[frame["Rating"] != 3]
    return pd.DataFrame(
        {
            "text": (frame["Title"].fillna("") + ". " + frame["Review Text"]).tolist(),
            "label": (frame["Rating"] >= 4).astype(int).tolist(),
        }
    )


@pytest.fixture
def saved_and_loaded(
    tmp_path: Path,
) -> Callable[[SentimentModel], tuple[dict[str, Any], SentimentModel]]:
    """``saved_and_loaded(model)``: save the model's two files, read them back; returns the
    stored metadata and the loaded model."""

    def round_trip(model: SentimentModel) -> tuple[dict[str, Any], SentimentModel]:
        model.save(tmp_path)
        meta = json.loads((tmp_path / f"{model.lang}.json").read_text("utf-8"))
        return meta, SentimentModel.from_files(tmp_path / f"{model.lang}.npz", meta)

    return round_trip
