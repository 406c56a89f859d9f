"""``manyi report``: the satisfaction and sales report as one offline HTML file and a JSON file."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

app = typer.Typer(
    help=(
        "The satisfaction and sales report: HTML that works offline, JSON with every figure.\n\n"
        "Example: manyi report --source olist:data/olist/sample_15k --out report.html"
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)
console = Console()
err = Console(stderr=True)

DEFAULT_SOURCE = "sqlite:///var/manyi.sqlite3"


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint=option
        ) from None


@app.callback(invoke_without_command=True)
def report(
    source: str | None = typer.Option(
        None,
        "--source",
        "-s",
        help=(
            "sqlite:///FILE, postgresql://..., parquet:DIR, csv:DIR or olist:DIR "
            "(default: $MANYI_DATABASE_URL, else sqlite:///var/manyi.sqlite3)."
        ),
    ),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write every figure as JSON."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    since: str | None = typer.Option(None, "--since", help="First day to include (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last day to include (YYYY-MM-DD)."),
    lang: str = typer.Option("zh", "--lang", help="zh (default) or en."),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        help="The shop's time zone for calendar dates (default: UTC; Olist: São Paulo).",
    ),
    churn_file: Path | None = typer.Option(
        None, "--churn-file", help="Optional e-commerce churn CSV for the churn section."
    ),
    memory_limit: str | None = typer.Option(
        None, "--memory-limit", help="DuckDB memory limit, e.g. 3GB (it spills to disk beyond)."
    ),
    threads: int | None = typer.Option(None, "--threads", help="DuckDB worker threads."),
    max_text_reviews: int = typer.Option(
        5_000,
        "--max-text-reviews",
        min=1,
        help="Most review texts analysed (a fixed sample beyond); the JSON states it.",
    ),
    max_driver_orders: int = typer.Option(
        10_000,
        "--max-driver-orders",
        min=100,
        help="Most orders the key-driver models are fitted on (a fixed sample beyond).",
    ),
) -> None:
    """Build the report.

    Example: manyi report --source olist:exports/olist --out report.html
    --json report.json --lang en
    """
    from manyi.insight.errors import InsightError
    from manyi.insight.report.build import build_report
    from manyi.insight.report.html import render_html
    from manyi.insight.report.registry import SECTIONS
    from manyi.insight.sources import open_source

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter("use duckdb or spark", param_hint="--engine")
    if lang not in ("zh", "en"):
        raise typer.BadParameter("use zh or en", param_hint="--lang")
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    if first and last and first > last:
        raise typer.BadParameter(f"--since {first} is after --until {last}", param_hint="--since")
    spec = source or os.environ.get("MANYI_DATABASE_URL") or DEFAULT_SOURCE
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task(f"Opening {spec}", total=len(SECTIONS))
            src = open_source(
                spec, engine=engine, timezone=timezone, memory_limit=memory_limit, threads=threads
            )
            try:
                progress.update(task, description="Computing sections")
                doc = build_report(
                    src,
                    since=first,
                    until=last,
                    churn_path=churn_file,
                    options={
                        "text_max_reviews": max_text_reviews,
                        "drivers_max_orders": max_driver_orders,
                    },
                    on_section=lambda s: progress.update(
                        task, advance=1, description=f"Computed {s.key}"
                    ),
                )
            finally:
                src.close()
        page = render_html(doc, lang=lang)
    except InsightError as exc:
        # soft_wrap: keep file paths whole for copy-paste; Text: no markup in the message
        err.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
        raise typer.Exit(2) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    console.print(f"Wrote {out} ({len(page) / 1e6:.1f} MB, opens offline)")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"Wrote {json_out}")
