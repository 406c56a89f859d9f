from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from manyi.insight.drivers.design import DriverDesign, build_design
from manyi.insight.drivers.logistic import logistic_loglik, mcfadden_shapley


def churn_design(shared_data: Path) -> DriverDesign:
    frame = pd.read_csv(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")
    return build_design(
        frame, "Churn", ["SatisfactionScore", "Complain", "Tenure", "CityTier", "PreferedOrderCat"]
    )


def test_newton_loglik_matches_scikit_learn(shared_data: Path) -> None:
    design = churn_design(shared_data)
    fitted = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-10).fit(design.X, design.y)
    p = fitted.predict_proba(design.X)[:, 1]
    sklearn_ll = float(np.sum(design.y * np.log(p) + (1 - design.y) * np.log(1 - p)))
    assert logistic_loglik(design.X, design.y) == pytest.approx(sklearn_ll, abs=1e-3)


def test_mcfadden_shares_add_up_and_complaints_matter(shared_data: Path) -> None:
    design = churn_design(shared_data)
    shares, pseudo = mcfadden_shapley(design.X, design.y, design.groups)
    null = logistic_loglik(np.empty((len(design.y), 0)), design.y)
    assert shares.sum() == pytest.approx(pseudo, abs=1e-12)
    assert pseudo == pytest.approx(1 - logistic_loglik(design.X, design.y) / null, abs=1e-9)
    ranked = [design.drivers[j] for j in np.argsort(-shares)]
    assert ranked[:2] == ["Tenure", "Complain"]
