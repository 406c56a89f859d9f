"""Fixtures shared by the text tests."""

from __future__ import annotations

import pandas as pd
import pytest

from manyi.data.samples import sample_path


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
