"""Benchmark: the live view (``live_snapshot``), one alert round and the campaign review.

Measured on

* the Olist sample (``olist:../shared/data/olist/sample_15k``, 15,000 orders, no cases): Black
  Friday 2017, ``now`` = 2017-11-24 15:30 São Paulo, alerts judged for 2017-12-19;
* a generated 1M-order shop (``benchmarks/out/orders_1000000``, written by
  ``manyi.data.synth.generate_canonical``, real Olist orders replicated with shifted dates) with
  synthetic after-sales cases added here (one order in 20 gets a case, opened after delivery,
  first response due 4 h later, resolution due 72 h later, answered and resolved at hashed
  delays, nothing after ``now``): Black Friday 2019, ``now`` = 2019-11-29 15:30, alerts for
  2019-11-28.

Each data set runs in a fresh process (imports and the first query's compile included in
"first"; peak memory = its max RSS). DuckDB runs with 2 threads. Reported: opening the source,
the baseline profile (once per campaign), ``live_snapshot`` with the profile (median, min and max
of ``--repeat`` refreshes after one warm-up, and where its time goes), the quick refresh of the
hours, SLA and queue only (``parts=("hours", "sla", "surge")``), ``live_snapshot`` without a
profile, one ``check_rules`` round (every available metric: change 1-day, change 7-day, STL,
CUSUM; a late-share threshold; BH at 5 %) and ``review_campaign``.

Reproduce::

    .venv/bin/python benchmarks/monitor_live.py            # both data sets when 1M is cached
    .venv/bin/python benchmarks/monitor_live.py --skip-1m
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OLIST = ROOT.parent / "shared" / "data" / "olist" / "sample_15k"
ONE_MILLION = ROOT / "benchmarks" / "out" / "orders_1000000"
ZONE = "America/Sao_Paulo"

SETS: dict[str, dict[str, Any]] = {
    "olist": {
        "campaign": ("Black Friday 2017", date(2017, 11, 24), date(2017, 11, 27)),
        "now": datetime(2017, 11, 24, 15, 30),  # noqa: DTZ001 - the shop's wall time
        "as_of": date(2017, 12, 19),
    },
    "1m": {
        "campaign": ("Black Friday 2019", date(2019, 11, 29), date(2019, 12, 2)),
        "now": datetime(2019, 11, 29, 15, 30),  # noqa: DTZ001 - the shop's wall time
        "as_of": date(2019, 11, 28),
    },
}


def with_cases(folder: Path, now_utc: datetime) -> Path:
    """A folder with the shop's Parquet files (linked) and synthetic cases up to ``now_utc``."""
    import duckdb

    out = Path(tempfile.mkdtemp(prefix="manyi-monitor-bench-"))
    for path in folder.glob("*.parquet"):
        (out / path.name).symlink_to(path)
    now = now_utc.strftime("%Y-%m-%d %H:%M:%S+00")
    con = duckdb.connect()
    con.execute("SET threads = 2; SET TimeZone = 'UTC'")
    con.execute(
        f"""
        COPY (
          WITH picked AS (
            SELECT order_id, customer_id, hash(order_id) AS h,
                   coalesce(delivered_at, purchased_at) + to_hours(CAST(hash(order_id) % 72 AS INT))
                     AS opened_at
            FROM '{folder / "orders.parquet"}'
            WHERE hash(order_id) % 20 = 0
          ), timed AS (
            SELECT *, opened_at + to_hours(CAST(h % 9 AS INT)) AS answered,
                   opened_at + to_hours(CAST(h % 120 AS INT)) AS done
            FROM picked WHERE opened_at <= TIMESTAMPTZ '{now}'
          )
          SELECT CAST(row_number() OVER (ORDER BY opened_at, order_id) AS BIGINT) AS case_id,
                 order_id, customer_id,
                 list_extract(['return_refund', 'complaint', 'question', 'exchange',
                               'refund_only'], CAST(h % 5 AS INTEGER) + 1) AS kind,
                 list_extract(['damaged', 'late_delivery', 'not_as_described', 'quality',
                               'other'], CAST(h % 5 AS INTEGER) + 1) AS reason,
                 list_extract(['web', 'email', 'chat', 'phone'], CAST(h % 4 AS INTEGER) + 1)
                   AS channel,
                 CASE WHEN done <= TIMESTAMPTZ '{now}' THEN 'resolved' ELSE 'in_progress' END
                   AS status,
                 'normal' AS priority, NULL::VARCHAR AS team, NULL::VARCHAR AS assignee,
                 opened_at,
                 CASE WHEN answered <= TIMESTAMPTZ '{now}' THEN answered END AS first_response_at,
                 opened_at + INTERVAL 4 HOUR AS first_response_due_at,
                 CASE WHEN done <= TIMESTAMPTZ '{now}' THEN done END AS resolved_at,
                 opened_at + INTERVAL 72 HOUR AS resolution_due_at,
                 NULL::TIMESTAMPTZ AS closed_at, NULL::DOUBLE AS refund_amount, 'BRL' AS currency
          FROM timed
        ) TO '{out / "cases.parquet"}' (FORMAT parquet)
        """
    )
    return out


