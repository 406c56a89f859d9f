"""Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma by maximum likelihood.

Examples
--------
>>> from manyi.insight.clv import BetaGeoModel
>>> BetaGeoModel().fit([0, 1, 3, 0, 2], [0, 4, 10, 0, 7.5], [20, 20, 18, 12, 15]).params_["r"] > 0
True
"""

from __future__ import annotations

from manyi.insight.clv.bgnbd import BetaGeoModel
from manyi.insight.clv.errors import ConvergenceError, NotFittedError
from manyi.insight.clv.gamma_gamma import GammaGammaModel
from manyi.insight.clv.holdout import (
    HoldoutCheck,
    check_holdout,
    check_spend_holdout,
    track_cumulative_transactions,
)
from manyi.insight.clv.lifetime_value import (
    customer_lifetime_value,
    discounted_expected_transactions,
)
from manyi.insight.clv.pareto_nbd import ParetoNBDModel
from manyi.insight.clv.rfm import (
    daily_transactions,
    repeat_transactions_by_period,
    summarise_calibration_holdout,
    summarise_transactions,
)
from manyi.insight.clv.satisfaction_value import (
    TierShiftEstimate,
    estimate_tier_shift,
    value_by_tier,
)

__all__ = [
    "BetaGeoModel",
    "ConvergenceError",
    "GammaGammaModel",
    "HoldoutCheck",
    "NotFittedError",
    "ParetoNBDModel",
    "TierShiftEstimate",
    "check_holdout",
    "check_spend_holdout",
    "customer_lifetime_value",
    "daily_transactions",
    "discounted_expected_transactions",
    "estimate_tier_shift",
    "repeat_transactions_by_period",
    "summarise_calibration_holdout",
    "summarise_transactions",
    "track_cumulative_transactions",
    "value_by_tier",
]
