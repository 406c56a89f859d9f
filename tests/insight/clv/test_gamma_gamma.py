from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from manyi.insight.clv.gamma_gamma import GammaGammaModel


def test_fit_on_the_946_repeat_buyers_reproduces_the_published_values(shared_data: Path) -> None:
    s = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    model = GammaGammaModel().fit(s.x, s.zbar)
    assert model.n_customers_ == 946
    assert model.params_["p"] == pytest.approx(6.25, abs=5e-3)
    assert model.params_["q"] == pytest.approx(3.74, abs=6e-3)
    assert model.params_["gamma"] == pytest.approx(15.44, abs=1e-2)


def test_conditional_expected_spend_of_the_first_ten_customers(shared_data: Path) -> None:
    s = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv.gz")
    model = GammaGammaModel().fit(s.x, s.zbar)
    spend = model.conditional_expected_average_spend(s.x[:10], s.zbar[:10])
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    assert spend.tolist() == pytest.approx(published, abs=0.01)


def test_zero_spend_of_a_repeat_buyer_is_rejected() -> None:
    with pytest.raises(ValueError, match="row 1 has frequency=2, monetary_value=0"):
        GammaGammaModel().fit([1, 2], [10.0, 0.0])
