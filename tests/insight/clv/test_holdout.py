from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

from manyi.insight.clv.bgnbd import BetaGeoModel
from manyi.insight.clv.holdout import check_holdout, track_cumulative_transactions
from manyi.insight.clv.rfm import repeat_transactions_by_period, summarise_calibration_holdout


def read_cdnow(shared_data: Path) -> ibis.Table:
    frame = pd.read_csv(
        shared_data / "cdnow" / "cdnow_sample.csv.gz",
        dtype={"customer_id": str, "customer_id_master": str},
    )
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d").dt.date
    return ibis.memtable(frame)


def test_cumulative_repeat_transactions_at_week_78(shared_data: Path) -> None:
    # given BG/NBD fitted on 39 weeks and the weekly repeat transactions over 78 weeks
    table = read_cdnow(shared_data)
    s = summarise_calibration_holdout(
        table,
        customer_column="customer_id",
        date_column="date",
        amount_column="dollar_value",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    ).to_pandas()
    model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    weekly = repeat_transactions_by_period(
        table, customer_column="customer_id", date_column="date", observation_end="1998-06-30"
    ).to_pandas()
    # when the tracking table is built
    track = track_cumulative_transactions(model, s.T_cal, weekly)
    week78 = track.iloc[-1]
    # then the paper's figure: about 4,166 expected against 4,339 actual
    assert week78.period == 78
    assert week78.actual_cumulative == 4339
    assert week78.expected_cumulative == pytest.approx(4166, abs=1)
    # and week 39 is the end of calibration: 2,457 actual repeat transactions
    assert track.iloc[38].actual_cumulative == 2457


def test_holdout_check_by_frequency_adds_up(shared_data: Path) -> None:
    table = read_cdnow(shared_data)
    s = summarise_calibration_holdout(
        table,
        customer_column="customer_id",
        date_column="date",
        amount_column="dollar_value",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    ).to_pandas()
    model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    check = check_holdout(model, s)
    by = check.by_frequency
    assert by.frequency_cal.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert int(by.customers.sum()) == 2357
    assert (by.actual * by.customers).sum() == pytest.approx(1882)
    assert check.actual_total == 1882
    assert (by.expected * by.customers).sum() == pytest.approx(check.expected_total)
    # zero-repeat customers: the model's expectation is within 0.02 of what happened
    assert by.expected.iloc[0] == pytest.approx(by.actual.iloc[0], abs=0.02)
