"""Evaluate alert rules on metric series: one rule, a batch with Benjamini–Hochberg, a source.

:func:`evaluate` judges one rule on one tidy series (see :mod:`manyi.insight.monitor.series`)
at one period and returns an :class:`AlertResult` with the value, what was expected, the
p-value or score, messages in English and Chinese, and the evidence as plain JSON.

:func:`evaluate_all` judges many rules at once. With ``fdr`` set, the p-values of the change
rules are adjusted together by Benjamini–Hochberg and a change rule fires when its q-value is at
most ``fdr`` (its own ``alpha`` is then not used): watching 20 metrics at α = 0.01 each would
otherwise raise a false alarm somewhere on one day in five. Threshold rules (a fixed limit, no
chance involved) and anomaly rules (control charts with their own limits; their scores are
not p-values) are not adjusted.

:func:`check_rules` does the whole round on a source: computes each metric series once over the
span the rules need and evaluates them.

Examples
--------
>>> import pandas as pd
>>> from manyi.insight.monitor.evaluate import evaluate
>>> from manyi.insight.monitor.rules import ThresholdRule
>>> days = pd.date_range("2018-03-01", periods=3, freq="D")
>>> series = pd.DataFrame({"period": days, "value": [0.05, 0.06, 0.2], "n": [100, 100, 50],
...                        "k": [5, 6, 10]})
>>> r = evaluate(ThresholdRule("late_share", ">", 0.15, min_n=30), series, "2018-03-03")
>>> r.fired, r.message_en
(True, 'Late deliveries on 2018-03-03: 20.0 % (n = 50), above the limit of 15.0 %.')
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from manyi.insight.errors import InsightError, SourceError
from manyi.insight.monitor import anomaly as an
from manyi.insight.monitor import significance as sig
from manyi.insight.monitor.messages import (
    METHOD_NAMES,
    TEST_NAMES,
    change_text,
    p_text,
    per_period,
    period_text,
    value_text,
)
from manyi.insight.monitor.rules import AnomalyRule, ChangeRule, Rule, ThresholdRule, rule_type
from manyi.insight.monitor.series import STEP, MetricSpec, get_metric, metric_series, supports

if TYPE_CHECKING:
    from manyi.insight.sources import Source

STATUSES = ("fired", "quiet", "insufficient_data", "warming_up")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_OP_WORDS = {
    ">": ("above", "高于"),
    ">=": ("at or above", "不低于"),
    "<": ("below", "低于"),
    "<=": ("at or below", "不高于"),
}


@dataclass(frozen=True)
class AlertResult:
    """The verdict of one rule at one period.

    Attributes
    ----------
    rule_id, rule_type, metric
        Which rule (``threshold``, ``change`` or ``anomaly``) on which metric.
    period
        The period judged (ISO date, or date and hour), shop-local.
    status
        ``fired``, ``quiet``, ``insufficient_data`` (no value, too few units, too short a
        baseline, or a source without the metric's tables) or ``warming_up`` (an anomaly rule
        with less history than its ``warmup``).
    fired
        Whether the alert goes off (``status == "fired"``).
    value, expected
        The current value (per period for counts) and the limit, baseline value or forecast.
    p_value, q_value
        Change rules: the test's p-value and, in a batch with an FDR, the BH q-value.
    score
        Anomaly rules: the statistic compared with the limit.
    message_en, message_zh
        One plain sentence each.
    evidence
        JSON-ready numbers behind the verdict (test, effect and interval, dispersion, baseline
        span, limit, ...).
    eligible
        Every condition except the p-value holds (enough units, change large enough); used to
        re-decide after the BH adjustment.
    """

    rule_id: str
    rule_type: str
    metric: str
    period: str
    status: str
    fired: bool
    value: float | None
    expected: float | None
    p_value: float | None
    score: float | None
    message_en: str
    message_zh: str
    evidence: dict[str, Any] = field(default_factory=dict)
    eligible: bool = False
    q_value: float | None = None

    def message(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        return self.message_zh if lang == "zh" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (NaN as ``None``)."""
        return {k: _plain(v) for k, v in dataclasses.asdict(self).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# --- periods and pooling ---------------------------------------------------------------------


def as_period(as_of: date | datetime | str | pd.Timestamp, freq: str) -> pd.Timestamp:
    """The period (shop-local, naive) that holds ``as_of``.

    Raises
    ------
    InsightError
        For an aware datetime: pass the shop's wall time.
    """
    stamp = pd.Timestamp(as_of)
    if stamp.tzinfo is not None:
        raise InsightError("as_of must be the shop's local wall time (a naive date or datetime)")
    return stamp.floor("D" if freq == "day" else "h")


def period_label(period: pd.Timestamp, freq: str) -> str:
    """ISO text of a period: ``2018-03-05`` or ``2018-03-05T15:00``."""
    return period.strftime("%Y-%m-%d") if freq == "day" else period.strftime("%Y-%m-%dT%H:%M")


Columns = dict[str, "npt.NDArray[np.float64]"]


class _Table:
    """A tidy series as NumPy columns, looked up by period (missing periods read as NaN)."""

    def __init__(self, series: pd.DataFrame, spec: MetricSpec) -> None:
        needed = [c for c in spec.columns() if c != "period"]
        missing = [c for c in ["period", *needed] if c not in series.columns]
        if missing:
            raise InsightError(f"the {spec.name} series lacks column(s) {', '.join(missing)}")
        periods = series["period"]
        if not pd.api.types.is_datetime64_any_dtype(periods):
            periods = pd.to_datetime(periods)
        self.index = pd.DatetimeIndex(periods)
        if not self.index.is_unique:
            raise InsightError(f"the {spec.name} series repeats a period")
        self.columns = {c: series[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in needed}

    def take(self, wanted: pd.DatetimeIndex) -> Columns:
        positions = self.index.get_indexer(wanted)
        found = positions >= 0
        out: Columns = {}
        for name, values in self.columns.items():
            column = np.full(len(positions), np.nan)
            column[found] = values[positions[found]]
            out[name] = column
        return out


def _span(end: pd.Timestamp, count: int, step: pd.Timedelta) -> pd.DatetimeIndex:
    return pd.date_range(end=end, periods=count, freq=step)


def _present(cols: Columns) -> Columns:
    keep = np.isfinite(cols["n"])
    return {name: values[keep] for name, values in cols.items()}


def pool(cols: Columns, spec: MetricSpec) -> dict[str, float]:
    """Sum the numerators and denominators of some periods and recompute the value.

    ``cols`` are per-period arrays (NaN ``n`` = no data for that period). For counts the value
    is the mean per period with data (``periods``).
    """
    present = _present(cols)
    out = {name: float(values.sum()) for name, values in present.items() if name != "value"}
    periods = len(present["n"])
    out["periods"] = float(periods)
    n = out["n"]
    value: float | None
    if spec.kind == "count":
        value = n / periods if periods else None
    elif n <= 0:
        value = None
    elif spec.kind == "proportion":
        value = out["k"] / n
    elif spec.kind == "mean":
        value = out["total"] / n
    else:
        value = 100.0 * (out["promoters"] - out["detractors"]) / n
    out["value"] = math.nan if value is None else value
    return out


def _sd(stats: Mapping[str, float]) -> float:
    """Sample standard deviation of single values from pooled sums (0 below two values)."""
    n = stats["n"]
    if n < 2:
        return 0.0
    mean = stats["total"] / n
    return math.sqrt(max(0.0, (stats["total_sq"] - n * mean * mean) / (n - 1)))


def _alternative(direction: str, spec: MetricSpec) -> sig.Alternative:
    if direction == "worse":
        direction = spec.worse
    if direction == "up":
        return "greater"
    if direction == "down":
        return "less"
    return "two-sided"


def _side(direction: str, spec: MetricSpec) -> str:
    """``up``, ``down`` or ``both``."""
    return spec.worse if direction == "worse" else direction


# --- results ---------------------------------------------------------------------------------


def _result(
    rule: Rule,
    at: pd.Timestamp,
    status: str,
    *,
    en: str,
    zh: str,
    value: float | None = None,
    expected: float | None = None,
    p_value: float | None = None,
    score: float | None = None,
    evidence: dict[str, Any] | None = None,
    eligible: bool = False,
) -> AlertResult:
    return AlertResult(
        rule_id=rule.id,
        rule_type=rule_type(rule),
        metric=rule.metric,
        period=period_label(at, rule.freq),
        status=status,
        fired=status == "fired",
        value=_num(value),
        expected=_num(expected),
        p_value=_num(p_value),
        score=_num(score),
        message_en=en,
        message_zh=zh,
        evidence=_plain(evidence or {}),
        eligible=eligible,
    )


def _no_data(
    rule: Rule, spec: MetricSpec, at: pd.Timestamp, why_en: str, why_zh: str
) -> AlertResult:
    name_en, name_zh = spec.title["en"], spec.title["zh"]
    when_en = period_text(at, rule.freq, rule.window, "en")
    when_zh = period_text(at, rule.freq, rule.window, "zh")
    return _result(
        rule,
        at,
        "insufficient_data",
        en=f"{name_en} {when_en}: not judged — {why_en}.",
        zh=f"{name_zh}（{when_zh}）：未判定——{why_zh}。",
        evidence={"reason": why_en},
    )


# --- threshold -------------------------------------------------------------------------------


def _threshold(
    rule: ThresholdRule, spec: MetricSpec, table: _Table, at: pd.Timestamp
) -> AlertResult:
    step = STEP[rule.freq]
    current = table.take(_span(at, rule.window, step))
    stats = pool(current, spec)
    value = _num(stats["value"])
    if value is None:
        return _no_data(rule, spec, at, "no data in the window", "窗口内没有数据")
    if stats["n"] < rule.min_n:
        return _no_data(
            rule,
            spec,
            at,
            f"only {stats['n']:.0f} units, fewer than min_n = {rule.min_n}",
            f"只有 {stats['n']:.0f} 个样本，少于 min_n = {rule.min_n}",
        )
    fired = _OPS[rule.op](value, rule.value)
    word_en, word_zh = _OP_WORDS[rule.op]
    unit = spec.unit
    v_en = value_text(unit, value, "en") + per_period(unit, rule.freq, "en")
    v_zh = value_text(unit, value, "zh") + per_period(unit, rule.freq, "zh")
    lim_en, lim_zh = value_text(unit, rule.value, "en"), value_text(unit, rule.value, "zh")
    when_en = period_text(at, rule.freq, rule.window, "en")
    when_zh = period_text(at, rule.freq, rule.window, "zh")
    n_en = f" (n = {stats['n']:,.0f})" if spec.kind != "count" else ""
    n_zh = f"（n = {stats['n']:,.0f}）" if spec.kind != "count" else ""
    if fired:
        en = f"{spec.title['en']} {when_en}: {v_en}{n_en}, {word_en} the limit of {lim_en}."
        zh = f"{when_zh} {spec.title['zh']}：{v_zh}{n_zh}，{word_zh}阈值 {lim_zh}。"
    else:
        en = (
            f"{spec.title['en']} {when_en}: {v_en}{n_en}, within the limit "
            f"(alert {word_en} {lim_en})."
        )
        zh = (
            f"{when_zh} {spec.title['zh']}：{v_zh}{n_zh}，未触发阈值（{word_zh} {lim_zh} 时告警）。"
        )
    return _result(
        rule,
        at,
        "fired" if fired else "quiet",
        en=en,
        zh=zh,
        value=value,
        expected=rule.value,
        evidence={"op": rule.op, "limit": rule.value, "window": rule.window, "n": stats["n"]},
        eligible=True,
    )


# --- change ----------------------------------------------------------------------------------


def baseline_periods(rule: ChangeRule, at: pd.Timestamp) -> pd.DatetimeIndex:
    """The baseline periods of ``rule`` when the current window ends at ``at``."""
    step = STEP[rule.freq]
    first_current = at - step * (rule.window - 1)
    end = first_current - step * (rule.gap + 1)
    span = _span(end, rule.baseline_periods, step)
    if rule.baseline == "previous":
        return span
    season = 7 if rule.freq == "day" else 24
    keep = {(-i) % season for i in range(rule.window)}
    offsets = np.rint((span - at) / step).astype(np.int64) % season
    return span[np.isin(offsets, list(keep))]


def _nps_dispersion(rows: Columns) -> float:
    n = rows["n"]
    keep = n > 0
    if keep.sum() < 2:
        return 1.0
    pro, det = rows["promoters"][keep], rows["detractors"][keep]
    n = n[keep]
    p, d = pro.sum() / n.sum(), det.sum() / n.sum()
    var_unit = p + d - (p - d) ** 2
    if var_unit <= 0:
        return 1.0
    scores = (pro - det) / n
    chi2 = float(((scores - (p - d)) ** 2 / (var_unit / n)).sum())
    return max(1.0, chi2 / (len(n) - 1))


def compare_windows(
    spec: MetricSpec,
    current: Columns,
    baseline: Columns,
    *,
    test: str,
    alternative: sig.Alternative = "two-sided",
    overdispersion: bool = True,
) -> sig.Comparison:
    """Run ``test`` on two sets of periods of one metric (per-period arrays, as :func:`pool`).

    ``baseline``'s per-period variation sets the dispersion φ when ``overdispersion`` is on.
    """
    cur, base = pool(current, spec), pool(baseline, spec)
    base_rows = _present(baseline)
    # φ rests on the baseline's periods: refer the statistic to t on periods - 1 df.
    df = base["periods"] - 1 if overdispersion else None
    if test == "poisson":
        phi = sig.count_dispersion(base_rows["n"].tolist()) if overdispersion else 1.0
        return sig.poisson_rates(
            cur["n"],
            cur["periods"],
            base["n"],
            base["periods"],
            alternative=alternative,
            dispersion=phi,
            dispersion_df=df,
        )
    if test == "poisson_exact":
        return sig.poisson_exact(
            round(cur["n"]),
            cur["periods"],
            round(base["n"]),
            base["periods"],
            alternative=alternative,
        )
    if test == "z":
        phi = (
            sig.proportion_dispersion(base_rows["k"].tolist(), base_rows["n"].tolist())
            if overdispersion
            else 1.0
        )
        return sig.two_proportions(
            cur["k"], cur["n"], base["k"], base["n"], alternative=alternative, dispersion=phi,
            dispersion_df=df,
        )  # fmt: skip
    if test == "welch":
        phi = (
            sig.mean_dispersion(
                base_rows["total"].tolist(), base_rows["total_sq"].tolist(), base_rows["n"].tolist()
            )
            if overdispersion
            else 1.0
        )
        return sig.welch(
            cur["total"] / cur["n"] if cur["n"] else math.nan,
            _sd(cur),
            cur["n"],
            base["total"] / base["n"] if base["n"] else math.nan,
            _sd(base),
            base["n"],
            alternative=alternative,
            dispersion=phi,
            dispersion_df=df,
        )
    if test == "mann_whitney":
        levels = list(spec.levels)
        return sig.mann_whitney_counts(
            levels,
            [cur[f"at_{v}"] for v in levels],
            [base[f"at_{v}"] for v in levels],
            alternative=alternative,
        )
    if test == "nps_z":
        phi = _nps_dispersion(base_rows) if overdispersion else 1.0
        return sig.nps_difference(
            cur["promoters"], cur["detractors"], cur["n"],
            base["promoters"], base["detractors"], base["n"],
            alternative=alternative, dispersion=phi, dispersion_df=df,
        )  # fmt: skip
    raise InsightError(f"unknown test {test!r}")


def _change(rule: ChangeRule, spec: MetricSpec, table: _Table, at: pd.Timestamp) -> AlertResult:
    step = STEP[rule.freq]
    current = table.take(_span(at, rule.window, step))
    wanted = baseline_periods(rule, at)
    baseline = table.take(wanted)
    present = int(np.isfinite(baseline["n"]).sum())
    cur_stats = pool(current, spec)
    if _num(cur_stats["value"]) is None:
        return _no_data(rule, spec, at, "no data in the window", "窗口内没有数据")
    if present < max(2, len(wanted) // 2):
        return _no_data(
            rule,
            spec,
            at,
            f"the baseline has data for {present} of {len(wanted)} periods",
            f"基线 {len(wanted)} 个周期中只有 {present} 个有数据",
        )
    base_stats = pool(baseline, spec)
    if _num(base_stats["value"]) is None:
        return _no_data(rule, spec, at, "no data in the baseline", "基线内没有数据")
    test = rule.chosen_test
    alternative = _alternative(rule.direction, spec)
    comp = compare_windows(
        spec, current, baseline, test=test, alternative=alternative,
        overdispersion=rule.overdispersion,
    )  # fmt: skip
    value, expected = cur_stats["value"], base_stats["value"]
    effect = value - expected
    relative = abs(effect) / abs(expected) if expected else math.inf
    big_enough = abs(effect) >= rule.min_change and relative >= rule.min_relative_change
    eligible = cur_stats["n"] >= rule.min_n and big_enough and comp.p_value is not None
    fired = eligible and comp.p_value is not None and comp.p_value <= rule.alpha
    evidence = {
        "test": test,
        "alternative": alternative,
        "alpha": rule.alpha,
        "statistic": comp.statistic,
        "effect": comp.effect,
        "effect_low": comp.low,
        "effect_high": comp.high,
        "ratio": comp.ratio,
        "ratio_low": comp.ratio_low,
        "ratio_high": comp.ratio_high,
        "dispersion": comp.dispersion,
        "current_n": cur_stats["n"],
        "baseline_n": base_stats["n"],
        "baseline": rule.baseline,
        "baseline_periods": present,
        "baseline_start": period_label(min(wanted), rule.freq),
        "baseline_end": period_label(max(wanted), rule.freq),
        "extra": comp.extra,
    }
    en, zh = _change_messages(rule, spec, at, value, expected, comp, present, fired)
    return _result(
        rule,
        at,
        "fired" if fired else "quiet",
        en=en,
        zh=zh,
        value=value,
        expected=expected,
        p_value=comp.p_value,
        evidence=evidence,
        eligible=eligible,
    )


def _change_messages(
    rule: ChangeRule,
    spec: MetricSpec,
    at: pd.Timestamp,
    value: float,
    expected: float,
    comp: sig.Comparison,
    baseline_count: int,
    fired: bool,
) -> tuple[str, str]:
    unit, freq = spec.unit, rule.freq
    up = value > expected
    size_en = (
        f"×{comp.ratio:.1f}"
        if unit == "count" and comp.ratio
        else change_text(unit, value - expected, "en")
    )
    size_zh = (
        f"×{comp.ratio:.1f}"
        if unit == "count" and comp.ratio
        else change_text(unit, value - expected, "zh")
    )
    cur_en = value_text(unit, value, "en") + per_period(unit, freq, "en")
    cur_zh = value_text(unit, value, "zh") + per_period(unit, freq, "zh")
    base_en = value_text(unit, expected, "en") + per_period(unit, freq, "en")
    base_zh = value_text(unit, expected, "zh") + per_period(unit, freq, "zh")
    periods_en = f"{baseline_count} {'days' if freq == 'day' else 'hours'}"
    periods_zh = f"{baseline_count} {'天' if freq == 'day' else '小时'}"
    same = rule.baseline == "same_weekday"
    base_words_en = (
        f"the same {'weekdays' if freq == 'day' else 'hours'} of the {periods_en} before"
        if same
        else f"the {periods_en} before"
    )
    base_words_zh = (
        f"此前{'同星期' if freq == 'day' else '同时段'}的 {periods_zh}"
        if same
        else f"此前 {periods_zh}"
    )
    when_en = period_text(at, freq, rule.window, "en")
    when_zh = period_text(at, freq, rule.window, "zh")
    p = p_text(comp.p_value)
    head_en = f"{spec.title['en']} {when_en}: {cur_en} against {base_en} over {base_words_en}"
    head_zh = f"{when_zh} {spec.title['zh']}：{cur_zh}，{base_words_zh}为 {base_zh}"
    if fired:
        en = (
            f"{head_en}, a significant {'rise' if up else 'fall'} "
            f"({size_en}; {p}, {TEST_NAMES[rule.chosen_test]})."
        )
        zh = f"{head_zh}，显著{'上升' if up else '下降'}（{size_zh}；{p}）。"
    else:
        en = f"{head_en} ({size_en}; {p}): no significant change."
        zh = f"{head_zh}（{size_zh}；{p}），无显著变化。"
    return en, zh


# --- anomaly ---------------------------------------------------------------------------------


def _floor(
    spec: MetricSpec, expected: float, current: Mapping[str, float], hist: Mapping[str, float]
) -> float:
    """Sampling noise of the current value: the least scale an anomaly is measured in."""
    n = current.get("n", 0.0)
    if spec.kind == "count":
        return math.sqrt(max(expected, 1.0))
    if n <= 0:
        return math.nan
    if spec.kind == "proportion":
        p = min(max(expected, 0.5 / n), 1 - 0.5 / n) if n > 1 else 0.5
        return math.sqrt(p * (1 - p) / n)
    if spec.kind == "mean":
        unit_sd = _sd(hist) if hist.get("n", 0) >= 2 else _sd(current)
        return unit_sd / math.sqrt(n)
    total = hist.get("n", 0.0)
    if total <= 0:
        return 0.0
    p, d = hist["promoters"] / total, hist["detractors"] / total
    return 100 * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)


def _anomaly(rule: AnomalyRule, spec: MetricSpec, table: _Table, at: pd.Timestamp) -> AlertResult:
    step = STEP[rule.freq]
    season = rule.season_length
    chart = rule.method in ("ewma", "cusum")
    run = rule.run if chart else 1
    run_periods = _span(at, run, step)
    hist_periods = _span(run_periods[0] - step, rule.history, step)
    history = table.take(hist_periods)
    current = table.take(run_periods)
    values = history["value"]
    used = int(np.isfinite(values).sum())
    now = {name: float(column[-1]) for name, column in current.items()}
    if not np.isfinite(now["value"]):
        return _no_data(rule, spec, at, "no value for this period", "本周期没有数值")
    if now["n"] < rule.min_n:
        return _no_data(
            rule,
            spec,
            at,
            f"only {now['n']:.0f} units, fewer than min_n = {rule.min_n}",
            f"只有 {now['n']:.0f} 个样本，少于 min_n = {rule.min_n}",
        )
    limit = (
        rule.threshold if rule.threshold is not None else an.LIMITS[rule.method][rule.sensitivity]
    )
    side = _side(rule.direction, spec)
    hist_stats = pool(history, spec)
    value = float(now["value"])
    if used < max(rule.warmup, 2):
        when_en = period_text(at, rule.freq, 1, "en")
        when_zh = period_text(at, rule.freq, 1, "zh")
        return _result(
            rule,
            at,
            "warming_up",
            en=(
                f"{spec.title['en']} {when_en}: warming up "
                f"({used} of {rule.warmup} history periods)."
            ),
            zh=f"{spec.title['zh']}（{when_zh}）：预热中（历史数据 {used}/{rule.warmup} 个周期）。",
            value=value,
            evidence={"method": rule.method, "history": used, "warmup": rule.warmup},
        )
    detail: dict[str, Any]
    if chart:
        medians, mad_scale, _ = an.seasonal_medians(values, season)
        expected_run = medians[np.arange(run) % season]
        floors = np.array(
            [
                _floor(
                    spec,
                    float(expected_run[j]),
                    {c: float(v[j]) for c, v in current.items()},
                    hist_stats,
                )
                if np.isfinite(current["value"][j])
                else math.nan
                for j in range(run)
            ]
        )
        z = an.chart_scores(current["value"], expected_run, mad_scale, floors)
        expected = float(expected_run[-1])
        scale = max(np.nan_to_num(mad_scale, nan=0.0), float(np.nan_to_num(floors[-1], nan=0.0)))
        if rule.method == "ewma":
            score, seen = an.ewma_statistic(z)
            detail = {"lambda": an.EWMA_LAMBDA, "run_values": seen}
        else:
            score, alarms = an.cusum_statistic(z, limit, side)
            detail = {"k": an.CUSUM_K, "alarms_in_run": alarms}
        detail["z_latest"] = float(z[-1]) if np.isfinite(z[-1]) else None
        detail["mad_scale"] = mad_scale
    else:
        medians, _, _ = an.seasonal_medians(values, season)
        floor = _floor(spec, float(medians[0]), now, hist_stats)
        floor = 0.0 if not math.isfinite(floor) else floor
        method = an.seasonal_mad if rule.method == "seasonal_mad" else an.stl_score
        res = method(values, value, season=season, floor=floor)
        expected = res.expected if res.expected is not None else math.nan
        scale = res.scale if res.scale is not None else math.nan
        score = res.score
        detail = dict(res.detail)
    if score is None:
        return _no_data(rule, spec, at, "no score could be computed", "无法计算得分")
    if rule.method == "cusum":
        fired = abs(score) > limit and (side == "both" or (score > 0) == (side == "up"))
    elif side == "up":
        fired = score > limit
    elif side == "down":
        fired = score < -limit
    else:
        fired = abs(score) > limit
    evidence = {
        "method": rule.method,
        "limit": limit,
        "direction": side,
        "expected": expected,
        "scale": scale,
        "history": used,
        "season": season,
        "run": run,
        **detail,
    }
    en, zh = _anomaly_messages(rule, spec, at, value, expected, score, limit, fired)
    return _result(
        rule,
        at,
        "fired" if fired else "quiet",
        en=en,
        zh=zh,
        value=value,
        expected=expected,
        score=score,
        evidence=evidence,
        eligible=True,
    )


def _anomaly_messages(
    rule: AnomalyRule,
    spec: MetricSpec,
    at: pd.Timestamp,
    value: float,
    expected: float,
    score: float,
    limit: float,
    fired: bool,
) -> tuple[str, str]:
    unit = spec.unit
    method_en, method_zh = METHOD_NAMES[rule.method]
    when_en = period_text(at, rule.freq, 1, "en")
    when_zh = period_text(at, rule.freq, 1, "zh")
    v_en, v_zh = value_text(unit, value, "en"), value_text(unit, value, "zh")
    e_en, e_zh = value_text(unit, expected, "en"), value_text(unit, expected, "zh")
    stat = f"{score:.1f}".replace("-", "−")
    if fired:
        word_en = "unusually high" if value > expected else "unusually low"
        word_zh = "异常偏高" if value > expected else "异常偏低"
        en = (
            f"{spec.title['en']} {when_en}: {v_en}, {word_en}; about {e_en} expected "
            f"({method_en} {stat}, limit {limit:g})."
        )
        zh = (
            f"{when_zh} {spec.title['zh']}：{v_zh}，{word_zh}；预期约 {e_zh}"
            f"（{method_zh} {stat}，阈值 {limit:g}）。"
        )
    else:
        en = (
            f"{spec.title['en']} {when_en}: {v_en}; about {e_en} expected "
            f"({method_en} {stat}, within the limit {limit:g})."
        )
        zh = (
            f"{when_zh} {spec.title['zh']}：{v_zh}；预期约 {e_zh}"
            f"（{method_zh} {stat}，未超过阈值 {limit:g}）。"
        )
    return en, zh


# --- entry points ----------------------------------------------------------------------------


def evaluate(
    rule: Rule,
    series: pd.DataFrame,
    as_of: date | datetime | str | pd.Timestamp,
    *,
    spec: MetricSpec | None = None,
) -> AlertResult:
    """Judge ``rule`` on ``series`` (the tidy series of ``rule.metric``) at period ``as_of``.

    Parameters
    ----------
    rule
        A :class:`ThresholdRule`, :class:`ChangeRule` or :class:`AnomalyRule`.
    series
        The metric's tidy table (:func:`~manyi.insight.monitor.series.metric_series`) covering
        the current window and the baseline / history the rule needs; periods it lacks count
        as missing (not as zero).
    as_of
        The period judged, shop-local (a date for daily rules, a naive datetime for hourly).
    spec
        The metric's spec (default: from the registry by ``rule.metric``).
    """
    spec = spec or get_metric(rule.metric)
    return _judge(rule, spec, _Table(series, spec), as_period(as_of, rule.freq))


def _judge(rule: Rule, spec: MetricSpec, table: _Table, at: pd.Timestamp) -> AlertResult:
    if isinstance(rule, ThresholdRule):
        return _threshold(rule, spec, table, at)
    if isinstance(rule, ChangeRule):
        return _change(rule, spec, table, at)
    return _anomaly(rule, spec, table, at)


def backtest(
    rule: Rule,
    series: pd.DataFrame,
    start: date | datetime | str | pd.Timestamp,
    end: date | datetime | str | pd.Timestamp,
    *,
    spec: MetricSpec | None = None,
) -> list[AlertResult]:
    """:func:`evaluate` at every period from ``start`` to ``end`` (inclusive), in order.

    What the rule would have said each day (or hour): to choose a rule's sensitivity on the
    shop's own history before switching it on. No cooldown is applied (see
    :func:`manyi.insight.monitor.debounce.notifications`).
    """
    spec = spec or get_metric(rule.metric)
    table = _Table(series, spec)
    first, last = as_period(start, rule.freq), as_period(end, rule.freq)
    return [
        _judge(rule, spec, table, at) for at in pd.date_range(first, last, freq=STEP[rule.freq])
    ]


def apply_fdr(results: Sequence[AlertResult], fdr: float) -> list[AlertResult]:
    """Re-decide change results by Benjamini–Hochberg q-values at level ``fdr``.

    Only ``change`` results with a p-value take part; the others are returned unchanged.
    """
    if not 0 < fdr < 1:
        raise InsightError("fdr must lie between 0 and 1")
    family = [i for i, r in enumerate(results) if r.rule_type == "change" and r.p_value is not None]
    q_values = sig.benjamini_hochberg([results[i].p_value for i in family])
    out = list(results)
    for i, q in zip(family, q_values, strict=True):
        r = results[i]
        fired = r.eligible and q is not None and q <= fdr
        en, zh = r.message_en, r.message_zh
        if fired != r.fired:
            note_en = f" (BH q = {q:.2g} across {len(family)} tests)"
            note_zh = f"（{len(family)} 项检验 BH 校正后 q = {q:.2g}）"
            en, zh = en.rstrip(".") + note_en + ".", zh.rstrip("。") + note_zh + "。"
        out[i] = dataclasses.replace(
            r,
            q_value=q,
            fired=fired,
            status="fired" if fired else "quiet",
            message_en=en,
            message_zh=zh,
            evidence={**r.evidence, "fdr": fdr, "family_size": len(family)},
        )
    return out


def series_key(rule: Rule) -> tuple[str, str]:
    """``(metric, freq)``: rules with the same key read the same series."""
    return rule.metric, rule.freq


def evaluate_all(
    rules: Sequence[Rule],
    series: Mapping[tuple[str, str], pd.DataFrame],
    as_of: date | datetime | str | pd.Timestamp,
    *,
    fdr: float | None = None,
) -> list[AlertResult]:
    """Judge every rule on its series (``series[(metric, freq)]``); BH across change rules.

    A rule whose series is missing gets an ``insufficient_data`` result.
    """
    results = []
    for rule in rules:
        frame = series.get(series_key(rule))
        if frame is None:
            spec = get_metric(rule.metric)
            at = as_period(as_of, rule.freq)
            results.append(
                _no_data(
                    rule,
                    spec,
                    at,
                    "the source has no data for this metric",
                    "数据源缺少该指标所需的数据",
                )
            )
            continue
        results.append(evaluate(rule, frame, as_of))
    return apply_fdr(results, fdr) if fdr is not None else results


def periods_needed(rule: Rule) -> int:
    """Periods of series, ending with the judged one, that ``rule`` reads."""
    if isinstance(rule, ThresholdRule):
        return rule.window
    if isinstance(rule, ChangeRule):
        return rule.window + rule.gap + rule.baseline_periods
    return rule.history + (rule.run if rule.method in ("ewma", "cusum") else 1)


def check_rules(
    src: Source,
    rules: Sequence[Rule],
    as_of: date | datetime,
    *,
    fdr: float | None = None,
) -> list[AlertResult]:
    """One evaluation round on a source: each series computed once, then :func:`evaluate_all`.

    Parameters
    ----------
    src
        The source.
    rules
        The rules.
    as_of
        The shop-local day (or naive local hour for hourly rules) judged.
    fdr
        Benjamini–Hochberg level across the change rules (``None``: each rule's ``alpha``).

    Examples
    --------
    >>> from datetime import date
    >>> from manyi.data.samples import sample_path
    >>> from manyi.insight.sources import open_source
    >>> from manyi.insight.monitor.evaluate import check_rules
    >>> from manyi.insight.monitor.rules import ChangeRule
    >>> src = open_source(f"olist:{sample_path('olist')}")
    >>> [r.status for r in check_rules(src, [ChangeRule("orders")], date(2018, 3, 14))]
    ['quiet']
    """
    day = pd.Timestamp(as_period(as_of, "hour")).date()
    spans: dict[tuple[str, str], int] = {}
    for rule in rules:
        key = series_key(rule)
        spans[key] = max(spans.get(key, 0), periods_needed(rule))
    series: dict[tuple[str, str], pd.DataFrame] = {}
    for (metric, freq), count in spans.items():
        if not supports(src, metric):
            continue
        days = count if freq == "day" else count // 24 + 2
        try:
            series[(metric, freq)] = metric_series(
                src, metric, day - timedelta(days=days), day, freq
            )
        except SourceError:
            continue
    return evaluate_all(rules, series, as_of, fdr=fdr)
