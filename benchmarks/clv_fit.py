# ruff: noqa: N806  (T, X, R are the notation of the papers and of lifetimes)
"""Benchmark: manyi's CLV fits against lifetimes 0.11.3 and PyMC-Marketing's MAP fits.

lifetimes, in its benchmark environment (it needs pandas<3)::

    python3 -m venv .venv-bench-clv
    .venv-bench-clv/bin/pip install -e . -r requirements/bench-clv.txt
    .venv-bench-clv/bin/python benchmarks/clv_fit.py [--customers 1000000] [--repeats 5]

PyMC-Marketing (``--pymc``), in a throwaway environment of its own::

    python3 -m venv /tmp/venv-pymc && /tmp/venv-pymc/bin/pip install pymc-marketing -e .
    /tmp/venv-pymc/bin/python benchmarks/clv_fit.py --pymc [--customers 100000]

Prints a Markdown table: median wall time of each fit and the largest relative difference
between the libraries' parameters.  lifetimes is fitted on the raw rows (what its users do);
manyi collapses repeated summaries itself.  PyMC-Marketing is given flat (``HalfFlat``) priors
so that its MAP estimate is the maximum-likelihood estimate the others compute; its first fit
includes compiling the model, later fits (median of ``--repeats``) reuse it.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manyi.insight.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def simulate_bgnbd(n: int, params: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """Customers born uniformly over 12 weeks, observed to week 39, purchase days rounded."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    birth_day = rng.integers(0, 84, n)
    T = (273 - birth_day) / 7.0
    x = np.zeros(n)
    t_x = np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        clock[idx] += rng.exponential(1 / lam[idx])
        bought = clock[idx] < T[idx]
        done = idx[~bought]
        alive[done] = False
        buyers = idx[bought]
        x[buyers] += 1
        t_x[buyers] = np.floor(clock[buyers] * 7) / 7  # purchase days, as real data has
        alive[buyers[rng.random(len(buyers)) < p[buyers]]] = False
    spend = np.where(x > 0, rng.gamma(6.25, 15.44 / 3.74 / 6.25 * 2.74, n) + 1.0, 0.0).round(2)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": spend})


def rel_diff(ours: dict[str, float], theirs: list[float]) -> float:
    return max(abs(a - b) / abs(b) for a, b in zip(ours.values(), theirs, strict=True))


