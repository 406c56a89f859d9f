"""One test holds every estimator of manyi.insight to the scikit-learn style contract."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from manyi.insight.clv.bgnbd import BetaGeoModel
from manyi.insight.clv.errors import ConvergenceError, NotFittedError
from manyi.insight.clv.gamma_gamma import GammaGammaModel
from manyi.insight.clv.pareto_nbd import ParetoNBDModel
from manyi.insight.drivers.analysis import KeyDriverAnalysis

Case = tuple[
    Callable[[], Any], Callable[[Any, pd.DataFrame, pd.DataFrame], Any], Callable[[Any], Any]
]

CASES: dict[str, Case] = {
    "bgnbd": (
        BetaGeoModel,
        lambda m, s, c: m.fit(s.x, s.t_x, s["T"]),
        lambda m: m.probability_alive([1, 2], [3.0, 20.0], [38.0, 38.0]),
    ),
    "pnbd": (
        ParetoNBDModel,
        lambda m, s, c: m.fit(s.x, s.t_x, s["T"]),
        lambda m: m.probability_alive([1, 2], [3.0, 20.0], [38.0, 38.0]),
    ),
    "gg": (
        GammaGammaModel,
        lambda m, s, c: m.fit(s.x, s.zbar),
        lambda m: m.conditional_expected_average_spend([1, 2], [20.0, 30.0]),
    ),
    "drivers": (
        lambda: KeyDriverAnalysis(n_bootstrap=5, random_state=0),
        lambda m, s, c: m.fit(
            c, target="SatisfactionScore", drivers=["Complain", "Tenure", "CityTier"]
        ),
        lambda m: m.to_frame(),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_estimator_contract(name: str, shared_data: Path) -> None:
    make, fit, use = CASES[name]
    s = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    churn = pd.read_csv(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")
    # given a fresh estimator: the constructor stores parameters and learns nothing
    estimator = make()
    assert not [k for k in vars(estimator) if k.endswith("_")]
    with pytest.raises(NotFittedError, match="not fitted"):
        use(estimator)
    # when it is fitted, fit returns the estimator itself
    assert fit(estimator, s, churn) is estimator
    learned = sorted(k for k in vars(estimator) if k.endswith("_"))
    assert learned
    # then a plain pickle round trip predicts the same
    clone = pickle.loads(pickle.dumps(estimator))
    before, after = use(estimator), use(clone)
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after)
    else:
        assert before.tolist() == after.tolist()


def test_non_convergence_names_the_optimiser_and_gives_a_hint(shared_data: Path) -> None:
    s = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    model = BetaGeoModel(max_iter=2)
    with pytest.raises(ConvergenceError, match=r"did not converge: .*Hint:"):
        model.fit(s.x, s.t_x, s["T"])
    assert not hasattr(model, "params_")
