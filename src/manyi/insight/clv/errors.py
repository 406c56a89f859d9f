"""Errors raised by the customer-lifetime-value estimators."""

from __future__ import annotations


class NotFittedError(RuntimeError):
    """An estimator was used for prediction before ``fit`` was called."""


class ConvergenceError(RuntimeError):
    """The maximum-likelihood optimiser did not converge.

    The message carries the optimiser's own message and a hint on what to change.
    """
