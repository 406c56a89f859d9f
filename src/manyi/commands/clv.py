"""``manyi clv``: fit customer-lifetime-value models on a transaction file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help=(
        "Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma models.\n\n"
        "Example: manyi clv fit --transactions cdnow_sample.csv.gz --customer-column "
        "customer_id --date-column date --date-format %Y%m%d --amount-column dollar_value "
        "--calibration-end 1997-09-30"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

MODELS = ("bgnbd", "pnbd", "gg")


@app.callback()
def clv() -> None:
    """Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma models."""


class InputError(Exception):
    """Bad input: the message names the file, line, field and reason."""


def read_table(path: Path) -> Any:
    """Read a CSV (plain or gzip) or Parquet file into a pandas DataFrame (all text for CSV)."""
    import pandas as pd

    if not path.exists():
        raise InputError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the file: {error}") from error


def _check_columns(path: Path, frame: Any, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: line 1: column(s) {', '.join(missing)} not found; the file "
            f"has {', '.join(map(str, frame.columns))}"
        )


def _parse_column(path: Path, frame: Any, column: str, parse: Any, reason: str) -> Any:
    import pandas as pd

    parsed = parse(frame[column])
    bad = parsed.isna() & frame[column].notna()
    missing = frame[column].isna()
    for mask, why in ((missing, "the value is empty"), (bad, reason)):
        if bool(mask.any()):
            row = int(mask.to_numpy().nonzero()[0][0])
            value = frame[column].iloc[row]
            # +2: one for the header line, one because lines count from 1.
            raise InputError(f"{path}: line {row + 2}: field {column!r}: {why} (value {value!r})")
    return parsed if not isinstance(parsed, pd.Series) else parsed.reset_index(drop=True)


def load_transactions(
    path: Path,
    *,
    customer_column: str,
    date_column: str,
    amount_column: str,
    date_format: str | None,
) -> Any:
    """Read and validate the transactions: customer (text), date, amount (float)."""
    import pandas as pd

    frame = read_table(path)
    _check_columns(path, frame, [customer_column, date_column, amount_column])
    frame = frame[[customer_column, date_column, amount_column]].reset_index(drop=True)
    if len(frame) == 0:
        raise InputError(f"{path}: the file has no rows")
    dates = _parse_column(
        path,
        frame,
        date_column,
        lambda s: pd.to_datetime(
            s.astype(str) if date_format else s, format=date_format, errors="coerce"
        ),
        f"not a date{' in format ' + date_format if date_format else ''}",
    )
    amounts = _parse_column(
        path, frame, amount_column, lambda s: pd.to_numeric(s, errors="coerce"), "not a number"
    )
    customers = _parse_column(path, frame, customer_column, lambda s: s.astype(str), "")
    return pd.DataFrame(
        {"customer": customers, "date": dates.dt.date, "amount": amounts.astype(float)}
    )


def _parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 1997-09-30", param_hint=option
        ) from None


def _table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


@app.command("fit")
def fit(
    transactions: Path = typer.Option(
        ..., "--transactions", help="CSV (plain or .gz) or Parquet file, one row per order."
    ),
    customer_column: str = typer.Option(..., "--customer-column", help="Customer id column."),
    date_column: str = typer.Option(..., "--date-column", help="Order date column."),
    amount_column: str = typer.Option(..., "--amount-column", help="Order value column."),
    calibration_end: str = typer.Option(
        ..., "--calibration-end", help="Last day of the calibration period, YYYY-MM-DD."
    ),
    date_format: str | None = typer.Option(
        None, "--date-format", help="strptime format of the dates, e.g. %Y%m%d."
    ),
    observation_end: str | None = typer.Option(
        None, "--observation-end", help="Last day of the holdout (default: last order date)."
    ),
    time_unit: str = typer.Option("W", "--time-unit", help="D, W or M (days, weeks, months)."),
    model: str = typer.Option("bgnbd", "--model", help="bgnbd, pnbd or gg (Gamma-Gamma)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the results here."),
) -> None:
    """Fit a model on the calibration period and check it on the holdout period.

    Purchases on the same day count as one transaction.  Prints the parameters with their
    standard errors, the log-likelihood and expected against actual holdout transactions.

    Example: manyi clv fit --transactions cdnow_sample.csv.gz
    --customer-column customer_id --date-column date --date-format %Y%m%d
    --amount-column dollar_value --calibration-end 1997-09-30 --model bgnbd
    """
    if model not in MODELS:
        raise typer.BadParameter(
            f"{model!r} is not one of {', '.join(MODELS)}", param_hint="--model"
        )
    if time_unit not in ("D", "W", "M"):
        raise typer.BadParameter(f"{time_unit!r} is not one of D, W, M", param_hint="--time-unit")
    cal_end = _parse_date(calibration_end, "--calibration-end")
    obs_end = _parse_date(observation_end, "--observation-end") if observation_end else None
    try:
        result = _run_fit(
            transactions,
            customer_column=customer_column,
            date_column=date_column,
            amount_column=amount_column,
            date_format=date_format,
            calibration_end=cal_end,
            observation_end=obs_end,
            time_unit=time_unit,
            model=model,
        )
    except InputError as error:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    _print_result(result)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        console.print(f"wrote {json_out}")


def _run_fit(
    path: Path,
    *,
    customer_column: str,
    date_column: str,
    amount_column: str,
    date_format: str | None,
    calibration_end: dt.date,
    observation_end: dt.date | None,
    time_unit: str,
    model: str,
) -> dict[str, Any]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(f"reading {path.name}", total=4)
        frame = load_transactions(
            path,
            customer_column=customer_column,
            date_column=date_column,
            amount_column=amount_column,
            date_format=date_format,
        )
        import ibis

        from manyi.insight.clv import (
            BetaGeoModel,
            ConvergenceError,
            GammaGammaModel,
            ParetoNBDModel,
            check_holdout,
            check_spend_holdout,
            summarise_calibration_holdout,
        )

        last = max(frame["date"])
        obs_end = observation_end or last
        if obs_end <= calibration_end:
            raise InputError(
                f"{path}: the last order ({last}) is not after --calibration-end "
                f"{calibration_end}: there is no holdout period"
            )
        progress.update(task, advance=1, description="summarising")
        summary = summarise_calibration_holdout(
            ibis.memtable(frame),
            customer_column="customer",
            date_column="date",
            amount_column="amount",
            calibration_end=calibration_end,
            observation_end=obs_end,
            time_unit=time_unit,  # type: ignore[arg-type]
        ).to_pandas()
        if len(summary) == 0:
            raise InputError(f"{path}: no customer bought on or before {calibration_end}")
        progress.update(task, advance=1, description=f"fitting {model}")
        try:
            fitted: Any
            if model == "gg":
                fitted = GammaGammaModel().fit(summary.frequency_cal, summary.monetary_value_cal)
            else:
                cls = BetaGeoModel if model == "bgnbd" else ParetoNBDModel
                fitted = cls().fit(summary.frequency_cal, summary.recency_cal, summary.T_cal)
        except (ConvergenceError, ValueError) as error:
            raise InputError(f"{path}: {error}") from error
        progress.update(task, advance=1, description="checking the holdout period")
        result: dict[str, Any] = {
            "model": model,
            "file": str(path),
            "time_unit": time_unit,
            "calibration_end": calibration_end.isoformat(),
            "observation_end": obs_end.isoformat(),
            "customers": len(summary),
            "customers_fitted": fitted.n_customers_,
            "params": fitted.params_,
            "standard_errors": fitted.standard_errors_,
            "loglik": fitted.loglik_,
        }
        if model == "gg":
            result["holdout_spend"] = check_spend_holdout(fitted, summary).to_dict(orient="records")
        else:
            result["holdout"] = check_holdout(fitted, summary).to_dict()
        progress.update(task, advance=1)
    return result


def _print_result(result: dict[str, Any]) -> None:
    names = {"bgnbd": "BG/NBD", "pnbd": "Pareto/NBD", "gg": "Gamma-Gamma"}
    params = _table(
        f"{names[result['model']]}, {result['customers_fitted']:,.0f} customers",
        ["parameter", "estimate", "std. error"],
        [
            [k, f"{v:.4f}", f"{result['standard_errors'][k]:.4f}"]
            for k, v in result["params"].items()
        ],
    )
    console.print(params)
    console.print(f"log-likelihood: {result['loglik']:.2f}; time unit {result['time_unit']}")
    if "holdout" in result:
        check = result["holdout"]
        rows = [
            [r["frequency_cal"], str(r["customers"]), f"{r['actual']:.3f}", f"{r['expected']:.3f}"]
            for r in check["by_frequency"]
        ]
        rows.append(
            [
                "total",
                str(result["customers"]),
                f"{check['actual_total']:.0f}",
                f"{check['expected_total']:.1f}",
            ]
        )
        console.print(
            _table(
                f"Holdout to {result['observation_end']}: repeat purchases per customer",
                ["calibration frequency", "customers", "actual", "expected"],
                rows,
            )
        )
    else:
        rows = [
            [r["frequency_cal"], str(r["customers"]), f"{r['actual']:.2f}", f"{r['expected']:.2f}"]
            for r in result["holdout_spend"]
        ]
        console.print(
            _table(
                "Holdout: mean spend per transaction of holdout buyers",
                ["calibration frequency", "customers", "actual", "expected"],
                rows,
            )
        )
