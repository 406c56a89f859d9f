"""Debouncing: a rule that fired stays quiet for its cooldown unless the problem worsens.

The evaluation itself is stateless (:func:`manyi.insight.monitor.evaluate.evaluate` says whether
the rule's condition holds); whether to *notify* depends on what was sent before. The desk keeps
one :class:`AlertState` per rule (JSON) and calls :func:`should_notify` after each evaluation:

* the rule did not fire → no notification, the state is kept;
* no earlier notification, or ``rule.cooldown`` periods or more since it → notify;
* within the cooldown → notify only if the value is worse than the one last notified by more
  than ``rule.worsen_by`` (in the metric's units; 0: any worsening), in the rule's bad
  direction (for ``both``: further from the expected value).

The cooldown counts from the last *notification*, so a problem that lasts is reported again
every ``cooldown`` periods, not every period.

Examples
--------
>>> from manyi.insight.monitor.debounce import AlertState, should_notify
>>> from manyi.insight.monitor.evaluate import AlertResult
>>> from manyi.insight.monitor.rules import ThresholdRule
>>> rule = ThresholdRule("late_share", ">", 0.15, cooldown=3)
>>> def fired(day, value):
...     return AlertResult(rule.id, "threshold", "late_share", day, "fired", True, value, 0.15,
...                        None, None, "", "")
>>> notify, state = should_notify(rule, fired("2018-03-05", 0.20), None)
>>> notify, should_notify(rule, fired("2018-03-06", 0.18), state)[0]
(True, False)
>>> should_notify(rule, fired("2018-03-07", 0.25), state)[0]   # worse: notified at once
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from manyi.insight.monitor.rules import ThresholdRule
from manyi.insight.monitor.series import STEP, get_metric

if TYPE_CHECKING:
    from manyi.insight.monitor.evaluate import AlertResult
    from manyi.insight.monitor.rules import Rule


@dataclass(frozen=True)
class AlertState:
    """What was last notified for a rule (stored by the desk as JSON).

    Attributes
    ----------
    rule_id
        The rule.
    period
        The period of the last notification (as in :attr:`AlertResult.period`).
    value, expected
        Its value and expected value.
    """

    rule_id: str
    period: str
    value: float | None
    expected: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            rule_id=str(data["rule_id"]),
            period=str(data["period"]),
            value=None if data.get("value") is None else float(data["value"]),
            expected=None if data.get("expected") is None else float(data["expected"]),
        )


def _side(rule: Rule) -> str:
    direction = getattr(rule, "direction", "worse")
    if direction != "worse":
        return str(direction)
    if isinstance(rule, ThresholdRule):
        return "up" if rule.op in (">", ">=") else "down"
    return get_metric(rule.metric).worse


def _worse(rule: Rule, result: AlertResult, state: AlertState) -> bool:
    if result.value is None or state.value is None:
        return False
    margin = rule.worsen_by
    side = _side(rule)
    if side == "up":
        return result.value > state.value + margin
    if side == "down":
        return result.value < state.value - margin
    now = abs(result.value - (result.expected or 0.0))
    before = abs(state.value - (state.expected or 0.0))
    return now > before + margin


def should_notify(
    rule: Rule, result: AlertResult, state: AlertState | None
) -> tuple[bool, AlertState | None]:
    """Whether ``result`` should be sent, and the state to store afterwards.

    Parameters
    ----------
    rule
        The rule that produced ``result`` (its ``cooldown``, ``worsen_by``, direction).
    result
        The latest evaluation.
    state
        What was last notified for this rule (``None``: nothing yet).
    """
    if not result.fired:
        return False, state
    new = AlertState(rule.id, result.period, result.value, result.expected)
    if state is None or state.rule_id != rule.id:
        return True, new
    elapsed = (pd.Timestamp(result.period) - pd.Timestamp(state.period)) / STEP[rule.freq]
    if elapsed >= rule.cooldown or elapsed < 0:
        return True, new
    if _worse(rule, result, state):
        return True, new
    return False, state


def notifications(rule: Rule, results: Iterable[AlertResult]) -> list[AlertResult]:
    """The results of a run of periods (a :func:`~manyi.insight.monitor.evaluate.backtest`)
    that would have been sent, starting with no state."""
    state: AlertState | None = None
    sent = []
    for result in results:
        notify, state = should_notify(rule, result, state)
        if notify:
            sent.append(result)
    return sent
