"""Key-driver analysis: Shapley (LMG) shares of R², relative weights, logistic and ordinal
variants.

Examples
--------
>>> import numpy as np
>>> from manyi.insight.drivers import shapley_r2
>>> shares, r2 = shapley_r2(np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([0.6, 0.4]))
>>> bool(abs(shares.sum() - r2) < 1e-12)
True
"""

from __future__ import annotations

from manyi.insight.drivers.analysis import KeyDriverAnalysis
from manyi.insight.drivers.design import DriverDesign, build_design
from manyi.insight.drivers.logistic import mcfadden_shapley
from manyi.insight.drivers.ordinal import ordered_logit_loglik, ordinal_shapley
from manyi.insight.drivers.relative_weights import relative_weights
from manyi.insight.drivers.shapley import correlation_parts, shapley_r2, subset_r2

__all__ = [
    "DriverDesign",
    "KeyDriverAnalysis",
    "build_design",
    "correlation_parts",
    "mcfadden_shapley",
    "ordered_logit_loglik",
    "ordinal_shapley",
    "relative_weights",
    "shapley_r2",
    "subset_r2",
]
