"""``manyi drivers``: key-driver analysis of a score on a CSV or Parquet file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help=(
        "Key-driver analysis: which factors move a score (Shapley shares of R²).\n\n"
        "Example: manyi drivers --input churn.csv --target Churn "
        "--drivers SatisfactionScore,Complain,Tenure"
    ),
)
console = Console()
err = Console(stderr=True)


@app.callback(invoke_without_command=True)
def drivers(
    input_file: Path | None = typer.Option(
        None,
        "--input",
        help="CSV (plain or .gz) or Parquet file, one row per customer or response.",
    ),
    source: Path | None = typer.Option(
        None,
        "--source",
        help="Same as --input (for now a file path; named desk sources come later).",
    ),
    target: str = typer.Option(..., "--target", help="Column to explain."),
    driver_columns: str | None = typer.Option(
        None, "--drivers", help="Comma-separated driver columns (default: all other columns)."
    ),
    method: str = typer.Option(
        "auto", "--method", help="auto, shapley, relative_weights or logistic (0/1 targets)."
    ),
    bootstrap: int = typer.Option(
        200, "--bootstrap", help="Bootstrap resamples for the intervals (0: none)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the results here."),
) -> None:
    """Share of the explained variance of --target due to each driver, with intervals.

    Numeric columns are used as they are; text columns are one-hot encoded and kept together
    as one driver; rows with a missing value are left out.  A 0/1 target gets the logistic
    variant (Shapley shares of McFadden's pseudo-R²).

    Example: manyi drivers --input ecommerce_customer_churn.csv.gz
    --target Churn --drivers SatisfactionScore,Complain,Tenure,CityTier
    """
    from manyi.commands.clv import InputError

    path = input_file or source
    if path is None or (input_file is not None and source is not None):
        raise typer.BadParameter("give exactly one of --input and --source", param_hint="--input")
    names = [c.strip() for c in driver_columns.split(",") if c.strip()] if driver_columns else None
    try:
        result = _run(
            path, target=target, names=names, method=method, bootstrap=bootstrap, seed=seed
        )
    except InputError as error:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    _print(result)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        console.print(f"wrote {json_out}")


def _run(
    path: Path, *, target: str, names: list[str] | None, method: str, bootstrap: int, seed: int
) -> dict[str, Any]:
    import pandas as pd

    from manyi.commands.clv import InputError, read_table
    from manyi.insight.drivers import KeyDriverAnalysis

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        progress.add_task(f"reading {path.name}")
        frame = read_table(path)
        columns = [target, *(names or [c for c in frame.columns if c != target])]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(
                f"{path}: line 1: column(s) {', '.join(missing)} not found; the "
                f"file has {', '.join(map(str, frame.columns))}"
            )
        data = frame[columns].copy()
        for column in columns:
            numeric = pd.to_numeric(data[column], errors="coerce")
            # A column is numeric when every non-empty value parses as a number.
            if bool((numeric.notna() | data[column].isna()).all()):
                data[column] = numeric
        if not pd.api.types.is_numeric_dtype(data[target]):
            bad = int(
                (pd.to_numeric(data[target], errors="coerce").isna() & data[target].notna())
                .to_numpy()
                .nonzero()[0][0]
            )
            raise InputError(
                f"{path}: line {bad + 2}: field {target!r}: the target must be "
                f"a number (value {data[target].iloc[bad]!r})"
            )
        progress.add_task(f"decomposing ({bootstrap} bootstrap resamples)")
        try:
            kda = KeyDriverAnalysis(
                method,  # type: ignore[arg-type]
                n_bootstrap=bootstrap,
                random_state=seed,
            ).fit(data, target=target)
        except ValueError as error:
            raise InputError(f"{path}: {error}") from error
    table = kda.to_frame()
    return {
        "file": str(path),
        "target": target,
        "method": kda.method_,
        "rows_used": kda.n_samples_,
        "r2": kda.r2_,
        "drivers": table.to_dict(orient="records"),
    }


def _print(result: dict[str, Any]) -> None:
    label = "pseudo-R² (McFadden)" if result["method"] == "logistic" else "R²"
    table = Table(title=f"Drivers of {result['target']} ({result['method']})")
    for name in ("driver", f"share of {label}", "importance", "95 % interval"):
        table.add_column(name, justify="left" if name == "driver" else "right")
    for row in result["drivers"]:
        interval = f"{row['ci_low']:.4f} – {row['ci_high']:.4f}" if "ci_low" in row else ""
        table.add_row(row["driver"], f"{row['share']:.1%}", f"{row['importance']:.4f}", interval)
    console.print(table)
    console.print(f"{label}: {result['r2']:.4f} on {result['rows_used']:,} rows")
