"""The Olist file set read directly as canonical tables (``olist:DIR``)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd

from manyi.insight.sources import Source, open_source


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_olist_orders_map_to_the_person_and_to_utc(olist: Source, olist_dir: Path) -> None:
    # given the raw Olist order and customer files
    raw = _csv(olist_dir / "olist_orders_dataset.csv.gz")
    people = _csv(olist_dir / "olist_customers_dataset.csv.gz")
    person = dict(zip(people["customer_id"], people["customer_unique_id"], strict=True))
    # when the canonical orders are read
    orders = olist.execute(olist.table("orders")).set_index("order_id")
    # then customer_id is the person and São Paulo wall time became UTC (UTC-3, or -2 in DST)
    assert len(orders) == len(raw) == 15_000
    first = raw.iloc[0]
    row = orders.loc[first["order_id"]]
    assert row["customer_id"] == person[first["customer_id"]]
    assert row["source_customer_id"] == first["customer_id"]
    local = pd.Timestamp(first["order_purchase_timestamp"]).tz_localize("America/Sao_Paulo")
    assert row["purchased_at"] == local.tz_convert("UTC")
    assert str(row["purchased_at"].tz) == "UTC"
    assert olist.table("customers").count().execute() == people["customer_unique_id"].nunique()


def test_olist_reviews_keep_every_row_and_map_score(olist: Source, olist_dir: Path) -> None:
    # given the raw review file
    raw = _csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    # when the canonical reviews are read
    reviews = olist.execute(olist.table("reviews"))
    # then every (review_id, order_id) row is there with rating = review_score
    assert len(reviews) == len(raw) == 14_944
    merged = reviews.merge(raw, on=["review_id", "order_id"])
    assert (merged["rating"] == merged["review_score"].astype(int)).all()
    assert set(reviews["source"]) == {"olist"}


def test_olist_reads_plain_csv_too(tmp_path: Path, olist_dir: Path) -> None:
    # given the sample decompressed into plain CSV files next to nothing else
    for f in olist_dir.glob("*.csv.gz"):
        with gzip.open(f, "rb") as src, open(tmp_path / f.name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    # when it is opened
    src = open_source(f"olist:{tmp_path}")
    # then the tables the folder holds are there, and the parent's missing ones are not invented
    assert src.table("orders").count().execute() == 15_000
    assert not src.has("payments")
    src.close()
