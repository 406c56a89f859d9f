"""Sources and engines: the Olist mapping, the desk databases, files, and engine agreement."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
import pytest

from manyi.insight.cohorts import retention_by_first_rating
from manyi.insight.delivery import delivery_vs_rating, late_share_by
from manyi.insight.dsr import dsr_scores
from manyi.insight.errors import SourceError
from manyi.insight.ratings import rating_summary
from manyi.insight.repeat import repeat_by_first_rating
from manyi.insight.revenue_risk import revenue_at_risk
from manyi.insight.sources import Source, _local_time, open_source, zone_transitions


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("excel:/tmp/x", "cannot read source 'excel:/tmp/x'"),
        ("parquet:/no/such/dir", "directory /no/such/dir does not exist"),
        ("sqlite:////no/such.db", "database file /no/such.db does not exist"),
    ],
)
def test_bad_specs_are_rejected_clearly(spec: str, message: str) -> None:
    # given a spec that cannot be read / when it is opened / then the error says why
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_unknown_engine_and_missing_table_are_rejected(olist: Source, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown engine 'pandas'"):
        open_source(f"parquet:{tmp_path}", engine="pandas")
    with pytest.raises(SourceError, match="has no table 'survey_answers'"):
        olist.table("survey_answers")
    with pytest.raises(SourceError, match=r"no <table>\.parquet files"):
        open_source(f"parquet:{tmp_path}")


def test_parquet_and_csv_dirs_read_the_same_canonical_rows(
    olist_frames: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    # given the sample's canonical reviews and orders written as Parquet and as CSV
    for kind in ("parquet", "csv"):
        folder = tmp_path / kind
        folder.mkdir()
        for name in ("orders", "reviews"):
            frame = olist_frames[name]
            if kind == "parquet":
                frame.to_parquet(folder / f"{name}.parquet")
            else:
                frame.to_csv(folder / f"{name}.csv", index=False)
    # when the rating summary is computed from each
    results = [
        rating_summary(open_source(f"{kind}:{tmp_path / kind}")).iloc[0]
        for kind in ("parquet", "csv")
    ]
    # then both equal the counts of the frame itself
    counts = olist_frames["reviews"]["rating"].value_counts()
    for row in results:
        assert row["n"] == 14_944
        assert [row[f"n_{s}"] for s in range(1, 6)] == [counts[s] for s in range(1, 6)]


def _core_metrics(src: Source) -> dict[str, Any]:
    """The metrics whose engine results must agree."""
    delivery = delivery_vs_rating(src)
    monthly = rating_summary(src, by="month")
    monthly["period"] = pd.to_datetime(monthly["period"]).dt.date
    late = late_share_by(src, "month")
    late["period"] = pd.to_datetime(late["period"]).dt.date
    dsr = dsr_scores(src, source="reviews")
    risk = revenue_at_risk(src)
    return {
        "summary": rating_summary(src).iloc[0].to_dict(),
        "by_region": rating_summary(src, by="region")[["region", "n", "mean", "good"]],
        "by_month": monthly[["period", "n", "mean", "good_rate"]],
        "late_share": (delivery.late_share.value, delivery.late_share.n),
        "means": (
            delivery.on_time_mean.value,
            delivery.late_mean.value,
            delivery.late_bad_share.value,
        ),
        "buckets": delivery.buckets[["bucket", "orders", "n", "mean"]],
        "late_by_month": late[["period", "orders", "late"]],
        "repeat": repeat_by_first_rating(src)[
            ["tier", "customers", "repeaters", "revenue_per_customer"]
        ],
        "retention": retention_by_first_rating(src, months=6)[
            ["tier", "month", "eligible", "retained"]
        ],
        "dsr": (len(dsr), int(dsr["n"].sum()), float(dsr["score"].mean())),
        "revenue_at_risk": (risk.at_risk_customers, risk.revenue_at_risk),
    }


def _assert_same(a: dict[str, Any], b: dict[str, Any], engine: str) -> None:
    for key, left in a.items():
        right = b[key]
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(
                left.reset_index(drop=True),
                right.reset_index(drop=True),
                check_dtype=False,
                rtol=1e-9,
                obj=f"{engine}: {key}",
            )
        elif isinstance(left, dict):
            for k, v in left.items():
                assert v == pytest.approx(right[k], rel=1e-9), f"{engine}: {key}.{k}"
        else:
            assert all(
                math.isclose(x, y, rel_tol=1e-9) for x, y in zip(left, right, strict=True)
            ), f"{engine}: {key} {left} != {right}"


@pytest.mark.slow
def test_core_metrics_agree_on_duckdb_sqlite_postgres_and_spark(
    olist: Source,
    olist_frames: dict[str, pd.DataFrame],
    tmp_path: Path,
    pg_url: str,
    spark_session: Any,
    helpers: SimpleNamespace,
) -> None:
    # given the Olist sample on DuckDB, and copied into SQLite and PostgreSQL laid out as the desk
    # stores it (naive-UTC text / timestamptz, decimals, a surrogate id column)
    frames = {
        k: v
        for k, v in olist_frames.items()
        if k in ("customers", "orders", "order_items", "reviews", "products")
    }
    db = tmp_path / "desk.sqlite3"
    helpers.write_sqlite(db, frames)
    helpers.write_postgres(pg_url, frames)
    zone = olist.timezone
    openers: dict[str, Callable[[], Source]] = {
        "sqlite": lambda: open_source(f"sqlite:///{db}", engine="sqlite", timezone=zone),
        "duckdb over sqlite": lambda: open_source(f"sqlite:///{db}", timezone=zone),
        "postgres": lambda: open_source(pg_url, engine="postgres", timezone=zone),
        "duckdb over postgres": lambda: open_source(pg_url, timezone=zone),
        "spark": lambda: open_source(
            f"sqlite:///{db}", engine="spark", timezone=zone, spark_session=spark_session
        ),
    }
    # when the core metrics run on each engine
    expected = _core_metrics(olist)
    for engine, opener in openers.items():
        src = opener()
        try:
            got = _core_metrics(src)
        finally:
            src.close()
        # then every figure equals DuckDB's
        _assert_same(expected, got, engine)


def test_duckdb_memory_limit_and_threads_are_applied(olist_dir: Path) -> None:
    # given a source opened with a memory limit and one thread
    src = open_source(f"olist:{olist_dir}", memory_limit="1GB", threads=1)
    settings = src.con.raw_sql(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchall()
    # then DuckDB runs with them, and bad values are refused before anything is opened
    assert settings == [("953.6 MiB", 1)]
    src.close()
    with pytest.raises(SourceError, match="write it like 3GB"):
        open_source(f"olist:{olist_dir}", memory_limit="lots")
    with pytest.raises(SourceError, match="threads must be at least 1"):
        open_source(f"olist:{olist_dir}", threads=0)


def test_duckdb_zone_macro_equals_the_inline_offset_tree_and_zoneinfo(
    make_source: Callable[..., Source],
) -> None:
    # given a São Paulo source on DuckDB and instants a second before, at and after each of the
    # zone's offset changes from 1900 to 2100, and in the middle of each period
    src = make_source(timezone="America/Sao_Paulo", orders=[])
    changes = [at for at, _ in zone_transitions("America/Sao_Paulo")]
    edges = sorted({at + d for at in changes for d in (-1, 0, 1)})
    middles = [(a + b) // 2 for a, b in itertools.pairwise(changes)]
    t = ibis.memtable({"ts": pd.to_datetime(edges + middles, unit="s", utc=True)})
    # when DuckDB takes their wall-clock time through the macro (Source.local_time)
    got = src.execute(t.select(x=src.local_time(t.ts)))["x"].tolist()
    # then every one equals the offset tree spelled out in the query, as before the macro
    inline = src.execute(t.select(x=_local_time("duckdb", t.ts, "America/Sao_Paulo")))["x"]
    assert len(got) > 300
    assert got == inline.tolist()
    # and away from the changes, Python's zoneinfo
    zone = ZoneInfo("America/Sao_Paulo")
    want = [
        datetime.fromtimestamp(s, tz=UTC).astimezone(zone).replace(tzinfo=None) for s in middles
    ]
    assert [x.to_pydatetime() for x in got[len(edges) :]] == want
