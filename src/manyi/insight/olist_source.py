"""Read an Olist Kaggle file set directly as the canonical tables (DuckDB views).

The directory holds ``olist_<name>_dataset.csv`` (gzip or plain); files it lacks (products,
sellers, payments, the category-name translation) are looked up in its parent directory, as in
the 15k sample layout. The mapping:

* ``customer_id`` is ``customer_unique_id`` (the person); Olist's per-order customer id is kept
  as ``orders.source_customer_id``.
* Olist records São Paulo wall-clock time; every timestamp is converted to UTC.
* reviews: ``rating = review_score``, ``created_at = review_creation_date``,
  ``answered_at = review_answer_timestamp``, ``language = 'pt'``, ``source = 'olist'``.
* products, sellers and payments are limited to those the orders refer to, so a sample stays
  referentially complete.

Examples
--------
>>> import ibis
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.olist_source import register_olist
>>> tables = register_olist(ibis.duckdb.connect(), sample_path("olist"))
>>> sorted(tables)
['customers', 'order_items', 'orders', 'payments', 'products', 'reviews', 'sellers']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from manyi.insight.errors import SourceError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend as DuckDBBackend

OLIST_TIMEZONE = "America/Sao_Paulo"

_FILES = {
    "customers": "olist_customers_dataset",
    "orders": "olist_orders_dataset",
    "order_items": "olist_order_items_dataset",
    "reviews": "olist_order_reviews_dataset",
    "products": "olist_products_dataset",
    "sellers": "olist_sellers_dataset",
    "payments": "olist_order_payments_dataset",
    "translation": "product_category_name_translation",
}
_REQUIRED = ("customers", "orders", "order_items")


def find_olist_files(directory: str | Path) -> dict[str, Path]:
    """Locate the Olist files in ``directory`` (then its parent), gzip or plain CSV."""
    directory = Path(directory)
    found: dict[str, Path] = {}
    for key, stem in _FILES.items():
        for folder in (directory, directory.parent):
            for suffix in (".csv.gz", ".csv"):
                candidate = folder / f"{stem}{suffix}"
                if candidate.is_file():
                    found[key] = candidate
                    break
            if key in found:
                break
    missing = [k for k in _REQUIRED if k not in found]
    if missing:
        names = ", ".join(f"{_FILES[k]}.csv[.gz]" for k in missing)
        raise SourceError(f"olist:{directory}: missing {names}")
    return found


def _csv(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    return f"read_csv('{quoted}', header = true, all_varchar = true, quote = '\"')"


def _ts(column: str) -> str:
    # Olist's wall-clock São Paulo time -> UTC instant (DST-aware: DuckDB's ICU time zones).
    return f"timezone('{OLIST_TIMEZONE}', TRY_CAST(NULLIF({column}, '') AS TIMESTAMP))"


def register_olist(con: DuckDBBackend, directory: str | Path) -> dict[str, ir.Table]:
    """Create the canonical tables of an Olist file set as views on ``con``.

    Parameters
    ----------
    con
        An Ibis DuckDB connection.
    directory
        The directory with the Olist CSV files.

    Returns
    -------
    dict
        Canonical table name -> Ibis table.
    """
    files = find_olist_files(directory)
    sql = con.raw_sql
    for view, key in (
        ("olist_raw_customers", "customers"),
        ("olist_raw_orders", "orders"),
        ("olist_raw_items", "order_items"),
    ):
        sql(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {_csv(files[key])}")
    sql(
        f"CREATE OR REPLACE TEMP VIEW olist_raw_items AS SELECT * FROM {_csv(files['order_items'])}"
    )
    sql(
        """
        CREATE OR REPLACE TEMP TABLE order_items AS
        SELECT order_id, CAST(order_item_id AS BIGINT) AS line_no, product_id, seller_id,
               CAST(price AS DECIMAL(12, 2)) AS price,
               CAST(freight_value AS DECIMAL(12, 2)) AS freight,
               """
        + _ts("shipping_limit_date")
        + """ AS shipping_limit_at
        FROM olist_raw_items
        """
    )
    sql(
        """
        CREATE OR REPLACE TEMP TABLE orders AS
        WITH totals AS (
            SELECT order_id, SUM(price) AS item_total, SUM(freight) AS freight_total
            FROM order_items GROUP BY order_id
        )
        SELECT o.order_id, c.customer_unique_id AS customer_id, o.customer_id AS source_customer_id,
               o.order_status AS status,
               """
        + f"""{_ts("o.order_purchase_timestamp")} AS purchased_at,
               {_ts("o.order_approved_at")} AS approved_at,
               {_ts("o.order_delivered_carrier_date")} AS shipped_at,
               {_ts("o.order_delivered_customer_date")} AS delivered_at,
               {_ts("o.order_estimated_delivery_date")} AS estimated_delivery_at,
               'BRL' AS currency,
               COALESCE(t.item_total, 0) AS item_total,
               COALESCE(t.freight_total, 0) AS freight_total
        FROM olist_raw_orders o
        JOIN olist_raw_customers c ON c.customer_id = o.customer_id
        LEFT JOIN totals t ON t.order_id = o.order_id
        """
    )
    sql(
        """
        CREATE OR REPLACE TEMP TABLE customers AS
        SELECT c.customer_unique_id AS customer_id,
               arg_min(c.customer_state, o.purchased_at) AS region,
               arg_min(c.customer_city, o.purchased_at) AS city,
               arg_min(c.customer_zip_code_prefix, o.purchased_at) AS zip_code,
               MIN(o.purchased_at) AS created_at
        FROM olist_raw_customers c
        LEFT JOIN orders o ON o.source_customer_id = c.customer_id
        GROUP BY c.customer_unique_id
        """
    )
    names = ["customers", "orders", "order_items"]
    if "reviews" in files:
        sql(
            f"""
            CREATE OR REPLACE TEMP TABLE reviews AS
            SELECT review_id, order_id, CAST(review_score AS BIGINT) AS rating,
                   NULLIF(review_comment_title, '') AS title,
                   NULLIF(review_comment_message, '') AS body,
                   'pt' AS language,
                   {_ts("review_creation_date")} AS created_at,
                   {_ts("review_answer_timestamp")} AS answered_at,
                   'olist' AS source
            FROM {_csv(files["reviews"])}
            """
        )
        names.append("reviews")
    if "products" in files:
        if "translation" in files:
            translation = (
                "SELECT product_category_name AS pt, product_category_name_english AS en "
                f"FROM {_csv(files['translation'])}"
            )
        else:
            translation = "SELECT NULL::VARCHAR AS pt, NULL::VARCHAR AS en WHERE false"
        sql(
            f"""
            CREATE OR REPLACE TEMP TABLE products AS
            WITH tr AS ({translation})
            SELECT p.product_id, NULLIF(p.product_category_name, '') AS category,
                   tr.en AS category_en,
                   TRY_CAST(p.product_weight_g AS BIGINT) AS weight_g,
                   TRY_CAST(p.product_length_cm AS BIGINT) AS length_cm,
                   TRY_CAST(p.product_height_cm AS BIGINT) AS height_cm,
                   TRY_CAST(p.product_width_cm AS BIGINT) AS width_cm,
                   TRY_CAST(p.product_photos_qty AS BIGINT) AS photos_qty,
                   TRY_CAST(p.product_name_lenght AS BIGINT) AS name_length,
                   TRY_CAST(p.product_description_lenght AS BIGINT) AS description_length
            FROM {_csv(files["products"])} p
            LEFT JOIN tr ON tr.pt = p.product_category_name
            WHERE p.product_id IN (SELECT product_id FROM olist_raw_items)
            """
        )
        names.append("products")
    if "sellers" in files:
        sql(
            f"""
            CREATE OR REPLACE TEMP TABLE sellers AS
            SELECT seller_id, seller_state AS region, seller_city AS city,
                   seller_zip_code_prefix AS zip_code
            FROM {_csv(files["sellers"])}
            WHERE seller_id IN (SELECT seller_id FROM olist_raw_items)
            """
        )
        names.append("sellers")
    if "payments" in files:
        sql(
            f"""
            CREATE OR REPLACE TEMP TABLE payments AS
            SELECT order_id, CAST(payment_sequential AS BIGINT) AS seq, payment_type AS method,
                   CAST(payment_installments AS BIGINT) AS installments,
                   CAST(payment_value AS DECIMAL(12, 2)) AS amount
            FROM {_csv(files["payments"])}
            WHERE order_id IN (SELECT order_id FROM olist_raw_orders)
            """
        )
        names.append("payments")
    return {name: con.table(name) for name in names}
