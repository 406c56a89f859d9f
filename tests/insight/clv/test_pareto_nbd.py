# ruff: noqa: N806  (T, X, R are the notation of the papers and of lifetimes)
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from manyi.insight.clv.pareto_nbd import ParetoNBDModel, _log_parts


def summary(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")


def test_fit_reproduces_the_published_cdnow_parameters(shared_data: Path) -> None:
    s = summary(shared_data)
    model = ParetoNBDModel().fit(s.x, s.t_x, s["T"])
    assert model.params_["r"] == pytest.approx(0.553, abs=5e-4)
    assert model.params_["alpha"] == pytest.approx(10.58, abs=5e-3)
    assert model.params_["s"] == pytest.approx(0.606, abs=5e-4)
    assert model.params_["beta"] == pytest.approx(11.67, abs=5e-3)
    assert model.loglik_ == pytest.approx(-9595.0, abs=0.05)


@pytest.mark.parametrize(("alpha", "beta"), [(10.58, 11.67), (12.5, 9.3)])
def test_death_term_equals_the_integral_it_stands_for(alpha: float, beta: float) -> None:
    # given both branches of the hypergeometric formula (alpha < beta and alpha >= beta)
    r, s, x, t_x, T = 0.55, 0.61, 3.0, 10.0, 30.0
    # when the closed form is compared with s * integral (a+t)^-(r+x) (b+t)^-(s+1) dt
    _, l2 = _log_parts(np.array([r, alpha, s, beta]), np.array([x]), np.array([t_x]), np.array([T]))
    integral = quad(lambda t: s * (alpha + t) ** -(r + x) * (beta + t) ** -(s + 1), t_x, T)[0]
    # then they agree
    assert float(np.exp(l2[0])) == pytest.approx(integral, rel=1e-9)


def test_conditional_expectation_matches_the_closed_form(shared_data: Path) -> None:
    s = summary(shared_data)
    model = ParetoNBDModel().fit(s.x, s.t_x, s["T"])
    r, alpha, s_, beta = (model.params_[k] for k in ("r", "alpha", "s", "beta"))
    alive = float(model.probability_alive(2, 30.43, 38.86))
    by_hand = (
        (r + 2)
        * (beta + 38.86)
        / ((alpha + 38.86) * (s_ - 1))
        * (1 - ((beta + 38.86) / (beta + 38.86 + 39)) ** (s_ - 1))
        * alive
    )
    assert float(model.conditional_expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(
        by_hand, rel=1e-12
    )
    assert 0 < alive < 1


@pytest.mark.parametrize(
    "params",
    [
        (0.553, 10.58, 0.606, 11.67),  # CDNOW
        (1.51, 1356.6, 0.517, 0.175),  # Olist: alpha >> beta, where hyp2f1 is slow
        (3.0, 0.01, 0.1, 0.02),  # both scales tiny: a sharp peak at the start
        (0.05, 0.5, 2.0, 300.0),
    ],
)
def test_quadrature_equals_the_hypergeometric_form(
    shared_data: Path, params: tuple[float, ...]
) -> None:
    from manyi.insight.clv.pareto_nbd import _log_parts_hypergeometric

    s = summary(shared_data)
    x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    p = np.array(params)
    l1, l2 = _log_parts(p, x, t_x, T)
    h1, h2 = _log_parts_hypergeometric(p, x, t_x, T)
    died = np.isfinite(h2)
    np.testing.assert_array_equal(l1, h1)
    np.testing.assert_allclose(l2[died], h2[died], rtol=0, atol=1e-9)
    assert np.all(l2[~died] == -np.inf)  # t_x == T: no time to die in


def test_analytic_gradient_equals_central_differences(shared_data: Path) -> None:
    from manyi.insight.clv.estimator import central_gradient
    from manyi.insight.clv.pareto_nbd import _loglik_and_grad, pareto_nbd_loglik

    s = summary(shared_data)
    x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    w = np.ones(len(x))
    for params in ([0.8, 5.0, 0.3, 20.0], [1.51, 1356.6, 0.517, 0.175]):
        p = np.array(params)
        value, grad = _loglik_and_grad(p, x, t_x, T, w)
        numeric = central_gradient(lambda q: float(w @ pareto_nbd_loglik(q, x, t_x, T)), p, 1e-7)
        assert value == pytest.approx(float(w @ pareto_nbd_loglik(p, x, t_x, T)), rel=1e-14)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-3)
