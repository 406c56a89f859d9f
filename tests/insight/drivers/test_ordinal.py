# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from manyi.data.samples import sample_path
from manyi.insight.drivers.analysis import KeyDriverAnalysis
from manyi.insight.drivers.design import build_design
from manyi.insight.drivers.logistic import logistic_loglik
from manyi.insight.drivers.ordinal import (
    MAX_ORDINAL_DRIVERS,
    ordered_logit_loglik,
    ordinal_levels,
    ordinal_null_loglik,
    ordinal_shapley,
)


def olist_ratings() -> pd.DataFrame:
    """Review ratings of the bundled Olist sample with delivery days, late flag and price."""
    folder = Path(sample_path("olist"))
    orders = pd.read_csv(folder / "olist_orders_dataset.csv.gz")
    reviews = pd.read_csv(folder / "olist_order_reviews_dataset.csv.gz")
    items = pd.read_csv(folder / "olist_order_items_dataset.csv.gz")
    bought = pd.to_datetime(orders["order_purchase_timestamp"])
    came = pd.to_datetime(orders["order_delivered_customer_date"])
    promised = pd.to_datetime(orders["order_estimated_delivery_date"])
    orders["delivery_days"] = (came - bought).dt.total_seconds() / 86_400
    orders["late"] = (came.dt.normalize() > promised.dt.normalize()).astype(float)
    price = items.groupby("order_id")["price"].sum().rename("price")
    frame = reviews.merge(orders, on="order_id").join(price, on="order_id")
    frame["log_price"] = np.log1p(frame["price"])
    frame = frame.dropna(subset=["delivery_days", "log_price"])
    return frame[["review_score", "delivery_days", "late", "log_price"]]


def scipy_ordered_loglik(X: np.ndarray, codes: np.ndarray, K: int) -> float:
    """The proportional-odds likelihood maximised by a general-purpose optimiser."""

    def nll(params: np.ndarray) -> float:
        thresholds = np.cumsum(np.r_[params[0], np.exp(params[1 : K - 1])])
        eta = X @ params[K - 1 :]
        cuts = np.r_[-np.inf, thresholds, np.inf]
        chance = expit(cuts[codes + 1] - eta) - expit(cuts[codes] - eta)
        return float(-np.sum(np.log(np.maximum(chance, 1e-300))))

    start = np.r_[-1.0, np.zeros(K - 2), np.zeros(X.shape[1])]
    fitted = minimize(nll, start, method="BFGS", options={"gtol": 1e-7, "maxiter": 2000})
    return -float(fitted.fun)


def test_newton_matches_a_general_optimiser_on_olist_ratings() -> None:
    # given the 1–5★ ratings of the bundled Olist sample and three standardised drivers
    frame = olist_ratings()
    X = frame[["delivery_days", "late", "log_price"]].to_numpy(dtype=float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    codes, levels = ordinal_levels(frame["review_score"])
    # when both fit the proportional-odds model
    ours = ordered_logit_loglik(X, codes, len(levels))
    theirs = scipy_ordered_loglik(X, codes, len(levels))
    # then they reach the same maximum, and it beats the thresholds-only model
    assert levels.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert ours == pytest.approx(theirs, abs=1e-4)
    assert ours > ordinal_null_loglik(codes, 5) + 100


def test_two_levels_give_the_logistic_likelihood(shared_data: Path) -> None:
    churn = pd.read_csv(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")
    design = build_design(churn, "Churn", ["SatisfactionScore", "Complain", "CityTier"])
    codes, _ = ordinal_levels(design.y)
    assert ordered_logit_loglik(design.X, codes, 2) == pytest.approx(
        logistic_loglik(design.X, design.y), abs=1e-6
    )
    null = ordinal_null_loglik(codes, 2)
    assert null == pytest.approx(logistic_loglik(np.empty((len(codes), 0)), design.y), abs=1e-9)


def test_shares_are_the_average_increment_over_every_ordering() -> None:
    # given three drivers of the Olist ratings
    frame = olist_ratings()
    X = frame[["delivery_days", "late", "log_price"]].to_numpy(dtype=float)
    y = frame["review_score"].to_numpy(dtype=float)
    # when the ordinal Shapley shares are computed
    shares, pseudo = ordinal_shapley(X, y)
    # then they equal the brute-force average over the 3! orderings of refitted models
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    codes, _ = ordinal_levels(y)
    null = ordinal_null_loglik(codes, 5)

    def value(cols: tuple[int, ...]) -> float:
        if not cols:
            return 0.0
        return 1 - ordered_logit_loglik(Z[:, list(cols)], codes, 5) / null

    brute = np.zeros(3)
    for order in permutations(range(3)):
        for position, j in enumerate(order):
            before = tuple(sorted(order[:position]))
            brute[j] += value(tuple(sorted((*before, j)))) - value(before)
    brute /= 6
    np.testing.assert_allclose(shares, brute, atol=1e-9)
    assert shares.sum() == pytest.approx(pseudo, abs=1e-12)
    # delivery (days, late) explains far more of the rating than the price does
    assert min(shares[0], shares[1]) > 5 * shares[2]


def test_key_driver_analysis_ordinal_with_bootstrap() -> None:
    frame = olist_ratings()
    kda = KeyDriverAnalysis("ordinal", n_bootstrap=20, random_state=0).fit(
        frame, target="review_score", drivers=["delivery_days", "late", "log_price"]
    )
    table = kda.to_frame()
    assert kda.method_ == "ordinal"
    assert kda.importance_.sum() == pytest.approx(kda.r2_, abs=1e-12)
    assert table["share"].sum() == pytest.approx(1.0)
    assert (table["ci_low"] <= table["importance"]).all()
    assert (table["importance"] <= table["ci_high"]).all()
    # auto never picks the ordinal variant for a rating: it stays the linear LMG
    assert KeyDriverAnalysis().fit(frame, target="review_score").method_ == "shapley"


def test_limits_are_explained() -> None:
    X = np.random.default_rng(0).normal(size=(50, MAX_ORDINAL_DRIVERS + 1))
    y = np.tile([1.0, 2.0], 25)
    with pytest.raises(ValueError, match="2\\^p models"):
        ordinal_shapley(X, y)
    with pytest.raises(ValueError, match="at least two levels"):
        ordinal_shapley(X[:, :2], np.ones(50))
    with pytest.raises(ValueError, match="must occur at least once"):
        ordered_logit_loglik(X[:, :1], np.array([0, 2] * 25), 3)
