"""Plain JSON values from analysis results."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from manyi.insight.intervals import Estimate
from manyi.insight.report.jsonable import plain, records


def test_plain_converts_every_kind() -> None:
    assert plain(Estimate(0.5, 10, 0.2, 0.8)) == {"value": 0.5, "n": 10, "low": 0.2, "high": 0.8}
    assert plain(np.int64(3)) == 3
    assert isinstance(plain(np.int64(3)), int)
    assert plain(float("nan")) is None
    assert plain(pd.NA) is None
    assert plain(pd.NaT) is None
    assert plain(pd.Timestamp("2024-01-01")) == "2024-01-01"
    assert plain(datetime(2024, 1, 1, 12, tzinfo=UTC)) == "2024-01-01T12:00:00+00:00"
    assert plain(date(2024, 1, 2)) == "2024-01-02"
    assert plain({"a": (1, 2)}) == {"a": [1, 2]}


def test_records_of_an_empty_frame() -> None:
    assert records(pd.DataFrame(columns=["a"])) == []