def rules_for(metrics: list[str]) -> list[Any]:
    from manyi.insight.monitor.rules import AnomalyRule, ChangeRule, ThresholdRule

    rules: list[Any] = [ThresholdRule("late_share", ">", 0.15, window=7, min_n=50)]
    for metric in metrics:
        rules += [
            ChangeRule(metric),
            ChangeRule(metric, window=7),
            AnomalyRule(metric, method="stl"),
            AnomalyRule(metric, method="cusum"),
        ]
    return rules


def run(name: str, repeat: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    from zoneinfo import ZoneInfo

    from manyi.insight.monitor import (
        Campaign,
        available_metrics,
        baseline_profile,
        check_rules,
        live_snapshot,
        review_campaign,
    )
    from manyi.insight.sources import open_source

    setting = SETS[name]
    label, start, end = setting["campaign"]
    campaign = Campaign(label, start, end)
    now = setting["now"]
    if name == "olist":
        spec = f"olist:{OLIST}"
    else:
        now_utc = now.replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
        spec = f"parquet:{with_cases(ONE_MILLION, now_utc)}"
    out: dict[str, Any] = {"imports_s": time.perf_counter() - t0}

    t = time.perf_counter()
    src = open_source(spec, timezone=ZONE, threads=2)
    out["open_s"] = time.perf_counter() - t
    out["orders"] = int(src.execute(src.table("orders").count()))
    out["cases"] = int(src.execute(src.table("cases").count())) if src.has("cases") else 0

    t = time.perf_counter()
    first = live_snapshot(src, campaign, now)
    out["snapshot_first_s"] = time.perf_counter() - t  # profile computed inside, cold compile
    t = time.perf_counter()
    profile = baseline_profile(src, campaign)
    out["profile_s"] = time.perf_counter() - t
    live_snapshot(src, campaign, now, profile=profile)  # warm-up
    times, parts = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        snap = live_snapshot(src, campaign, now, profile=profile)
        times.append(time.perf_counter() - t)
        parts.append(snap.seconds)
    out["snapshot_median_s"] = statistics.median(times)
    out["snapshot_min_s"], out["snapshot_max_s"] = min(times), max(times)
    out["snapshot_parts_s"] = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
    out["snapshot_no_profile_s"] = sum(first.seconds.values())
    quick = []
    for _ in range(repeat):
        t = time.perf_counter()
        live_snapshot(src, campaign, now, profile=profile, parts=("hours", "sla", "surge"))
        quick.append(time.perf_counter() - t)
    out["refresh_hours_sla_median_s"] = statistics.median(quick)
    out["hour_orders_now"] = snap.hours[-2]["orders"]["count"]
    out["sla"] = (
        None if snap.sla is None else {k: snap.sla[k] for k in ("open", "breached", "at_risk")}
    )

    metrics = available_metrics(src)
    rules = rules_for(metrics)
    check_rules(src, rules, setting["as_of"], fdr=0.05)  # warm-up
    rounds = []
    for _ in range(max(1, repeat // 2)):
        t = time.perf_counter()
        results = check_rules(src, rules, setting["as_of"], fdr=0.05)
        rounds.append(time.perf_counter() - t)
    out["rules"] = len(rules)
    out["metrics"] = metrics
    out["round_median_s"] = statistics.median(rounds)
    out["fired"] = [r.rule_id for r in results if r.fired]

    t = time.perf_counter()
    review = review_campaign(src, start, end, name=label)
    out["review_s"] = time.perf_counter() - t
    late = review.metric("late_share")
    out["review_late"] = (late["baseline"]["value"], late["campaign"]["value"])
    src.close()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--skip-1m", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run(args.worker, args.repeat)))
        return
    names = ["olist"]
    if not args.skip_1m:
        if (ONE_MILLION / "orders.parquet").is_file():
            names.append("1m")
        else:
            print(f"no 1M data set in {ONE_MILLION}; generate it with `manyi generate` first")
    for name in names:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", name, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            print(f"{name} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(lines[-1])
        print(f"== {name}")
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
