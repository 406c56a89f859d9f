from __future__ import annotations

import pytest

from manyi.insight.clv.satisfaction_value import estimate_tier_shift, value_by_tier


def test_value_by_tier_orders_and_aggregates() -> None:
    table = value_by_tier(
        ["low", "high", "mid", "high", "low"],
        [10.0, 50.0, 20.0, 70.0, 30.0],
        repeat_probability=[0, 1, 1, 1, 0],
        tier_order=["low", "mid", "high"],
    )
    assert table.tier.tolist() == ["low", "mid", "high"]
    assert table.customers.tolist() == [2, 1, 2]
    assert table.mean_value.tolist() == [20.0, 20.0, 60.0]
    assert table.total_value.tolist() == [40.0, 20.0, 120.0]
    assert table.repeat_probability.tolist() == [0.0, 1.0, 1.0]
    assert table.share.tolist() == [0.4, 0.2, 0.4]


def test_tier_shift_moves_a_share_of_each_lower_tier_up_one() -> None:
    table = value_by_tier([1, 1, 2, 3, 3], [10.0, 30.0, 25.0, 60.0, 60.0])
    # 10 % of tier 1 (2 customers) gain 25 - 20 = 5; 10 % of tier 2 (1) gains 60 - 25 = 35
    estimate = estimate_tier_shift(table, share=0.1)
    assert estimate.moved_customers == pytest.approx(0.3)
    assert estimate.expected_change == pytest.approx(0.2 * 5 + 0.1 * 35)
    assert estimate.by_tier.from_tier.tolist() == [1, 2]
    assert any("not causal" in a for a in estimate.assumptions)


def test_tier_shift_rejects_moving_the_top_tier() -> None:
    table = value_by_tier([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="top tier 2 cannot move up"):
        estimate_tier_shift(table, share=0.5, from_tiers=[2])
