"""Benchmark: the full satisfaction report on 1M, 3M and 10M orders, DuckDB vs pandas.

The data come from ``manyi.data.synth.generate_canonical`` (real Olist orders replicated with
new keys and shifted dates, written as canonical Parquet; the generator leaves the order totals
empty, so they are derived from the order lines as an import does). Each measurement runs in a
fresh subprocess so its peak memory (max RSS) is its own:

* ``manyi`` — ``open_source("parquet:DIR")`` on DuckDB with 2 threads and a 2.5 GB memory
  limit (``manyi report --threads 2 --memory-limit 2500MB``), every section of the report
  (ratings by month/region/category, delivery, review texts, key drivers, DSR per seller,
  repeat purchase, retention, revenue at risk, value by first-order tier), rendered to HTML and
  JSON: what ``manyi report`` does;
* ``pandas`` — the same figures written the way an analyst would: ``pd.read_parquet`` of the
  columns needed, ``merge`` and ``groupby``; for the text, driver and CLV sections the same
  sample sizes and the same model code (``manyi.text``, ``manyi.insight.drivers``,
  ``manyi.insight.clv``) on frames built with pandas, so the difference is the data work.

Both print headline figures, checked equal before the timings are reported (the sampled
sections pick different rows, so only their counts before sampling are compared). A pandas
run that exceeds its address-space cap stops with ``MemoryError``; the worker then reports the
step it was in and the peak RSS it had reached.

Reproduce::

    .venv/bin/python benchmarks/report_full.py --orders 1000000 3000000 10000000 \
        --pandas-memory-gb 20

(generated data are cached under ``--data`` (default ``benchmarks/out``, git-ignored); 10M
orders take about 3 GB of Parquet and ~20 minutes to generate.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
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


# --- the product -----------------------------------------------------------------------------


NEW_SECTIONS = ("review_text", "drivers", "satisfaction_value")


def run_manyi(folder: Path) -> dict[str, Any]:
    from manyi.insight.report.build import build_report
    from manyi.insight.report.html import render_html
    from manyi.insight.sources import open_source

    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def tick(section: Any) -> None:
        now = time.perf_counter()
        seconds[section.key] = now - clock[0]
        clock[0] = now

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


STAGE = ["reading"]


def _stage(name: str) -> None:
    """Remember the step, so an out-of-memory failure can say where it happened."""
    STAGE[0] = name


def run_pandas(folder: Path) -> dict[str, Any]:
    _stage("reading the Parquet files")
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
    orders["revenue"] = orders["item_total"].astype(float).fillna(0) + orders[
        "freight_total"
    ].astype(float).fillna(0)

    # overview
    _stage("overview and ratings")
    _ = (len(orders), orders["customer_id"].nunique(), orders["revenue"].sum())

    # ratings: overall, by month, by region, by category
    def summary(frame: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
        g = frame.groupby(by) if by else frame.assign(_all=1).groupby("_all")
        out = g["rating"].agg(["count", "mean", "std"])
        for star in range(1, 6):
            out[f"share_{star}"] = g["rating"].apply(lambda r, s=star: (r == s).mean())
        out["good_rate"] = g["rating"].apply(lambda r: (r >= 4).mean())
        return out

    overall = summary(reviews)
    summary(
        reviews.assign(period=reviews["created_at"].dt.tz_localize(None).dt.to_period("M")),
        ["period"],
    )
    with_customer = reviews.merge(orders[["order_id", "customer_id"]], on="order_id")
    summary(with_customer.merge(customers, on="customer_id", how="left"), ["region"])
    cats = items[["order_id", "product_id"]].merge(products, on="product_id")
    cats = cats[["order_id", "category"]].drop_duplicates()
    summary(reviews.merge(cats, on="order_id"), ["category"])

    # delivery vs rating
    _stage("delivery")
    delivered = orders.dropna(subset=["delivered_at", "estimated_delivery_at"]).copy()
    # calendar dates in São Paulo (drop the zone first: Brazil's DST began at midnight)
    d_day = delivered["delivered_at"].dt.tz_localize(None).dt.normalize()
    e_day = delivered["estimated_delivery_at"].dt.tz_localize(None).dt.normalize()
    delivered["days_late"] = (d_day - e_day).dt.days
    delivered["late"] = delivered["days_late"] > 0
    late_share = delivered["late"].mean()
    rated = delivered[["order_id", "late", "days_late"]].merge(reviews, on="order_id")
    by_late = rated.groupby("late")["rating"].agg(["count", "mean", "std"])
    rated["bucket"] = pd.cut(
        rated["days_late"],
        [-10_000, 0, 3, 7, 14, 10_000],
        labels=["on_time", "1-3", "4-7", "8-14", "15+"],
    )
    rated.groupby("bucket", observed=False)["rating"].agg(["count", "mean", "std"])
    delivered.groupby(delivered["purchased_at"].dt.tz_localize(None).dt.to_period("M"))[
        "late"
    ].mean()

    _stage("shop ratings (DSR)")
    # DSR per seller from reviews: accepted within 15 days of delivery, 180-day window
    sellers = items[["order_id", "seller_id"]].drop_duplicates()
    dsr = reviews.merge(orders[["order_id", "delivered_at"]].dropna(), on="order_id")
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
    _stage("repeat purchase, retention, revenue at risk")
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
    _stage("review texts")
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
    _stage("key drivers")
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
    _stage("customer value")
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


def worker(kind: str, folder: Path, memory_gb: float) -> None:
    # A hard cap, so an out-of-memory pandas run fails here (MemoryError) instead of waking the
    # OOM killer on a machine shared with others.
    cap = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    try:
        figures = run_manyi(folder) if kind == "manyi" else run_pandas(folder)
    except MemoryError:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "failed": f"out of memory ({memory_gb:g} GB address space) in {STAGE[0]}",
                    "seconds": time.perf_counter() - t0,
                    "peak_mb": peak_mb,
                }
            )
        )
        sys.exit(3)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    # CPU time is what the run needed whatever else the machine was doing (wall time is not).
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "figures": figures}))


def measure(kind: str, folder: Path, memory_gb: float) -> dict[str, Any]:
    """Run one measurement in a fresh process; ``failed`` says why when it did not finish."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(folder), "--memory-gb", str(memory_gb)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        result: dict[str, Any] = json.loads(lines[-1])
        if "failed" in result:
            print(f"{kind} failed after {result['seconds']:.0f} s: {result['failed']}")
        return result
    tail = out.stderr.strip().splitlines()[-1:] or ["?"]
    print(f"{kind} failed after {time.perf_counter() - t0:.0f} s: {tail[0]}")
    return {"failed": tail[0], "seconds": time.perf_counter() - t0, "peak_mb": None}


