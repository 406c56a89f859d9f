"""Benchmark: the full satisfaction report on 1M and 10M orders, DuckDB vs pandas.

The data come from ``manyi.data.synth.generate_canonical`` (real Olist orders replicated with
new keys and shifted dates, written as canonical Parquet; the generator leaves the order totals
empty, so they are derived from the order lines as an import does). Generation runs at
``nice 19``; the measurements at the caller's priority. Three runs per size, each in a fresh
process:

* ``manyi`` — ``open_source("parquet:DIR")`` on DuckDB with 2 threads and a 2.5 GB memory
  limit (``manyi report --threads 2 --memory-limit 2500MB``), every section of the report
  (ratings by month/region/category, delivery, review texts, key drivers, DSR per seller,
  repeat purchase, retention, revenue at risk, value by first-order tier), rendered to HTML and
  JSON: what ``manyi report`` does;
* ``pandas`` — the same figures written the way an analyst would: ``pd.read_parquet`` of the
  columns needed, ``merge`` and ``groupby``; for the text, driver and CLV sections the same
  sample sizes and the same model code (``manyi.text``, ``manyi.insight.drivers``,
  ``manyi.insight.clv``) on frames built with pandas, so the difference is the data work;
* ``pandas-arrow`` — the same code with Arrow-backed strings
  (``pd.options.future.infer_string``, the default of pandas 3).

Both print headline figures, checked equal before the timings are reported (the sampled
sections pick different rows, so only their counts before sampling are compared).

Each run reports its wall time (process start to exit), its CPU time (user + system of all
its threads, from ``os.wait4``), its peak resident memory and the 1-minute load average when
it started. On a machine shared with other jobs CPU time is the steadier figure; pandas runs
on one core, so its CPU time is about its wall time on a quiet machine, while DuckDB runs two
threads and its CPU time exceeds its wall time. A parent process polls the worker's resident
memory (``/proc/PID/status`` VmRSS) every 0.2 s and kills it past ``--pandas-rss-gb``
(default 16) or when the machine has less than ``--min-available-gb`` left; the run then
reports how far it got.

Reproduce::

    .venv/bin/python benchmarks/report_full.py --orders 1000000 10000000

(generated data are cached under ``--data`` (default ``benchmarks/out``, git-ignored); 10M
orders take about 3 GB of Parquet and ~17 minutes to generate on a quiet machine. The figures
of every run go to ``DATA/report_full.json``.) Where the generator cannot finish in time (a
busy machine), ``--replicate benchmarks/out/orders_1000000 10 DIR/orders_10000000`` writes ten
copies of the 1M set in a minute (see :func:`replicate`); then pass ``--data DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ZONE = "America/Sao_Paulo"
DAY = 86_400


def generate(folder: Path, orders: int) -> None:
    from manyi.data.synth import generate_canonical

    if not (folder / "reviews.parquet").is_file():
        t0 = time.perf_counter()
        generate_canonical(folder, orders=orders, seed=0)
        print(f"generated {orders:,} orders into {folder} in {time.perf_counter() - t0:.0f} s")
    add_order_totals(folder)


def add_order_totals(folder: Path) -> None:
    """Fill ``item_total`` / ``freight_total`` from the order lines, as an import does.

    ``generate_canonical`` writes the orders without them (the desk's upsert derives them), and
    without them every revenue figure of the report would be 0.
    """
    import duckdb

    orders = folder / "orders.parquet"
    con = duckdb.connect()
    con.execute("SET threads = 2; SET memory_limit = '3GB'")
    if con.sql(f"SELECT count(item_total) FROM '{orders}'").fetchone()[0]:  # type: ignore[index]
        return
    t0 = time.perf_counter()
    scratch = folder / "orders.with_totals.parquet"
    con.execute(
        f"""COPY (
            SELECT o.* REPLACE (
                CAST(COALESCE(t.items, 0) AS DECIMAL(14, 2)) AS item_total,
                CAST(COALESCE(t.freight, 0) AS DECIMAL(14, 2)) AS freight_total)
            FROM '{orders}' o
            LEFT JOIN (SELECT order_id, SUM(price) AS items, SUM(freight) AS freight
                       FROM '{folder / "order_items.parquet"}' GROUP BY order_id) t
            USING (order_id)
        ) TO '{scratch}' (FORMAT parquet)"""
    )
    scratch.replace(orders)
    print(f"derived order totals in {folder} in {time.perf_counter() - t0:.0f} s")


#: Columns holding ids that get a new first character in each copy, per canonical table.
COPIED_IDS = {
    "customers": ("customer_id",),
    "orders": ("order_id", "customer_id", "source_customer_id"),
    "order_items": ("order_id",),
    "payments": ("order_id",),
    "reviews": ("review_id", "order_id"),
}


def replicate(source: Path, folder: Path, copies: int) -> None:
    """Write ``copies`` copies of the generated set ``source`` into ``folder``, in DuckDB.

    For a machine too busy to run the generator at 10M orders in time (its row-by-row import
    path took over two hours at ``nice 19`` next to other jobs): the generator's own rule one
    level up. Copy ``k`` (0 = the original) replaces the first hex digit of every order,
    customer and review id by ``k`` (the generator's ids all start with ``0``: its replica
    prefix), and keeps every other value, dates included; products and sellers are shared.
    """
    import duckdb

    if not 1 <= copies <= 16:
        raise SystemExit("copies must be 1-16 (one hex digit)")
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2; SET memory_limit = '3GB'")
    for name in (
        "customers",
        "orders",
        "order_items",
        "payments",
        "reviews",
        "products",
        "sellers",
    ):
        path = source / f"{name}.parquet"
        ids = COPIED_IDS.get(name)
        if not ids:
            con.execute(f"COPY (SELECT * FROM '{path}') TO '{folder / path.name}' (FORMAT parquet)")
            continue
        starts = con.sql(
            f"SELECT count(*) FROM '{path}' WHERE "
            + " OR ".join(f"NOT starts_with({c}, '0')" for c in ids)
        ).fetchone()
        if starts and starts[0]:
            raise SystemExit(f"{path}: ids not starting with 0; not a generated set")
        parts = [
            "SELECT * REPLACE ("
            + ", ".join(f"'{k:x}' || substr({c}, 2) AS {c}" for c in ids)
            + f") FROM '{path}'"
            for k in range(copies)
        ]
        con.execute(
            f"COPY ({' UNION ALL '.join(parts)}) TO '{folder / path.name}' (FORMAT parquet)"
        )
    print(f"wrote {copies} copies of {source} into {folder}")


# --- the product -----------------------------------------------------------------------------


KINDS = ("manyi", "pandas", "pandas-arrow")


def run_manyi(folder: Path, note: Callable[[str], None]) -> dict[str, Any]:
    from manyi.insight.report.build import build_report
    from manyi.insight.report.html import render_html
    from manyi.insight.sources import open_source

    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def tick(section: Any) -> None:
        now = time.perf_counter()
        seconds[section.key] = now - clock[0]
        clock[0] = now
        note(f"the report, after section {section.key}")

    src = open_source(f"parquet:{folder}", timezone=ZONE, threads=2, memory_limit="2500MB")
    try:
        doc = build_report(src, on_section=tick)
    finally:
        src.close()
    page = render_html(doc, lang="en")
    (folder.parent / f"{folder.name}.html").write_text(page, encoding="utf-8")
    (folder.parent / f"{folder.name}.json").write_text(json.dumps(doc), encoding="utf-8")
    s = doc["sections"]
    tiers = {t["tier"]: t for t in s["repeat"]["data"]["tiers"]}
    value = {t["tier"]: t for t in s["satisfaction_value"]["data"]["tiers"]}
    return {
        "reviews": s["ratings"]["data"]["summary"]["n"],
        "mean_rating": s["ratings"]["data"]["summary"]["mean"],
        "good_rate": s["ratings"]["data"]["summary"]["good_rate"],
        "late_share": s["delivery"]["data"]["late_share"]["value"],
        "late_mean": s["delivery"]["data"]["late_mean"]["value"],
        "repeaters_4_5": tiers["4-5"]["repeaters"],
        "dsr_sellers": len(s["shop_ratings"]["data"]["scores"]),
        "at_risk": s["revenue_risk"]["data"]["at_risk_customers"],
        "reviews_with_text": s["review_text"]["data"]["reviews_with_text"],
        "driver_orders": s["drivers"]["data"]["rating"]["orders"],
        "valued_customers_4_5": value["4-5"]["customers"],
        "value_repeaters_4_5": value["4-5"]["repeaters"],
        "_section_seconds": seconds,
    }


# --- what an analyst would write in pandas ----------------------------------------------------


def run_pandas(folder: Path, note: Callable[[str], None]) -> dict[str, Any]:
    note("reading the Parquet files")
    orders = pd.read_parquet(
        folder / "orders.parquet",
        columns=[
            "order_id",
            "customer_id",
            "status",
            "purchased_at",
            "delivered_at",
            "estimated_delivery_at",
            "item_total",
            "freight_total",
        ],
    )
    reviews = pd.read_parquet(
        folder / "reviews.parquet",
        columns=["review_id", "order_id", "rating", "created_at", "body"],
    )
    items = pd.read_parquet(
        folder / "order_items.parquet",
        columns=["order_id", "line_no", "product_id", "seller_id", "price"],
    )
    products = pd.read_parquet(folder / "products.parquet", columns=["product_id", "category"])
    customers = pd.read_parquet(folder / "customers.parquet", columns=["customer_id", "region"])
    for col in ("purchased_at", "delivered_at", "estimated_delivery_at"):
        orders[col] = orders[col].dt.tz_convert(ZONE)
    reviews["created_at"] = reviews["created_at"].dt.tz_convert(ZONE)
    # Parquet DECIMAL columns arrive as one Python Decimal object per cell: convert the money
    # to float once, as an analyst does before any arithmetic (2 x 10M Decimals are ~2 GB).
    orders[["item_total", "freight_total"]] = orders[["item_total", "freight_total"]].astype(float)
    items["price"] = items["price"].astype(float)
    orders["revenue"] = orders["item_total"].fillna(0) + orders["freight_total"].fillna(0)

    # overview
    note("overview and ratings")
    _ = (len(orders), orders["customer_id"].nunique(), orders["revenue"].sum())

    # ratings: overall, by month, by region, by category
    def summary(frame: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
        keys = frame[by[0]] if by else np.zeros(len(frame), dtype=np.int8)
        r = frame["rating"]
        out = r.groupby(keys).agg(["count", "mean", "std"])
        for star in range(1, 6):
            out[f"share_{star}"] = (r == star).groupby(keys).mean()
        out["good_rate"] = (r >= 4).groupby(keys).mean()
        return out

    rated = reviews[["order_id", "rating"]]  # the columns the joins below need
    overall = summary(reviews)
    summary(
        reviews.assign(period=reviews["created_at"].dt.tz_localize(None).dt.to_period("M")),
        ["period"],
    )
    with_customer = rated.merge(orders[["order_id", "customer_id"]], on="order_id")
    summary(with_customer.merge(customers, on="customer_id", how="left"), ["region"])
    del with_customer
    cats = items[["order_id", "product_id"]].merge(products, on="product_id")
    cats = cats[["order_id", "category"]].drop_duplicates()
    summary(rated.merge(cats, on="order_id"), ["category"])
    del cats

    # delivery vs rating
    note("delivery")
    delivered = orders.dropna(subset=["delivered_at", "estimated_delivery_at"]).copy()
    # calendar dates in São Paulo (drop the zone first: Brazil's DST began at midnight)
    d_day = delivered["delivered_at"].dt.tz_localize(None).dt.normalize()
    e_day = delivered["estimated_delivery_at"].dt.tz_localize(None).dt.normalize()
    delivered["days_late"] = (d_day - e_day).dt.days
    delivered["late"] = delivered["days_late"] > 0
    late_share = delivered["late"].mean()
    on_late = delivered[["order_id", "late", "days_late"]].merge(rated, on="order_id")
    by_late = on_late.groupby("late")["rating"].agg(["count", "mean", "std"])
    on_late["bucket"] = pd.cut(
        on_late["days_late"],
        [-10_000, 0, 3, 7, 14, 10_000],
        labels=["on_time", "1-3", "4-7", "8-14", "15+"],
    )
    on_late.groupby("bucket", observed=False).agg(
        orders=("order_id", "nunique"),
        n=("rating", "count"),
        mean=("rating", "mean"),
        sd=("rating", "std"),
    )
    del on_late
    delivered.groupby(delivered["purchased_at"].dt.tz_localize(None).dt.to_period("M"))[
        "late"
    ].mean()

    note("shop ratings (DSR)")
    # DSR per seller from reviews: accepted within 15 days of delivery, 180-day window
    sellers = items[["order_id", "seller_id"]].drop_duplicates()
    dsr = reviews[["order_id", "rating", "created_at"]].merge(
        orders[["order_id", "delivered_at"]].dropna(), on="order_id"
    )
    dsr = dsr.merge(sellers, on="order_id")
    rated_day = dsr["created_at"].dt.tz_localize(None).dt.normalize()
    done_day = dsr["delivered_at"].dt.tz_localize(None).dt.normalize()
    dsr = dsr[(rated_day >= done_day) & (rated_day <= done_day + pd.Timedelta(days=15))]
    rated_day = dsr["created_at"].dt.tz_localize(None).dt.normalize()
    end = rated_day.max()
    dsr = dsr[rated_day > end - pd.Timedelta(days=180)]
    main_cat = items.merge(products, on="product_id").groupby(["seller_id", "category"]).size()
    main_cat = main_cat.reset_index(name="k").sort_values(
        ["seller_id", "k", "category"], ascending=[True, False, True]
    )
    main_cat = main_cat.drop_duplicates("seller_id")[["seller_id", "category"]]
    per_seller = dsr.groupby("seller_id")["rating"].agg(["count", "mean", "std"]).reset_index()
    per_seller = per_seller.merge(main_cat, on="seller_id", how="left")
    per_seller["sum"] = per_seller["count"] * per_seller["mean"]
    industry = per_seller.groupby(per_seller["category"].fillna(""))[["sum", "count"]].sum()
    per_seller["industry"] = (
        per_seller["category"].fillna("").map(industry["sum"] / industry["count"])
    )
    per_seller["vs_industry"] = (per_seller["mean"] - per_seller["industry"]) / per_seller[
        "industry"
    ]

    # repeat purchase and revenue by first-order rating tier
    note("repeat purchase, retention, revenue at risk")
    counted = orders[~orders["status"].isin(["canceled", "unavailable"])].copy()
    counted["order_rating"] = counted["order_id"].map(reviews.groupby("order_id")["rating"].mean())
    counted = counted.sort_values(["customer_id", "purchased_at", "order_id"])
    first = counted.drop_duplicates("customer_id").set_index("customer_id")
    r = first["order_rating"]
    first["tier"] = np.select([r.isna(), r <= 2.5, r < 3.5], ["unrated", "1-2", "3"], "4-5")
    per = counted.groupby("customer_id").agg(n=("order_id", "size"), rev=("revenue", "sum"))
    per["tier"] = first["tier"]
    tiers = per.groupby("tier").agg(
        customers=("n", "size"),
        repeaters=("n", lambda n: (n >= 2).sum()),
        orders=("n", "mean"),
        revenue=("rev", "mean"),
        revenue_sd=("rev", "std"),
    )

    # retention: second order within k × 30 days; eligible if first seen k × 30 days before end
    counted["rank"] = counted.groupby("customer_id").cumcount()
    second = counted[counted["rank"] == 1].set_index("customer_id")["purchased_at"]
    per["first"] = first["purchased_at"]
    per["second"] = second
    end_time = counted["purchased_at"].max()
    for k in range(1, 13):
        span = pd.Timedelta(days=30 * k)
        eligible = per["first"] <= end_time - span
        back = eligible & (per["second"] - per["first"] <= span)
        pd.DataFrame({"tier": per["tier"], "e": eligible, "b": back}).groupby("tier").sum()

    # revenue at risk: last rated order 1–2★, spend in the trailing 365 days
    last = (
        counted.dropna(subset=["order_rating"])
        .sort_values(["customer_id", "purchased_at", "order_id"])
        .drop_duplicates("customer_id", keep="last")
    )
    at_risk = last[last["order_rating"] <= 2.5]["customer_id"]
    recent = counted[counted["purchased_at"] > end_time - pd.Timedelta(days=365)]
    recent[recent["customer_id"].isin(at_risk)]["revenue"].sum()

    # review texts: how many have one, then the same analysis of a sample of 5,000
    note("review texts")
    from manyi.text import analyse, aspect_rating_effect, aspect_summary, top_complaints

    body = reviews["body"].str.strip()
    texts = reviews.loc[body.notna() & (body != ""), ["rating", "body"]]
    picked = texts.sample(n=min(5_000, len(texts)), random_state=0)
    said = picked["body"].str.strip().tolist()
    found = analyse(said, lang="pt")
    aspect_summary(found)
    aspect_rating_effect(found, picked["rating"].to_numpy(dtype=float))
    top_complaints(said, found)

    # key drivers of the rating: 10,000 delivered, rated orders, their drivers, three models
    note("key drivers")
    from manyi.insight.drivers import KeyDriverAnalysis

    sample = delivered.sample(n=min(10_000, len(delivered)), random_state=0)
    own = items[items["order_id"].isin(sample["order_id"])].merge(
        products, on="product_id", how="left"
    )
    own = own.sort_values(["order_id", "price", "line_no"], ascending=[True, False, True])
    main = own.drop_duplicates("order_id").set_index("order_id")["category"]
    frame = reviews.loc[reviews["rating"].notna(), ["order_id", "rating"]].merge(
        sample, on="order_id"
    )
    frame["delivery_days"] = (
        frame["delivered_at"] - frame["purchased_at"]
    ).dt.total_seconds() / DAY
    frame["late"] = frame["late"].astype(float)
    paid = frame["item_total"].astype(float) + frame["freight_total"].astype(float)
    frame["freight_share"] = (frame["freight_total"].astype(float) / paid).where(paid > 0)
    frame["price"] = np.log2(1 + frame["item_total"].astype(float))
    frame["items"] = frame["order_id"].map(own.groupby("order_id").size()).astype(float)
    frame["category"] = frame["order_id"].map(main)
    top = frame["category"].value_counts().index[:10]
    frame["category"] = frame["category"].where(frame["category"].isin(top), "other")
    frame["rating"] = frame["rating"].astype(float)
    drivers = ["delivery_days", "late", "freight_share", "price", "items", "category"]
    frame = frame.dropna(subset=["rating", *drivers])
    KeyDriverAnalysis("shapley", n_bootstrap=100, random_state=0).fit(frame, "rating", drivers)
    KeyDriverAnalysis("relative_weights").fit(frame, "rating", drivers)
    KeyDriverAnalysis("ordinal").fit(frame, "rating", drivers)

    # value by first-order tier: repeat orders, recency and age per customer, then the models
    note("customer value")
    from manyi.insight.clv import (
        ConvergenceError,
        GammaGammaModel,
        discounted_expected_transactions,
    )
    from manyi.insight.tier_value import MONTH_WEEKS, _fit_purchase_model, _thin

    per["last"] = counted.groupby("customer_id")["purchased_at"].max()
    per["first_rev"] = first["revenue"]
    span = (per["last"] - per["first"]).dt.total_seconds()
    back = span >= DAY
    x = np.where(back, per["n"] - 1, 0).astype(float)
    t_x = np.where(back, (span // DAY) / 7, 0.0)
    age = ((end_time - per["first"]).dt.total_seconds() // DAY).to_numpy() / 7
    m = np.where(back, ((per["rev"] - per["first_rev"]) / np.maximum(per["n"] - 1, 1)).round(2), 0)
    keep = age > 0
    x, t_x, age, m = x[keep], t_x[keep], age[keep], m[keep]
    tier_of = per["tier"].to_numpy()[keep]
    model = _fit_purchase_model(x, t_x, age, _thin(np.ones(len(x)), 100_000), 12 * MONTH_WEEKS)
    buyers = (x > 0) & (m > 0)
    spend = None
    if buyers.sum() >= 50:
        try:  # as the report does: fall back to the mean repeat order when it does not fit
            gg = GammaGammaModel().fit(x[buyers], m[buyers])
            spend = gg.conditional_expected_average_spend(x, m)
        except (ConvergenceError, ValueError):
            spend = None
    if spend is None:
        spend = np.full(
            len(x), m[buyers].mean() if buyers.any() else per["rev"].sum() / per["n"].sum()
        )
    clv = spend * discounted_expected_transactions(
        model, x, t_x, age, periods=12, period_length=MONTH_WEEKS, discount_rate=0.01
    )
    pd.DataFrame({"tier": tier_of, "clv": clv, "back": x > 0}).groupby("tier").agg(
        customers=("clv", "size"), mean=("clv", "mean"), sd=("clv", "std"), back=("back", "sum")
    )
    in_top = tier_of == "4-5"

    return {
        "reviews": int(overall["count"].iloc[0]),
        "mean_rating": float(overall["mean"].iloc[0]),
        "good_rate": float(overall["good_rate"].iloc[0]),
        "late_share": float(late_share),
        "late_mean": float(by_late.loc[True, "mean"]),
        "repeaters_4_5": int(tiers.loc["4-5", "repeaters"]),
        "dsr_sellers": len(per_seller),
        "at_risk": len(at_risk),
        "reviews_with_text": len(texts),
        "driver_orders": len(delivered),
        "valued_customers_4_5": int(in_top.sum()),
        "value_repeaters_4_5": int((x[in_top] > 0).sum()),
    }


def worker(kind: str, folder: Path, stage_file: Path) -> None:
    """Run one measurement and print its figures as the last line of stdout (JSON).

    The step reached is written to ``stage_file`` as the run goes, so that the parent can say
    where a run it had to stop was.
    """

    def note(text: str) -> None:
        stage_file.write_text(text, encoding="utf-8")

    if kind == "pandas-arrow":
        # pandas 3's default: string columns held by Arrow (one buffer per column) instead of
        # one Python object per cell.
        pd.options.future.infer_string = True
    figures = run_manyi(folder, note) if kind == "manyi" else run_pandas(folder, note)
    print(json.dumps({"figures": figures}))


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of process ``pid`` and its descendants; 0 once it is gone."""
    total = 0
    todo = [pid]
    while todo:
        at = todo.pop()
        try:
            for line in Path(f"/proc/{at}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
            for task in Path(f"/proc/{at}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def measure(
    kind: str, folder: Path, *, rss_limit_gb: float, min_available_gb: float
) -> dict[str, Any]:
    """Run one measurement in a fresh process, watching its resident memory.

    The worker is killed (SIGKILL) when its resident memory (VmRSS, polled every 0.2 s, its
    descendants included) passes ``rss_limit_gb``, or when the machine's available memory falls
    below ``min_available_gb``, so that a run never wakes the OOM killer on a shared machine.
    Resident memory, not address space: pandas and numpy reserve far more address space than
    they touch, so an address-space cap stops them long before the machine runs short.

    Returns
    -------
    dict
        ``seconds`` (wall, process start to exit), ``cpu`` (user + system seconds of the
        process and its threads, from ``wait4``), ``peak_mb`` (the kernel's max RSS),
        ``load`` (1-minute load average at the start) and either ``figures`` or ``failed``
        (why it stopped, with the step it had reached).
    """
    load = float(Path("/proc/loadavg").read_text().split()[0])
    stage_file = folder.parent / f".{folder.name}.{kind}.stage"
    stage_file.write_text("starting", encoding="utf-8")
    limit = rss_limit_gb * 2**30
    watched = {"peak": 0, "killed": ""}
    done = threading.Event()

    def watch(pid: int) -> None:
        while not done.wait(0.2):
            rss = tree_rss(pid)
            watched["peak"] = max(int(watched["peak"]), rss)
            if rss > limit:
                watched["killed"] = f"resident memory passed {rss_limit_gb:g} GB"
            elif available_gb() < min_available_gb:
                watched["killed"] = f"the machine had less than {min_available_gb:g} GB available"
            if watched["killed"]:
                os.kill(pid, signal.SIGKILL)
                return

    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", kind, str(folder), str(stage_file)],
            stdout=out,
            stderr=err,
        )
        watcher = threading.Thread(target=watch, args=(proc.pid,), daemon=True)
        watcher.start()
        # wait4 reaps the child and returns its own resource usage (all its threads); the wall
        # time stops the moment it exits, not at the watcher's next poll.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        watcher.join()
        out.seek(0)
        err.seek(0)
        lines = out.read().strip().splitlines()
        errors = err.read().strip().splitlines()
    stage = stage_file.read_text(encoding="utf-8")
    stage_file.unlink()
    result: dict[str, Any] = {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        # ru_maxrss is the kernel's own high-water mark (KiB); a 0.2 s poll may miss a peak.
        "peak_mb": max(usage.ru_maxrss * 1024, int(watched["peak"])) / 2**20,
        "load": load,
    }
    killed = str(watched["killed"])
    if not killed and proc.returncode == 0 and lines and lines[-1].startswith("{"):
        result.update(json.loads(lines[-1]))
        return result
    if not killed:
        killed = (errors[-1:] or [f"exit {proc.returncode}"])[0]
    result["failed"] = f"stopped: {killed}, in {stage}"
    print(f"{kind} {result['failed']} after {seconds:.0f} s")
    return result


def available_gb() -> float:
    """MemAvailable of this machine, in GB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def generate_niced(folder: Path, orders: int, niceness: int) -> None:
    """Generate (or complete) the data set in a child process at low priority.

    Generation is long (~17 min at 10M) and not what is measured: on a shared machine it
    should take only the CPU nobody else wants.
    """
    if (folder / "reviews.parquet").is_file() and _has_totals(folder):
        return
    subprocess.run(
        [
            "nice",
            "-n",
            str(niceness),
            sys.executable,
            __file__,
            "--generate",
            str(orders),
            str(folder),
        ],
        check=True,
    )


def _has_totals(folder: Path) -> bool:
    import pyarrow.parquet as pq

    stats = pq.ParquetFile(folder / "orders.parquet").metadata
    column = stats.schema.names.index("item_total")
    return any(
        stats.row_group(i).column(column).statistics.null_count < stats.row_group(i).num_rows
        for i in range(stats.num_row_groups)
    )


def same_figures(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The headline figures on which manyi and pandas disagree (empty when all agree)."""
    differ = []
    for key, value in ours.items():
        if key.startswith("_"):
            continue
        other = theirs[key]
        if not (value == other or abs(value - other) <= 1e-9 * max(1, abs(value))):
            differ.append(f"{key}: manyi {value} pandas {other}")
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=KINDS,
        default=list(KINDS),
        help="what to run: manyi, pandas with object strings (pandas 2's default), pandas with "
        "Arrow strings (pandas 3's default); default all three",
    )
    parser.add_argument(
        "--pandas-rss-gb",
        type=float,
        default=16.0,
        help="kill a run whose resident memory passes this (default 16)",
    )
    parser.add_argument(
        "--min-available-gb",
        type=float,
        default=1.5,
        help="kill a run when the machine has less memory available than this (default 1.5)",
    )
    parser.add_argument("--generate-nice", type=int, default=19, help="niceness of generation")
    parser.add_argument(
        "--worker", nargs=3, metavar=("KIND", "DIR", "STAGE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--generate", nargs=2, metavar=("ORDERS", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--replicate",
        nargs=3,
        metavar=("SOURCE", "COPIES", "DIR"),
        help="write COPIES copies of generated set SOURCE into DIR (see replicate())",
    )
    args = parser.parse_args()
    if args.replicate:
        replicate(Path(args.replicate[0]), Path(args.replicate[2]), int(args.replicate[1]))
        return
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), Path(args.worker[2]))
        return
    if args.generate:
        generate(Path(args.generate[1]), int(args.generate[0]))
        return
    rows = []
    for n in args.orders:
        folder = args.data / f"orders_{n}"
        generate_niced(folder, n, args.generate_nice)
        runs: dict[str, dict[str, Any]] = {}
        for kind in args.kinds:
            runs[kind] = measure(
                kind,
                folder,
                rss_limit_gb=args.pandas_rss_gb,
                min_available_gb=args.min_available_gb,
            )
            print(f"{n:,} orders, {kind}: " + json.dumps(runs[kind]), flush=True)
        if "manyi" in runs and "figures" in runs["manyi"]:
            sections = runs["manyi"]["figures"]["_section_seconds"]
            print(
                f"{n:,} orders, manyi by section: "
                + ", ".join(f"{k} {v:.1f} s" for k, v in sections.items() if v >= 0.05)
            )
        ours = runs.get("manyi")
        if ours is not None and "failed" in ours:
            raise SystemExit("the manyi report failed; see the message above")
        for kind, theirs in runs.items():
            if kind != "manyi" and ours is not None and "figures" in theirs:
                differ = same_figures(ours["figures"], theirs["figures"])
                theirs["equal"] = not differ
                for line in differ:
                    print(f"WARNING {n:,} orders, {kind}: {line}")
        rows.append((n, runs))
    (args.data / "report_full.json").write_text(
        json.dumps({str(n): runs for n, runs in rows}, indent=1), encoding="utf-8"
    )
    print(
        "\n| orders | run | wall | CPU (user + sys) | peak RSS | load at start "
        "| figures = manyi's | manyi faster (their wall ÷ manyi wall / their CPU ÷ manyi wall) |"
    )
    print("|---:|---|---:|---:|---:|---:|:---:|---:|")
    for n, runs in rows:
        ours = runs.get("manyi")
        for kind, run in runs.items():
            wall = f"{run['seconds']:.1f} s"
            if "failed" in run:
                wall = f"{run['failed']} after {wall}"
            cells = [f"{n:,}", kind, wall, f"{run['cpu']:.1f} s"]
            cells += [f"{run['peak_mb'] / 1024:.2f} GB", f"{run['load']:.1f}"]
            if kind == "manyi" or ours is None:
                cells += ["–", "–"]
            elif "failed" in run:
                cells += ["–", f"> {run['seconds'] / ours['seconds']:.1f}× / –"]
            else:
                by_wall = run["seconds"] / ours["seconds"]
                by_cpu = run["cpu"] / ours["seconds"]
                equal = "yes" if run.get("equal") else "**no**"
                cells += [equal, f"{by_wall:.1f}× / {by_cpu:.1f}×"]
            print("| " + " | ".join(cells) + " |")
    print(
        "\nReproduce: .venv/bin/python benchmarks/report_full.py --orders "
        + " ".join(str(n) for n in args.orders)
        + f" --pandas-rss-gb {args.pandas_rss_gb:g}"
    )


if __name__ == "__main__":
    main()
