# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from manyi.insight.clv.bgnbd import BetaGeoModel, bgnbd_loglik
from manyi.insight.clv.rfm import summarise_calibration_holdout


def cdnow_summary(shared_data: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        shared_data / "cdnow" / "cdnow_sample.csv.gz",
        dtype={"customer_id": str, "customer_id_master": str},
    )
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d").dt.date
    return summarise_calibration_holdout(
        ibis.memtable(frame),
        customer_column="customer_id",
        date_column="date",
        amount_column="dollar_value",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
    ).to_pandas()


def test_fit_reproduces_the_published_cdnow_parameters(shared_data: Path) -> None:
    # given the CDNOW 1/10 sample summarised over 39 weeks of calibration
    s = cdnow_summary(shared_data)
    # when BG/NBD is fitted
    model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    # then Fader, Hardie & Lee (2005) table values come back
    assert model.params_["r"] == pytest.approx(0.2426, abs=5e-5)
    assert model.params_["alpha"] == pytest.approx(4.4136, abs=5e-4)
    assert model.params_["a"] == pytest.approx(0.7929, abs=5e-5)
    assert model.params_["b"] == pytest.approx(2.4259, abs=5e-4)
    assert model.loglik_ == pytest.approx(-9582.43, abs=0.005)
    assert model.n_customers_ == 2357
    assert all(se > 0 for se in model.standard_errors_.values())


def test_conditional_expectation_of_the_papers_example_customer(shared_data: Path) -> None:
    s = cdnow_summary(shared_data)
    model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    # E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 in the paper
    expected = model.conditional_expected_purchases(39.0, 2, 30.43, 38.86)
    assert float(expected) == pytest.approx(1.226, abs=5e-4)


def test_weights_give_the_same_fit_as_repeated_rows(shared_data: Path) -> None:
    # given every customer twice, and once with weight 2
    s = cdnow_summary(shared_data)
    doubled = pd.concat([s, s])
    by_rows = BetaGeoModel().fit(doubled.frequency_cal, doubled.recency_cal, doubled.T_cal)
    by_weight = BetaGeoModel().fit(
        s.frequency_cal, s.recency_cal, s.T_cal, weights=np.full(len(s), 2.0)
    )
    # then the estimates agree and the log-likelihood is twice the single one
    for name in BetaGeoModel.param_names:
        assert by_rows.params_[name] == pytest.approx(by_weight.params_[name], rel=1e-6)
    assert by_rows.loglik_ == pytest.approx(2 * -9582.43, abs=0.01)


def test_loglik_stays_finite_for_heavy_buyers() -> None:
    # given a customer with 500 repeat purchases, where (alpha+T)^(r+x) overflows a float
    params = np.array([0.2426, 4.4136, 0.7929, 2.4259])
    with np.errstate(over="ignore"):
        naive_power = np.float64(4.4136 + 38.86) ** (0.2426 + 500)
    # when the log-likelihood is evaluated
    ll = bgnbd_loglik(params, np.array([500.0]), np.array([38.0]), np.array([38.86]))
    # then it is finite although the naive term is not
    assert not np.isfinite(naive_power)
    assert np.isfinite(ll).all()


def test_probability_alive_is_one_without_repeat_purchases(shared_data: Path) -> None:
    s = cdnow_summary(shared_data)
    model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    alive = model.probability_alive([0, 0], [0.0, 0.0], [10.0, 38.0])
    assert alive.tolist() == [1.0, 1.0]
    # a customer who bought often but long ago is less likely alive than a recent one
    old, recent = model.probability_alive([5, 5], [5.0, 38.0], [38.86, 38.86])
    assert old < recent


def test_invalid_summary_is_rejected_with_the_row() -> None:
    with pytest.raises(ValueError, match="recency must not exceed T; row 1"):
        BetaGeoModel().fit([0, 2], [0.0, 40.0], [38.0, 38.0])


def test_probability_of_purchase_equals_integrating_the_posterior(shared_data: Path) -> None:
    import math

    from scipy import integrate
    from scipy.special import betaln, gammaln

    # given BG/NBD fitted to CDNOW
    s = cdnow_summary(shared_data)
    model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    r, alpha, a, b = model.params_.values()
    log_norm = r * math.log(alpha) - float(gammaln(r)) - float(betaln(a, b))

    def numeric(t: float, x: int, t_x: float, T: float) -> float:
        # 1 - P(no purchase in (T, T+t]) by integrating λ and p against their posterior
        def joint(lam: float, p: float, silent: bool) -> float:
            prior = math.exp(
                log_norm
                + (r - 1) * math.log(lam)
                - alpha * lam
                + (a - 1) * math.log(p)
                + (b - 1) * math.log1p(-p)
            )
            alive = (1 - p) ** x * lam**x * math.exp(-lam * T)
            dead = p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x) if x > 0 else 0.0
            return prior * (alive * (math.exp(-lam * t) if silent else 1.0) + dead)

        def integral(silent: bool) -> float:
            return float(
                integrate.dblquad(lambda lam, p: joint(lam, p, silent), 0, 1, 0, 60, epsabs=1e-13)[
                    0
                ]
            )

        return 1 - integral(True) / integral(False)

    # when the closed form is evaluated, then it matches the integral
    for x, t_x, T in [(0, 0.0, 38.86), (2, 30.43, 38.86)]:
        closed = float(model.conditional_probability_of_purchase(39, x, t_x, T))
        assert closed == pytest.approx(numeric(39, x, t_x, T), abs=1e-8)
    # and it lies between 0 and P(alive), rising with the horizon
    p = model.conditional_probability_of_purchase(
        np.array([[13.0], [39.0]]), s.frequency_cal, s.recency_cal, s.T_cal
    )
    alive = model.probability_alive(s.frequency_cal, s.recency_cal, s.T_cal)
    assert np.all(p[0] < p[1])
    assert np.all((p[1] > 0) & (p[1] <= alive))
