"""Turn analysis results (DataFrames, dataclasses, numpy scalars) into plain JSON values.

Examples
--------
>>> import pandas as pd
>>> from manyi.insight.report.jsonable import records
>>> records(pd.DataFrame({"a": [1.5, float("nan")]}))
[{'a': 1.5}, {'a': None}]
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (NaN/NA -> None, dates -> ISO strings)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.DataFrame):
        return records(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts."""
    return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
