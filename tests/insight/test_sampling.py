"""Deterministic hash samples."""

from __future__ import annotations

import ibis
import pytest

from manyi.insight.sampling import hash_sample


def table() -> ibis.Table:
    return ibis.memtable({"order_id": [f"o{i:03d}" for i in range(200)], "v": list(range(200))})


def test_the_same_rows_every_time_and_spread_over_the_table() -> None:
    # given 200 rows in key order
    con = ibis.duckdb.connect()
    first = con.execute(hash_sample(table(), "order_id", 20, engine="duckdb"))
    again = con.execute(hash_sample(table(), "order_id", 20, engine="duckdb"))
    # then 20 rows, the same ones twice, not simply the first 20 by key
    assert len(first) == 20
    assert sorted(first["order_id"]) == sorted(again["order_id"])
    assert first["v"].max() >= 100


def test_a_limit_above_the_size_keeps_everything_and_sqlite_takes_key_order() -> None:
    con = ibis.duckdb.connect()
    assert len(con.execute(hash_sample(table(), "order_id", 500, engine="duckdb"))) == 200
    lite = ibis.sqlite.connect()
    lite.create_table("t", table().to_pandas())
    got = lite.execute(hash_sample(lite.table("t"), "order_id", 5, engine="sqlite"))
    assert got["order_id"].tolist() == ["o000", "o001", "o002", "o003", "o004"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        hash_sample(table(), "order_id", 0, engine="duckdb")
