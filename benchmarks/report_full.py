"""Benchmark: the full satisfaction report on 1M and 10M orders, DuckDB vs pandas.

The data come from ``manyi.data.synth.generate_canonical`` (real Olist orders replicated with
new keys and shifted dates, written as canonical Parquet). Each measurement runs in a fresh
subprocess so its peak memory (max RSS) is its own:

* ``manyi`` — ``open_source("parquet:DIR")`` on DuckDB with 2 threads and a 2.5 GB memory
  limit (``manyi report --threads 2 --memory-limit 2500MB``), every section of
  the report (ratings by month/region/category, delivery, DSR per seller, repeat purchase,
  retention, revenue at risk), rendered to HTML and JSON: what ``manyi report`` does;
* ``pandas`` — the same figures written the way an analyst would: ``pd.read_parquet`` of the
  columns needed, ``merge`` and ``groupby``.

Both print headline figures, checked equal before the timings are reported.

Reproduce::

    .venv/bin/python benchmarks/report_full.py --orders 1000000 10000000

(generated data are cached under ``--data`` (default ``/tmp/manyi-bench``); 10M orders take
about 3 GB of Parquet and ~12 minutes to generate.)
"""

from __future__ import annotations

import argparse
import json
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

    if (folder / "reviews.parquet").is_file():
        return
    t0 = time.perf_counter()
    generate_canonical(folder, orders=orders, seed=0)
    print(f"generated {orders:,} orders into {folder} in {time.perf_counter() - t0:.0f} s")


# --- the product -----------------------------------------------------------------------------


def run_manyi(folder: Path) -> dict[str, Any]:
    from manyi.insight.report.build import build_report
    from manyi.insight.report.html import render_html
    from manyi.insight.sources import open_source

    src = open_source(f"parquet:{folder}", timezone=ZONE, threads=2, memory_limit="2500MB")
    try:
        doc = build_report(src)
    finally:
        src.close()
    page = render_html(doc, lang="en")
    (folder.parent / f"{folder.name}.html").write_text(page, encoding="utf-8")
    (folder.parent / f"{folder.name}.json").write_text(json.dumps(doc), encoding="utf-8")
    s = doc["sections"]
    tiers = {t["tier"]: t for t in s["repeat"]["data"]["tiers"]}
    return {
        "reviews": s["ratings"]["data"]["summary"]["n"],
        "mean_rating": s["ratings"]["data"]["summary"]["mean"],
        "good_rate": s["ratings"]["data"]["summary"]["good_rate"],
        "late_share": s["delivery"]["data"]["late_share"]["value"],
        "late_mean": s["delivery"]["data"]["late_mean"]["value"],
        "repeaters_4_5": tiers["4-5"]["repeaters"],
        "dsr_sellers": len(s["shop_ratings"]["data"]["scores"]),
        "at_risk": s["revenue_risk"]["data"]["at_risk_customers"],
    }


# --- what an analyst would write in pandas ----------------------------------------------------


def run_pandas(folder: Path) -> dict[str, Any]:
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
        folder / "reviews.parquet", columns=["review_id", "order_id", "rating", "created_at"]
    )
    items = pd.read_parquet(
        folder / "order_items.parquet", columns=["order_id", "product_id", "seller_id"]
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

    return {
        "reviews": int(overall["count"].iloc[0]),
        "mean_rating": float(overall["mean"].iloc[0]),
        "good_rate": float(overall["good_rate"].iloc[0]),
        "late_share": float(late_share),
        "late_mean": float(by_late.loc[True, "mean"]),
        "repeaters_4_5": int(tiers.loc["4-5", "repeaters"]),
        "dsr_sellers": len(per_seller),
        "at_risk": len(at_risk),
    }


def worker(kind: str, folder: Path, memory_gb: float) -> None:
    # A hard cap, so an out-of-memory pandas run fails here instead of waking the OOM killer
    # on a machine shared with others.
    cap = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    figures = run_manyi(folder) if kind == "manyi" else run_pandas(folder)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "figures": figures}))


def measure(kind: str, folder: Path, memory_gb: float) -> dict[str, Any] | None:
    """Run one measurement in a fresh process; ``None`` when it failed (e.g. out of memory)."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(folder), "--memory-gb", str(memory_gb)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1:] or ["?"]
        print(f"{kind} failed after {time.perf_counter() - t0:.0f} s: {tail[0]}")
        return None
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--data", type=Path, default=Path("/tmp/manyi-bench"))
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--memory-gb", type=float, default=14.0, help="address-space cap per run")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args.memory_gb)
        return
    rows = []
    for n in args.orders:
        folder = args.data / f"orders_{n}"
        generate(folder, n)
        ours = measure("manyi", folder, args.memory_gb)
        theirs = None if args.skip_pandas else measure("pandas", folder, args.memory_gb)
        if ours is None:
            raise SystemExit("the manyi report failed; see the message above")
        if theirs is not None:
            for key, value in ours["figures"].items():
                other = theirs["figures"][key]
                same = value == other or abs(value - other) <= 1e-9 * max(1, abs(value))
                if not same:
                    print(f"WARNING {n:,} orders: {key} differs: manyi {value} pandas {other}")
        rows.append((n, ours, theirs))
    print(
        "\n| orders | manyi report (DuckDB, 2 threads) | peak memory | pandas (same figures) "
        "| peak memory | speed-up |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, ours, theirs in rows:
        p_time = f"{theirs['seconds']:.1f} s" if theirs else "failed / not run"
        p_mem = f"{theirs['peak_mb'] / 1024:.2f} GB" if theirs else "–"
        speed = f"{theirs['seconds'] / ours['seconds']:.1f}×" if theirs else "–"
        print(
            f"| {n:,} | {ours['seconds']:.1f} s | {ours['peak_mb'] / 1024:.2f} GB | {p_time} "
            f"| {p_mem} | {speed} |"
        )
    print(
        "\nReproduce: .venv/bin/python benchmarks/report_full.py --orders "
        + " ".join(str(n) for n in args.orders)
    )


if __name__ == "__main__":
    main()
