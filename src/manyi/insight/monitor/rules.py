"""Alert rules: plain, frozen dataclasses that turn into JSON and back, for the desk to store.

Three kinds, each about one metric of :data:`manyi.insight.monitor.series.METRICS`:

:class:`ThresholdRule`
    the metric over the last ``window`` periods crosses a fixed limit ("late share of the last
    7 days above 15 %");
:class:`ChangeRule`
    the metric moved against a baseline (the previous 28 days, or the same weekdays of the
    previous four weeks) by more than chance allows, with the test that fits the metric;
:class:`AnomalyRule`
    the latest period is unusual for the series' own history and weekly pattern (robust
    seasonal z-score, an STL-like decomposition, or an EWMA / CUSUM control chart).

Every rule has an ``id`` (default: built from its kind, metric and main settings; give your own
when two rules would share one), a ``freq`` (``day`` or ``hour``), a ``cooldown`` (periods,
default 3, during which a rule that fired stays quiet unless it worsens by more than
``worsen_by``; see :mod:`manyi.insight.monitor.debounce`) and ``min_n`` (fewest units — orders,
reviews, answers — under the current value).

Examples
--------
>>> from manyi.insight.monitor.rules import ChangeRule, rule_from_dict, rule_to_dict
>>> rule = ChangeRule("late_share", window=7, alpha=0.01, min_change=0.03)
>>> rule.id
'change:late_share:day:w7'
>>> rule_from_dict(rule_to_dict(rule)) == rule
True
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from manyi.insight.errors import InsightError
from manyi.insight.monitor.series import FREQS, get_metric

Op = Literal[">", ">=", "<", "<="]
Direction = Literal["worse", "up", "down", "both"]
ChangeTest = Literal["auto", "z", "welch", "mann_whitney", "poisson", "poisson_exact", "nps_z"]
Baseline = Literal["previous", "same_weekday"]
AnomalyMethod = Literal["seasonal_mad", "stl", "ewma", "cusum"]
Sensitivity = Literal["low", "medium", "high"]

OPS = (">", ">=", "<", "<=")
DIRECTIONS = ("worse", "up", "down", "both")
CHANGE_TESTS = ("auto", "z", "welch", "mann_whitney", "poisson", "poisson_exact", "nps_z")
BASELINES = ("previous", "same_weekday")
ANOMALY_METHODS = ("seasonal_mad", "stl", "ewma", "cusum")
SENSITIVITIES = ("low", "medium", "high")
#: Which tests fit which metric kind.
TESTS_BY_KIND: dict[str, tuple[str, ...]] = {
    "count": ("poisson", "poisson_exact"),
    "proportion": ("z",),
    "mean": ("welch", "mann_whitney"),
    "nps": ("nps_z",),
}
#: The test ``auto`` picks per kind.
AUTO_TEST = {"count": "poisson", "proportion": "z", "mean": "welch", "nps": "nps_z"}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InsightError(message)


def _check_common(rule: ThresholdRule | ChangeRule | AnomalyRule) -> None:
    get_metric(rule.metric)
    _check(rule.freq in FREQS, f"freq must be one of {', '.join(FREQS)}, not {rule.freq!r}")
    _check(rule.window >= 1, "window must be at least 1 period")
    _check(rule.min_n >= 0, "min_n cannot be negative")
    _check(rule.cooldown >= 0, "cooldown cannot be negative")


@dataclass(frozen=True)
class ThresholdRule:
    """Fire when the metric over the last ``window`` periods is ``op`` ``value``.

    Parameters
    ----------
    metric
        A name from :data:`~manyi.insight.monitor.series.METRICS`.
    op
        ``">"``, ``">="``, ``"<"`` or ``"<="``.
    value
        The limit in the metric's units (a share as a fraction: 0.15 for 15 %).
    min_n
        Stay quiet while fewer units (orders, reviews) stand behind the value.
    window
        Periods pooled into the current value (sums of numerators and denominators).
    """

    metric: str
    op: Op
    value: float
    min_n: int = 0
    window: int = 1
    freq: str = "day"
    cooldown: int = 3
    worsen_by: float = 0.0
    id: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        _check(self.op in OPS, f"op must be one of {' '.join(OPS)}, not {self.op!r}")
        if not self.id:
            name = f"threshold:{self.metric}:{self.freq}:{self.op}{self.value:g}"
            object.__setattr__(self, "id", name + (f":w{self.window}" if self.window > 1 else ""))


@dataclass(frozen=True)
class ChangeRule:
    """Fire when the current window differs from a baseline beyond chance.

    Parameters
    ----------
    metric
        A name from :data:`~manyi.insight.monitor.series.METRICS`.
    window
        Current periods pooled (1: the latest day).
    baseline
        ``"previous"``: the ``baseline_periods`` periods before the current window (after a
        ``gap``); ``"same_weekday"``: among those, only the ones a whole number of weeks (daily)
        or of days (hourly: the same hour) before a current period.
    baseline_periods
        Length of the baseline span (default 28).
    gap
        Periods left out between baseline and current window (a slow-building problem should
        not leak into its own baseline).
    test
        ``auto`` (z for shares, Welch for means, quasi-Poisson for counts, ``nps_z`` for NPS),
        or one of ``z``, ``welch``, ``mann_whitney`` (ratings), ``poisson``,
        ``poisson_exact``, ``nps_z``.
    alpha
        Fire when the p-value is at most ``alpha`` (with a batch FDR, the BH q-value instead).
    min_change
        Smallest absolute change worth a message, in the metric's units (per period for
        counts); 0: any.
    min_relative_change
        Smallest change relative to the baseline (0.3 = 30 %); 0: any.
    direction
        ``worse`` (the metric's bad direction), ``up``, ``down`` or ``both``. One-sided
        directions use one-sided tests.
    overdispersion
        Widen the variance by the baseline's Pearson dispersion φ ≥ 1 (see
        :mod:`~manyi.insight.monitor.significance`). Ignored by the exact and rank tests.
    """

    metric: str
    window: int = 1
    baseline: Baseline = "previous"
    baseline_periods: int = 28
    gap: int = 0
    test: ChangeTest = "auto"
    alpha: float = 0.01
    min_change: float = 0.0
    min_relative_change: float = 0.0
    direction: Direction = "worse"
    overdispersion: bool = True
    min_n: int = 0
    freq: str = "day"
    cooldown: int = 3
    worsen_by: float = 0.0
    id: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        kind = get_metric(self.metric).kind
        _check(self.baseline in BASELINES, f"baseline must be one of {', '.join(BASELINES)}")
        _check(self.baseline_periods >= 2, "baseline_periods must be at least 2")
        _check(self.gap >= 0, "gap cannot be negative")
        _check(0 < self.alpha < 1, "alpha must lie between 0 and 1")
        _check(self.min_change >= 0 and self.min_relative_change >= 0, "minimum changes are >= 0")
        _check(self.direction in DIRECTIONS, f"direction must be one of {', '.join(DIRECTIONS)}")
        _check(
            self.test == "auto" or self.test in TESTS_BY_KIND[kind],
            f"test {self.test!r} does not fit {self.metric} (a {kind}); use "
            f"{' or '.join(('auto', *TESTS_BY_KIND[kind]))}",
        )
        if self.test == "mann_whitney":
            _check(bool(get_metric(self.metric).levels), "mann_whitney needs a discrete scale")
        if not self.id:
            name = f"change:{self.metric}:{self.freq}"
            if self.window > 1:
                name += f":w{self.window}"
            if self.baseline != "previous":
                name += f":{self.baseline}"
            object.__setattr__(self, "id", name)

    @property
    def chosen_test(self) -> str:
        """The test actually used (``auto`` resolved by the metric's kind)."""
        return AUTO_TEST[get_metric(self.metric).kind] if self.test == "auto" else self.test


@dataclass(frozen=True)
class AnomalyRule:
    """Fire when the latest period is unusual for the series' own history.

    Parameters
    ----------
    metric
        A name from :data:`~manyi.insight.monitor.series.METRICS`.
    method
        ``seasonal_mad``: robust z-score against the median of the same weekday (daily) or
        hour of the day (hourly) over ``history`` periods, scaled by the MAD of the
        deviations; ``stl``: robust trend + weekly seasonal decomposition, the score of the
        latest residual; ``ewma`` / ``cusum``: control charts over the last ``run`` periods
        of those robust z-scores, in-control level and scale from the ``history`` before them.
    sensitivity
        ``low``, ``medium`` or ``high``; sets the limit (see
        :data:`~manyi.insight.monitor.anomaly.LIMITS`) unless ``threshold`` is given.
    threshold
        The limit itself: |z| for ``seasonal_mad``/``stl``, L for ``ewma``, h for ``cusum``.
    history
        Periods of history behind the expected value (default 56: eight weeks of days).
    warmup
        Fewest history periods with data before the rule may fire.
    season
        Periods per season (default: 7 for days, 24 for hours).
    run
        Periods an EWMA / CUSUM chart runs over (ending with the current one).
    direction
        As for :class:`ChangeRule`.
    """

    metric: str
    method: AnomalyMethod = "seasonal_mad"
    sensitivity: Sensitivity = "medium"
    threshold: float | None = None
    history: int = 56
    warmup: int = 28
    season: int | None = None
    run: int = 14
    direction: Direction = "worse"
    window: int = 1
    min_n: int = 0
    freq: str = "day"
    cooldown: int = 3
    worsen_by: float = 0.0
    id: str = ""

    def __post_init__(self) -> None:
        _check_common(self)
        _check(
            self.method in ANOMALY_METHODS, f"method must be one of {', '.join(ANOMALY_METHODS)}"
        )
        _check(self.sensitivity in SENSITIVITIES, "sensitivity must be low, medium or high")
        _check(self.threshold is None or self.threshold > 0, "threshold must be positive")
        _check(self.history >= 2, "history must be at least 2 periods")
        _check(0 <= self.warmup <= self.history, "warmup must lie between 0 and history")
        _check(self.season is None or self.season >= 1, "season must be at least 1")
        _check(self.run >= 1, "run must be at least 1 period")
        _check(self.window == 1, "anomaly rules judge one period at a time (window = 1)")
        _check(self.direction in DIRECTIONS, f"direction must be one of {', '.join(DIRECTIONS)}")
        if not self.id:
            object.__setattr__(self, "id", f"anomaly:{self.metric}:{self.method}:{self.freq}")

    @property
    def season_length(self) -> int:
        """``season``, or 7 for daily and 24 for hourly series."""
        if self.season is not None:
            return self.season
        return 7 if self.freq == "day" else 24


Rule = ThresholdRule | ChangeRule | AnomalyRule
_TYPES: dict[str, type[ThresholdRule] | type[ChangeRule] | type[AnomalyRule]] = {
    "threshold": ThresholdRule,
    "change": ChangeRule,
    "anomaly": AnomalyRule,
}


def rule_type(rule: Rule) -> str:
    """``threshold``, ``change`` or ``anomaly``."""
    return next(name for name, cls in _TYPES.items() if isinstance(rule, cls))


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The rule as a JSON-ready dict with a ``type`` key."""
    return {"type": rule_type(rule), **dataclasses.asdict(rule)}


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """Build a rule from :func:`rule_to_dict`'s output (or hand-written YAML/JSON).

    Raises
    ------
    InsightError
        Unknown ``type`` or field, or a value the rule refuses.
    """
    fields = dict(data)
    kind = fields.pop("type", None)
    if kind not in _TYPES:
        raise InsightError(f"rule type must be one of {', '.join(_TYPES)}, not {kind!r}")
    cls = _TYPES[str(kind)]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InsightError(f"{kind} rule: unknown field(s) {', '.join(unknown)}")
    try:
        return cls(**fields)
    except TypeError as exc:  # a missing required field
        raise InsightError(f"{kind} rule: {exc}") from None


def rules_to_json(rules: Sequence[Rule]) -> str:
    """The rules as a JSON list."""
    return json.dumps([rule_to_dict(r) for r in rules], ensure_ascii=False, indent=1)


def load_rules(path: str | Path) -> list[Rule]:
    """Read rules from a YAML or JSON file: a list, or a mapping with a ``rules`` list.

    Raises
    ------
    InsightError
        Unreadable file, or a rule that is not valid (naming its position).
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InsightError(f"cannot read rules from {path}: {exc}") from None
    if isinstance(data, dict):
        data = data.get("rules")
    if not isinstance(data, list) or not data:
        raise InsightError(f"{path}: expected a list of rules (or a 'rules:' list)")
    out: list[Rule] = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise InsightError(f"{path}: rule {i} is not a mapping")
        try:
            out.append(rule_from_dict(item))
        except InsightError as exc:
            raise InsightError(f"{path}: rule {i}: {exc}") from None
    ids = [r.id for r in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InsightError(f"{path}: rule ids must be unique; repeated: {', '.join(dupes)}")
    return out