def available_gb() -> float:
    """MemAvailable of this machine, in GB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--memory-gb", type=float, default=14.0, help="address-space cap per run")
    parser.add_argument(
        "--pandas-memory-gb",
        type=float,
        default=None,
        help="address-space cap of the pandas runs (default: --memory-gb); never above what the "
        "machine has available minus 2 GB",
    )
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args.memory_gb)
        return
    rows = []
    for n in args.orders:
        folder = args.data / f"orders_{n}"
        generate(folder, n)
        load = os.getloadavg()[0]
        ours = measure("manyi", folder, args.memory_gb)
        if "failed" in ours:
            raise SystemExit("the manyi report failed; see the message above")
        theirs = None
        if not args.skip_pandas:
            wanted = args.pandas_memory_gb or args.memory_gb
            cap = min(wanted, max(available_gb() - 2.0, 4.0))
            theirs = measure("pandas", folder, round(cap, 1))
            theirs["cap_gb"] = round(cap, 1)
        if theirs is not None and "figures" in theirs:
            for key, value in ours["figures"].items():
                if key.startswith("_"):
                    continue
                other = theirs["figures"][key]
                same = value == other or abs(value - other) <= 1e-9 * max(1, abs(value))
                if not same:
                    print(f"WARNING {n:,} orders: {key} differs: manyi {value} pandas {other}")
        rows.append((n, ours, theirs, load))
        sections = ours["figures"]["_section_seconds"]
        print(
            f"{n:,} orders: manyi sections "
            + ", ".join(f"{k} {v:.1f} s" for k, v in sections.items())
            + f" (load average {load:.1f} before the run)"
        )
    print(
        "\n| orders | manyi report (DuckDB, 2 threads): wall / CPU | of which new sections "
        "| peak memory | pandas (same figures): wall / CPU | peak memory | speed-up (wall / CPU) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, ours, theirs, _ in rows:
        sections = ours["figures"]["_section_seconds"]
        new = sum(sections.get(k, 0.0) for k in NEW_SECTIONS)
        if theirs is None:
            p_time, p_mem, speed = "not run", "–", "–"
        elif "failed" in theirs:
            peak = theirs.get("peak_mb")
            p_time = f"failed after {theirs['seconds']:.0f} s: {theirs['failed']}"
            p_mem = f"{peak / 1024:.1f} GB at failure" if peak else "–"
            speed = f"> {theirs['seconds'] / ours['seconds']:.1f}×"
        else:
            p_time = f"{theirs['seconds']:.1f} s / {theirs['cpu']:.1f} s"
            p_mem = f"{theirs['peak_mb'] / 1024:.2f} GB"
            speed = (
                f"{theirs['seconds'] / ours['seconds']:.1f}× / {theirs['cpu'] / ours['cpu']:.1f}×"
            )
        print(
            f"| {n:,} | {ours['seconds']:.1f} s / {ours['cpu']:.1f} s | {new:.1f} s "
            f"| {ours['peak_mb'] / 1024:.2f} GB | {p_time} | {p_mem} | {speed} |"
        )
    print(
        "\nReproduce: .venv/bin/python benchmarks/report_full.py --orders "
        + " ".join(str(n) for n in args.orders)
    )


if __name__ == "__main__":
    main()
