"""``manyi generate``: a large data set replicated from real orders, for benchmarks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def generate(
    out: Path = typer.Argument(..., help="Folder to write into (created if needed)."),
    orders: int = typer.Option(1_000_000, "--orders", "-n", help="Exact number of orders."),
    seed: int = typer.Option(0, "--seed", help="Seed for the per-replica date shifts."),
    source: Path | None = typer.Option(
        None, "--from", help="Olist folder to replicate (default: the bundled 3,000-order sample)."
    ),
    fmt: str = typer.Option(
        "olist",
        "--format",
        help="olist (Olist CSV files, for import) or parquet (canonical tables).",
    ),
    plain: bool = typer.Option(False, "--plain", help="Write plain .csv instead of .csv.gz."),
) -> None:
    """Replicate real Olist orders with new keys and shifted dates (see manyi.data.synth).

    Example: manyi generate /tmp/olist-1m --orders 1000000 --from exports/olist
    """
    from manyi.data.synth import generate_canonical, generate_olist

    with console.status(f"Generating {orders:,} orders into {out}…"):
        if fmt == "olist":
            made = generate_olist(out, orders=orders, seed=seed, source=source, compress=not plain)
        elif fmt == "parquet":
            made = generate_canonical(out, orders=orders, seed=seed, source=source)
        else:
            raise typer.BadParameter(
                "use --format olist or --format parquet", param_hint="--format"
            )
    for name, rows in made.rows.items():
        console.print(f"{name:>12}: {rows:>12,} rows")