def pymc_fits(customers: int, repeats: int) -> None:
    """manyi against PyMC-Marketing's MAP (flat priors) on CDNOW and simulated customers."""
    from pymc_extras.prior import Prior
    from pymc_marketing import clv

    names = {
        "BG/NBD": (clv.BetaGeoModel, ("r", "alpha", "a", "b")),
        "Pareto/NBD": (clv.ParetoNBDModel, ("r", "alpha", "s", "beta")),
        "Gamma-Gamma": (clv.GammaGammaModel, ("p", "q", "v")),
    }
    cdnow = pd.read_csv(SHARED / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    cdnow = cdnow.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    bg = BetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow["T"])
    sim = simulate_bgnbd(customers, bg.params_)
    rows = []
    for label, data in (("CDNOW (2,357)", cdnow), (f"simulated ({customers:,})", sim)):
        frame = data.assign(customer_id=np.arange(len(data)))
        buyers = frame[frame.frequency > 0]
        ours = {
            "BG/NBD": lambda d=frame: BetaGeoModel().fit(d.frequency, d.recency, d["T"]),
            "Pareto/NBD": lambda d=frame: ParetoNBDModel().fit(d.frequency, d.recency, d["T"]),
            "Gamma-Gamma": lambda d=buyers: GammaGammaModel().fit(d.frequency, d.monetary_value),
        }
        for model, (cls, params) in names.items():
            t_ours, fitted = timed(ours[model], repeats)
            columns = ["customer_id", "frequency"] + (
                ["monetary_value"] if model == "Gamma-Gamma" else ["recency", "T"]
            )
            subset = (buyers if model == "Gamma-Gamma" else frame)[columns]
            flat = {name: Prior("HalfFlat") for name in params}
            try:
                start = time.perf_counter()
                theirs = cls(data=subset, model_config=flat)
                theirs.fit(method="map", progressbar=False)
                t_first = time.perf_counter() - start
                t_again, _ = timed(lambda m=theirs: m.fit(method="map", progressbar=False), repeats)
                summary = theirs.fit_summary()
                values = [float(summary[name]) for name in params]
                diff = rel_diff(fitted.params_, values)
                cells = [
                    f"{t_first:.2f}",
                    f"{t_again:.2f}",
                    f"{t_again / t_ours:.0f}×",
                    f"{diff:.1e}",
                ]
            except Exception as exc:  # report whatever stops it
                cells = [f"failed: {type(exc).__name__}: {str(exc)[:80]}", "", "", ""]
            rows.append([label, model, f"{t_ours:.3f}", *cells])
            print(f"done: {label} {model}", flush=True)
    print()
    print(
        "| data | model | manyi (s) | PyMC-Marketing MAP, first fit (s) | later fits (s) "
        "| speed-up (later fits) | max rel. param diff |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--skip-lifetimes-pnbd-1m",
        action="store_true",
        help="lifetimes' Pareto/NBD on 1M raw rows takes minutes",
    )
    parser.add_argument(
        "--pymc", action="store_true", help="compare with PyMC-Marketing instead of lifetimes"
    )
    args = parser.parse_args()
    if args.pymc:
        warnings.filterwarnings("ignore")
        pymc_fits(args.customers, args.repeats)
        return
    warnings.filterwarnings("ignore")
    # One BLAS thread for both libraries: on a shared 2-core machine OpenBLAS threads spin
    # against other jobs and make small fits 20x slower, which would measure the machine.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    cdnow = pd.read_csv(SHARED / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    cdnow = cdnow.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    bg = BetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow["T"])
    sim = simulate_bgnbd(args.customers, bg.params_)
    distinct = len(sim[["frequency", "recency", "T"]].drop_duplicates())

    rows = []
    for label, data, repeats in (
        ("CDNOW (2,357)", cdnow, args.repeats),
        (f"simulated ({args.customers:,}; {distinct:,} distinct)", sim, 1),
    ):
        repeat_buyers = data[data.frequency > 0]
        cases: list[tuple[str, Callable[[], Any], Callable[[], Any], bool]] = [
            (
                "BG/NBD",
                lambda d=data: BetaGeoModel().fit(d.frequency, d.recency, d["T"]),
                lambda d=data: BetaGeoFitter().fit(d.frequency, d.recency, d["T"]),
                True,
            ),
            (
                "Pareto/NBD",
                lambda d=data: ParetoNBDModel().fit(d.frequency, d.recency, d["T"]),
                lambda d=data: ParetoNBDFitter().fit(d.frequency, d.recency, d["T"]),
                not (args.skip_lifetimes_pnbd_1m and data is sim),
            ),
            (
                "Gamma-Gamma",
                lambda d=repeat_buyers: GammaGammaModel().fit(d.frequency, d.monetary_value),
                lambda d=repeat_buyers: GammaGammaFitter().fit(d.frequency, d.monetary_value),
                True,
            ),
        ]
        for model, ours, theirs, run_theirs in cases:
            t_ours, fitted = timed(ours, repeats)
            if run_theirs:
                t_theirs, other = timed(theirs, repeats)
                diff = rel_diff(fitted.params_, list(other.params_.values))
                cells = [f"{t_theirs:.3f}", f"{t_theirs / t_ours:.1f}×", f"{diff:.1e}"]
            else:
                cells = ["not run", "", ""]
            params = ", ".join(f"{k}={v:.4g}" for k, v in fitted.params_.items())
            rows.append([label, model, f"{t_ours:.3f}", *cells, params])
            print(f"done: {label} {model}", flush=True)

    print()
    print(
        "| data | model | manyi (s) | lifetimes 0.11.3 (s) | speed-up | max rel. param diff "
        "| manyi parameters |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"Median of {args.repeats} runs on CDNOW, 1 run on the simulated data; one BLAS thread.")
    print(
        "Reproduce: .venv-bench-clv/bin/python benchmarks/clv_fit.py "
        f"--customers {args.customers} --repeats {args.repeats}"
    )


if __name__ == "__main__":
    main()
