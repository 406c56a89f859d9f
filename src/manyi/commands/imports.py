"""``manyi import``: load real shop data into the desk database, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from manyi.commands.django_setup import setup_django
from manyi.data.errors import DataValidationError, SourceError

app = typer.Typer(
    help=(
        "Load shop data into the desk database (all or nothing; a re-run changes nothing).\n\n"
        "Example: manyi import olist data/olist/"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

SKIP = typer.Option(
    False,
    "--skip-bad-rows",
    help="Leave bad rows out and write them to --rejects instead of failing the whole import.",
)
REJECTS = typer.Option(
    None,
    "--rejects",
    help="Where --skip-bad-rows writes the rejected rows (default: next to the source).",
)
JSON_OUT = typer.Option(None, "--json", help="Also write the summary as JSON to this file.")


@app.command("olist")
def import_olist(
    directory: Path = typer.Argument(..., help="Folder with the Olist CSV files (plain or .gz)."),
    skip_bad_rows: bool = SKIP,
    rejects: Path | None = REJECTS,
    json_out: Path | None = JSON_OUT,
) -> None:
    """Import the Olist file set (Kaggle layout; the order files may sit in a sub-folder).

    Example: manyi import olist exports/olist/
    """
    run_import("olist", directory, skip_bad_rows=skip_bad_rows, rejects=rejects, json_out=json_out)


@app.command("cdnow")
def import_cdnow(
    file: Path = typer.Argument(..., help="CDNOW_master.txt, CDNOW_sample.txt or their CSV form."),
    skip_bad_rows: bool = SKIP,
    rejects: Path | None = REJECTS,
    json_out: Path | None = JSON_OUT,
) -> None:
    """Import CDNOW transactions as customers and orders (US dollars).

    Example: manyi import cdnow CDNOW_master.txt.gz
    """
    run_import("cdnow", file, skip_bad_rows=skip_bad_rows, rejects=rejects, json_out=json_out)


@app.command("csv")
def import_csv(
    mapping: Path = typer.Option(..., "--mapping", "-m", help="YAML column mapping (see docs)."),
    skip_bad_rows: bool = SKIP,
    rejects: Path | None = REJECTS,
    json_out: Path | None = JSON_OUT,
) -> None:
    """Import a shop's own CSV or Parquet exports through a column mapping.

    Example: manyi import csv --mapping exports/mapping.yaml
    """
    run_import("csv", mapping, skip_bad_rows=skip_bad_rows, rejects=rejects, json_out=json_out)


def run_import(
    kind: str,
    path: Path,
    *,
    skip_bad_rows: bool = False,
    rejects: Path | None = None,
    json_out: Path | None = None,
    label: str | None = None,
) -> None:
    """Open the source, import it with a progress display, print the summary."""
    setup_django()
    from manyi.data import open_reader
    from manyi.desk.commerce.services import import_source

    try:
        reader = open_reader(kind, path)
    except SourceError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if skip_bad_rows and rejects is None:
        base = path if path.is_dir() else path.parent
        rejects = base / "manyi-rejects.csv"
        if not _writable(base):
            rejects = Path.cwd() / "manyi-rejects.csv"
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description:<12}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(table: str, rows: int) -> None:
        if table not in tasks:
            tasks[table] = progress.add_task(table, total=None)
        if rows < 0:
            done = progress.tasks[tasks[table]].completed
            progress.update(tasks[table], total=max(done, 1), completed=max(done, 1))
        else:
            progress.update(tasks[table], completed=rows)

    console.print(f"Importing {label or path} ({kind})")
    try:
        with progress:
            summary = import_source(
                reader,
                kind=kind,
                source=str(path),
                skip_bad_rows=skip_bad_rows,
                rejects_path=rejects,
                progress=report,
            )
    except DataValidationError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    except SourceError as exc:
        err.print(f"[red]error:[/red] {exc}; nothing was imported")
        raise typer.Exit(2) from None
    _print_summary(summary.as_dict())
    if json_out is not None:
        json_out.write_text(json.dumps(summary.as_dict(), indent=2), encoding="utf-8")


def _print_summary(data: dict[str, object]) -> None:
    table = Table(title="Import summary")
    columns = ("read", "accepted", "rejected", "skipped", "inserted", "updated", "unchanged")
    table.add_column("table")
    for column in columns:
        table.add_column(column, justify="right")
    tables = data["tables"]
    assert isinstance(tables, dict)
    for name, part in [*tables.items(), ("total", data["total"])]:
        assert isinstance(part, dict)
        table.add_row(name, *(f"{part[c]:,}" for c in columns))
    console.print(table)
    if data.get("rejects_file"):
        console.print(f"Rejected rows were written to {data['rejects_file']}")


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK)
