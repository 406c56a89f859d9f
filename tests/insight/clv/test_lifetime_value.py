from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from manyi.insight.clv.bgnbd import BetaGeoModel
from manyi.insight.clv.gamma_gamma import GammaGammaModel
from manyi.insight.clv.lifetime_value import (
    customer_lifetime_value,
    discounted_expected_transactions,
)
from manyi.insight.clv.pareto_nbd import ParetoNBDModel


def summary(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")


def test_without_discount_the_sum_is_the_conditional_expectation(shared_data: Path) -> None:
    s = summary(shared_data)
    model = BetaGeoModel().fit(s.x, s.t_x, s["T"])
    det = discounted_expected_transactions(
        model, s.x[:20], s.t_x[:20], s["T"][:20], periods=12, period_length=4.0, discount_rate=0.0
    )
    direct = model.conditional_expected_purchases(48.0, s.x[:20], s.t_x[:20], s["T"][:20])
    assert det == pytest.approx(direct, rel=1e-10)


def test_clv_is_spend_times_discounted_transactions(shared_data: Path) -> None:
    s = summary(shared_data)
    bg = BetaGeoModel().fit(s.x, s.t_x, s["T"])
    gg = GammaGammaModel().fit(s.x, s.zbar)
    clv = customer_lifetime_value(
        bg,
        gg,
        s.x,
        s.t_x,
        s["T"],
        s.zbar,
        periods=12,
        period_length=365.25 / 12 / 7,
        discount_rate=0.01,
        margin=0.3,
    )
    det = discounted_expected_transactions(
        bg, s.x, s.t_x, s["T"], periods=12, period_length=365.25 / 12 / 7, discount_rate=0.01
    )
    spend = gg.conditional_expected_average_spend(s.x, s.zbar)
    assert clv == pytest.approx(0.3 * spend * det, rel=1e-12)
    assert np.all(clv > 0)


def test_pareto_dert_matches_a_fine_discrete_discounting(shared_data: Path) -> None:
    # given continuous discounting at delta per week, approximated by daily periods
    s = summary(shared_data)
    model = ParetoNBDModel().fit(s.x, s.t_x, s["T"])
    delta = np.log(1.15) / 52
    dert = model.discounted_expected_residual_transactions(
        delta, [2, 7], [30.43, 29.43], [38.86, 38.86]
    )
    step = 1 / 7
    approx = discounted_expected_transactions(
        model,
        [2, 7],
        [30.43, 29.43],
        [38.86, 38.86],
        periods=7 * 52 * 60,
        period_length=step,
        discount_rate=np.expm1(delta * step),
    )
    # then the closed form (Fader, Hardie & Lee 2005, eq. 2) agrees with the long sum
    assert dert == pytest.approx(approx, rel=2e-3)
