"""The bundled CDNOW sample as a calibration/holdout summary, for examples and the demo.

The CDNOW 1/10 sample (2,357 customers who first bought in the first quarter of 1997,
followed to the end of June 1998) is the data of the BG/NBD paper.  The split used in the
papers is a 39-week calibration period ending on 1997-09-30 and a 39-week holdout.
"""

from __future__ import annotations

import functools

import ibis
import pandas as pd

from manyi.data.samples import sample_path
from manyi.insight.clv.rfm import summarise_calibration_holdout

CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def read_cdnow_transactions() -> pd.DataFrame:
    """The bundled CDNOW transactions with the date parsed and ids kept as text.

    Examples
    --------
    >>> read_cdnow_transactions().shape
    (6919, 5)
    """
    frame = pd.read_csv(sample_path("cdnow"), dtype={"customer_id": str, "customer_id_master": str})
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d").dt.date
    return frame


@functools.cache
def _summary() -> pd.DataFrame:
    table = ibis.memtable(read_cdnow_transactions())
    summary = summarise_calibration_holdout(
        table,
        customer_column="customer_id",
        date_column="date",
        amount_column="dollar_value",
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
        time_unit="W",
    )
    frame: pd.DataFrame = summary.to_pandas()
    return frame.sort_values("customer").reset_index(drop=True)


def load_cdnow_summary() -> pd.DataFrame:
    """Calibration (39 weeks to 1997-09-30) and holdout summary of the bundled CDNOW sample.

    Returns
    -------
    pandas.DataFrame
        One row per customer, columns of
        :func:`manyi.insight.clv.rfm.summarise_calibration_holdout`, in weeks.

    Examples
    --------
    >>> s = load_cdnow_summary()
    >>> len(s), int(s.frequency_cal.sum()), int(s.frequency_holdout.sum())
    (2357, 2457, 1882)
    """
    return _summary().copy()
