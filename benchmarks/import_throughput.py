"""Import throughput into SQLite and PostgreSQL, side by side with what a user would do instead.

    .venv/bin/python benchmarks/import_throughput.py [--orders 1000000] [--postgres URL]

For each data set (the real Olist 15k sample from ../shared/data, and a data set of ``--orders``
orders generated from it with ``manyi generate``) and each database, a fresh database is
migrated and ``manyi import olist`` runs in a child process; the table reports canonical rows
written per second of wall time and the child's peak memory (from ``wait4``). A second run of
the same import measures the idempotent re-run (nothing changes).

Side by side, the same rows (15k sample) loaded the way an analyst would without manyi:
``pandas.read_csv`` + ``DataFrame.to_sql`` (no validation, no upsert, no references checked),
and for PostgreSQL the raw server-side ``COPY ... FROM STDIN (FORMAT csv)`` of the files,
the lower bound for getting bytes into a table.

PostgreSQL: ``--postgres`` (default ``MANYI_BENCH_DATABASE_URL`` or the local server
``postgresql://postgres@127.0.0.1:5432/postgres``); a database ``manyi_bench`` is created
and dropped. Results are printed as Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out"
PY = sys.executable


def measured(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run ``manyi ARGS``; return wall seconds and the child's own peak RSS in MB (``wait4``)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execve(PY, [PY, "-m", "manyi.cli", *args], env)
    _pid, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manyi {' '.join(args)} failed with {status}")
    return seconds, usage.ru_maxrss // 1024


def prepare(url: str, home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MANYI_DATABASE_URL": url,
        "MANYI_HOME": str(home),
        "MANYI_SECRET_KEY": "benchmark-only-" + "x" * 40,
    }
    measured(["manage", "migrate", "-v0"], env)
    return env


def import_rows(env: dict[str, str], folder: Path, summary: Path) -> tuple[float, int, int]:
    seconds, peak = measured(["import", "olist", str(folder), "--json", str(summary)], env)
    total = json.loads(summary.read_text())["total"]
    return seconds, peak, int(total["accepted"])


def postgres_database(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


OLIST_FILES = {
    "customers": "olist_customers_dataset",
    "orders": "olist_orders_dataset",
    "order_items": "olist_order_items_dataset",
    "reviews": "olist_order_reviews_dataset",
}


def pandas_to_sql_sqlite(folder: Path) -> tuple[float, int]:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows = 0
        with sqlite3.connect(Path(tmp) / "pandas.sqlite3") as conn:
            for table, stem in OLIST_FILES.items():
                frame = pd.read_csv(folder / f"{stem}.csv.gz")
                frame.to_sql(table, conn, index=False, chunksize=10_000)
                rows += len(frame)
        return time.perf_counter() - start, rows


def raw_copy_postgres(url: str, folder: Path) -> tuple[float, int]:
    import psycopg

    start = time.perf_counter()
    rows = 0
    with psycopg.connect(url) as conn:
        for table, stem in OLIST_FILES.items():
            path = folder / f"{stem}.csv.gz"
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                header = handle.readline().strip().split(",")
                columns = ", ".join(f'"{h.strip(chr(34))}" text' for h in header)
                conn.execute(f'CREATE TEMP TABLE "raw_{table}" ({columns})')
                with conn.cursor().copy(f'COPY "raw_{table}" FROM STDIN (FORMAT csv)') as copy:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
            rows += conn.execute(f'SELECT COUNT(*) FROM "raw_{table}"').fetchone()[0]
        conn.commit()
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "MANYI_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--skip-large", action="store_true", help="Only the 15k sample.")
    parser.add_argument(
        "--databases", default="SQLite,PostgreSQL", help="Comma-separated subset to measure."
    )
    args = parser.parse_args()

    datasets = [("Olist 15k sample (real)", SHARED / "olist" / "sample_15k")]
    if not args.skip_large:
        large = OUT / f"olist-{args.orders}"
        if not (large / "olist_orders_dataset.csv.gz").exists():
            print(f"generating {args.orders:,} orders into {large} ...", file=sys.stderr)
            measured(
                [
                    "generate",
                    str(large),
                    "--orders",
                    str(args.orders),
                    "--from",
                    str(SHARED / "olist" / "sample_15k"),
                ],
                dict(os.environ),
            )
        datasets.append((f"{args.orders:,} orders (generated)", large))

    results = []
    for label, folder in datasets:
        for engine in args.databases.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                home = Path(tmp)
                if engine == "SQLite":
                    url = f"sqlite:///{home / 'bench.sqlite3'}"
                else:
                    url = postgres_database(args.postgres, "manyi_bench")
                try:
                    env = prepare(url, home)
                    first = import_rows(env, folder, home / "first.json")
                    again = import_rows(env, folder, home / "again.json")
                finally:
                    if engine == "PostgreSQL":
                        drop_postgres(args.postgres, "manyi_bench")
            for run, (seconds, peak, rows) in (("first import", first), ("re-run", again)):
                results.append((label, engine, f"manyi import ({run})", rows, seconds, peak))
                print(
                    f"{label} {engine} {run}: {rows:,} rows in {seconds:.1f} s "
                    f"= {rows / seconds:,.0f} rows/s, peak {peak} MB",
                    file=sys.stderr,
                )

    sample = SHARED / "olist" / "sample_15k"
    seconds, rows = pandas_to_sql_sqlite(sample)
    results.append(
        (
            "Olist 15k sample (real)",
            "SQLite",
            "pandas read_csv + to_sql (4 files)",
            rows,
            seconds,
            0,
        )
    )
    url = postgres_database(args.postgres, "manyi_bench_raw")
    try:
        seconds, rows = raw_copy_postgres(url, sample)
    finally:
        drop_postgres(args.postgres, "manyi_bench_raw")
    results.append(
        ("Olist 15k sample (real)", "PostgreSQL", "raw COPY of the CSV (4 files)", rows, seconds, 0)
    )

    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"\nMachine: {machine}, Python {platform.python_version()}")
    print("\n| data | database | what | rows | seconds | rows/s | peak memory |")
    print("|---|---|---|---:|---:|---:|---:|")
    for label, engine, what, rows, seconds, peak in results:
        memory = f"{peak} MB" if peak else "–"
        print(
            f"| {label} | {engine} | {what} | {rows:,} | {seconds:.1f} | "
            f"{rows / seconds:,.0f} | {memory} |"
        )


if __name__ == "__main__":
    main()
