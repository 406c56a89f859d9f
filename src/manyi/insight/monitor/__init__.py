"""Monitoring: alert rules on metric series, the live numbers of promotion mode, campaign reviews.

Pure Python (no Django); the desk stores rules and alert states as JSON, runs
:func:`check_rules` in its worker, sends the messages and shows :func:`live_snapshot`.

- :mod:`~manyi.insight.monitor.series` — :data:`METRICS`, :func:`metric_series`;
- :mod:`~manyi.insight.monitor.rules` — :class:`ThresholdRule`, :class:`ChangeRule`,
  :class:`AnomalyRule`, :func:`rule_from_dict`, :func:`load_rules`;
- :mod:`~manyi.insight.monitor.evaluate` — :func:`evaluate`, :func:`evaluate_all` (with
  Benjamini–Hochberg), :func:`check_rules`, :func:`backtest`, :class:`AlertResult`;
- :mod:`~manyi.insight.monitor.debounce` — :func:`should_notify`, :class:`AlertState`;
- :mod:`~manyi.insight.monitor.campaign` — :class:`Campaign`, :func:`review_campaign`;
- :mod:`~manyi.insight.monitor.live` — :func:`live_snapshot`, :func:`baseline_profile`.

See ``docs/monitor.md``.

Examples
--------
>>> from manyi.insight.monitor import ChangeRule, evaluate, rule_from_dict
>>> rule_from_dict({"type": "change", "metric": "complaints", "window": 7}).id
'change:complaints:day:w7'
"""

from __future__ import annotations

from manyi.insight.monitor.campaign import Campaign, CampaignReview, review_campaign
from manyi.insight.monitor.debounce import AlertState, notifications, should_notify
from manyi.insight.monitor.evaluate import (
    AlertResult,
    apply_fdr,
    backtest,
    check_rules,
    evaluate,
    evaluate_all,
)
from manyi.insight.monitor.live import (
    BaselineProfile,
    LiveSnapshot,
    baseline_profile,
    live_snapshot,
)
from manyi.insight.monitor.rules import (
    AnomalyRule,
    ChangeRule,
    Rule,
    ThresholdRule,
    load_rules,
    rule_from_dict,
    rule_to_dict,
)
from manyi.insight.monitor.series import METRICS, available_metrics, metric_series

__all__ = [
    "METRICS",
    "AlertResult",
    "AlertState",
    "AnomalyRule",
    "BaselineProfile",
    "Campaign",
    "CampaignReview",
    "ChangeRule",
    "LiveSnapshot",
    "Rule",
    "ThresholdRule",
    "apply_fdr",
    "available_metrics",
    "backtest",
    "baseline_profile",
    "check_rules",
    "evaluate",
    "evaluate_all",
    "live_snapshot",
    "load_rules",
    "metric_series",
    "notifications",
    "review_campaign",
    "rule_from_dict",
    "rule_to_dict",
    "should_notify",
]
