from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from manyi.insight.clv.rfm import (
    repeat_transactions_by_period,
    summarise_calibration_holdout,
    summarise_transactions,
)


def read_cdnow(shared_data: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        shared_data / "cdnow" / "cdnow_sample.csv.gz",
        dtype={"customer_id": str, "customer_id_master": str},
    )
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d").dt.date
    return frame


def split(table: ibis.Table) -> pd.DataFrame:
    return (
        summarise_calibration_holdout(
            table,
            customer_column="customer_id",
            date_column="date",
            amount_column="dollar_value",
            calibration_end="1997-09-30",
            observation_end="1998-06-30",
            time_unit="W",
        )
        .to_pandas()
        .sort_values("customer")
        .reset_index(drop=True)
    )


def test_calibration_summary_matches_the_published_cdnow_summary(shared_data: Path) -> None:
    # given the raw CDNOW transactions in DuckDB
    con = ibis.duckdb.connect()
    summary = split(con.create_table("tx", read_cdnow(shared_data)))
    # then x, t_x, T and zbar equal Hardie's summary file (rounded there to 2 decimals)
    ref = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    assert summary.frequency_cal.tolist() == ref.x.tolist()
    assert np.abs(summary.recency_cal - ref.t_x).max() <= 0.005
    assert np.abs(summary.T_cal - ref["T"]).max() <= 0.005
    assert np.abs(summary.monetary_value_cal - ref.zbar).max() <= 0.005 + 1e-9
    assert int(summary.frequency_cal.sum()) == 2457
    assert int(summary.frequency_holdout.sum()) == 1882
    assert summary.duration_holdout.unique().tolist() == [39.0]


def test_sqlite_gives_the_same_summary_as_duckdb(shared_data: Path) -> None:
    frame = read_cdnow(shared_data)
    schema = ibis.schema(
        {
            "customer_id_master": "string",
            "customer_id": "string",
            "date": "date",
            "number_of_cds": "int64",
            "dollar_value": "float64",
        }
    )
    sqlite = ibis.sqlite.connect()
    sqlite.create_table("tx", frame, schema=schema)
    duck = ibis.duckdb.connect()
    pd.testing.assert_frame_equal(
        split(sqlite.table("tx")), split(duck.create_table("tx", frame)), check_dtype=False
    )


def test_same_day_purchases_are_one_transaction_and_units_scale() -> None:
    # given a customer who buys twice on 1 January and once on 15 January
    stamps = [
        dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 1, 20, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 15, 12, tzinfo=dt.UTC),
    ]
    t = ibis.memtable({"c": ["a", "a", "a"], "v": [10.0, 5.0, 30.0], "d": stamps})
    rows = {}
    for unit in ("D", "W", "M"):
        rows[unit] = (
            summarise_transactions(
                t,
                customer_column="c",
                date_column="d",
                amount_column="v",
                observation_end="2024-01-29",
                time_unit=unit,
            )
            .to_pandas()
            .iloc[0]
        )
    # then there is one repeat transaction worth 30, 14 days after the first, age 28 days
    assert rows["D"].frequency == 1
    assert rows["D"].monetary_value == 30.0
    assert (rows["D"]["recency"], rows["D"]["T"]) == (14.0, 28.0)
    assert (rows["W"]["recency"], rows["W"]["T"]) == (2.0, 4.0)
    assert rows["M"]["T"] == pytest.approx(28 / (365.25 / 12))


def test_string_dates_with_a_format_on_duckdb(shared_data: Path) -> None:
    raw = pd.read_csv(shared_data / "cdnow" / "cdnow_sample.csv.gz")
    table = ibis.duckdb.connect().create_table("raw", raw)
    summary = summarise_transactions(
        table,
        customer_column="customer_id",
        date_column="date",
        date_format="%Y%m%d",
        amount_column="dollar_value",
        observation_end="1997-09-30",
    ).to_pandas()
    assert len(summary) == 2357
    assert int(summary.frequency.sum()) == 2457


def test_repeat_transactions_by_period_counts_every_repeat(shared_data: Path) -> None:
    table = ibis.memtable(read_cdnow(shared_data))
    weekly = repeat_transactions_by_period(
        table, customer_column="customer_id", date_column="date", observation_end="1998-06-30"
    )
    frame = weekly.to_pandas()
    # 2457 calibration + 1882 holdout repeat transactions in 78 weeks
    assert int(frame.repeat_transactions.sum()) == 4339
    assert frame.period.between(1, 78).all()
    assert frame.period.max() == 78
