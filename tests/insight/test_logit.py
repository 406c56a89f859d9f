"""The IRLS logistic model against closed forms and scikit-learn."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from manyi.insight.logit import ConvergenceError, LogitModel


def test_single_binary_predictor_gives_the_cross_ratio_and_woolf_se() -> None:
    # given a 2×2 table: exposed 30 events / 70 non, unexposed 10 / 90
    x = np.r_[np.ones(100), np.zeros(100)][:, None]
    y = np.r_[np.ones(30), np.zeros(70), np.ones(10), np.zeros(90)]
    model = LogitModel().fit(x, y, feature_names=["exposed"])
    odds = model.odds_ratios().iloc[0]
    # then OR = (30·90)/(70·10) and SE(log OR) = √(1/30 + 1/70 + 1/10 + 1/90) (Woolf)
    se = math.sqrt(1 / 30 + 1 / 70 + 1 / 10 + 1 / 90)
    assert odds["odds_ratio"] == pytest.approx(2700 / 700, rel=1e-9)
    assert odds["se"] == pytest.approx(se, rel=1e-9)
    assert odds["low"] == pytest.approx(math.exp(math.log(2700 / 700) - 1.959964 * se), rel=1e-6)
    assert model.intercept_ == pytest.approx(math.log(10 / 90), rel=1e-9)


def test_matches_unpenalised_sklearn_on_real_churn(shared_data: object) -> None:
    from pathlib import Path

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    path = Path(str(shared_data)) / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz"
    frame = pd.read_csv(path).dropna(subset=["SatisfactionScore", "Complain", "Tenure"])
    x = frame[["SatisfactionScore", "Complain", "Tenure"]].to_numpy(float)
    y = frame["Churn"].to_numpy()
    ours = LogitModel().fit(x, y)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(x, y)  # unpenalised
    assert ours.coef_ == pytest.approx(ref.coef_[0], rel=1e-4)
    assert ours.predict_proba(x[:5]) == pytest.approx(ref.predict_proba(x[:5])[:, 1], rel=1e-4)


def test_contract_pickle_and_params() -> None:
    model = LogitModel(max_iter=20)
    assert model.get_params() == {"max_iter": 20, "tol": 1e-10, "fit_intercept": True}
    assert not hasattr(model, "coef_")
    x = np.array([[0.0], [0.0], [1.0], [1.0], [0.5]])
    fitted = model.fit(x, np.array([0, 1, 0, 1, 1]))
    assert fitted is model
    again = pickle.loads(pickle.dumps(model))
    assert again.coef_ == pytest.approx(model.coef_)


def test_separation_and_bad_input_raise_clear_errors() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    with pytest.raises(ConvergenceError, match="separates the outcome"):
        LogitModel().fit(x, np.array([0, 0, 1, 1]))
    with pytest.raises(ValueError, match="both kinds"):
        LogitModel().fit(x, np.array([1, 1, 1, 1]))
    with pytest.raises(ValueError, match="finite"):
        LogitModel().fit(np.array([[np.nan], [1.0]]), np.array([0, 1]))
