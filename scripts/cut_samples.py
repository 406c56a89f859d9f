"""Cut the bundled real samples in ``src/manyi/data/samples/`` from ``../shared/data``.

Run from the repository root: ``python scripts/cut_samples.py``. The cut is deterministic
(seeded), so re-running it reproduces the same files byte for byte.

* ``olist/``: 3,000 orders drawn at random (seed 20171124) from the Olist 15k sample, with every
  row that belongs to them: their customers, order items, payments and reviews, the products and
  sellers their items name, and the category-name translation.
* ``cdnow/cdnow_sample.csv.gz``: the CDNOW 1/10 sample as it is (6,919 transactions of
  2,357 customers).
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "manyi" / "data" / "samples"
ORDERS = 3000
SEED = 20171124


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name in the header: byte-reproducible output.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(buffer.getvalue().encode("utf-8"))


def cut_olist() -> None:
    sample, full = SHARED / "olist" / "sample_15k", SHARED / "olist"
    oh, orders = read(sample / "olist_orders_dataset.csv.gz")
    chosen = random.Random(SEED).sample(orders, ORDERS)
    chosen.sort(key=lambda r: r[3])  # by purchase time, as a shop export would be
    ids = {r[0] for r in chosen}
    customers_ids = {r[1] for r in chosen}
    out = OUT / "olist"
    write(out / "olist_orders_dataset.csv.gz", oh, chosen)
    ch, customers = read(sample / "olist_customers_dataset.csv.gz")
    write(
        out / "olist_customers_dataset.csv.gz", ch, [r for r in customers if r[0] in customers_ids]
    )
    ih, items = read(sample / "olist_order_items_dataset.csv.gz")
    items = [r for r in items if r[0] in ids]
    write(out / "olist_order_items_dataset.csv.gz", ih, items)
    rh, reviews = read(sample / "olist_order_reviews_dataset.csv.gz")
    write(out / "olist_order_reviews_dataset.csv.gz", rh, [r for r in reviews if r[1] in ids])
    ph, payments = read(full / "olist_order_payments_dataset.csv.gz")
    write(out / "olist_order_payments_dataset.csv.gz", ph, [r for r in payments if r[0] in ids])
    product_ids, seller_ids = {r[2] for r in items}, {r[3] for r in items}
    prh, products = read(full / "olist_products_dataset.csv.gz")
    write(out / "olist_products_dataset.csv.gz", prh, [r for r in products if r[0] in product_ids])
    sh, sellers = read(full / "olist_sellers_dataset.csv.gz")
    write(out / "olist_sellers_dataset.csv.gz", sh, [r for r in sellers if r[0] in seller_ids])
    th, translation = read(full / "product_category_name_translation.csv.gz")
    write(out / "product_category_name_translation.csv.gz", th, translation)


def cut_cdnow() -> None:
    out = OUT / "cdnow"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHARED / "cdnow" / "cdnow_sample.csv.gz", out / "cdnow_sample.csv.gz")


if __name__ == "__main__":
    cut_olist()
    cut_cdnow()
