# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
"""What a point of satisfaction is worth: customer value by first-order rating tier.

The shop's counted orders (see :mod:`manyi.insight.repeat`) become one repeat-purchase
summary per customer in the engine — ``frequency`` = repeat orders, ``recency`` and ``T`` in
weeks (whole days) up to the last purchase in the data, ``monetary_value`` = mean revenue of
the repeat orders — labelled with the rating tier of the customer's first order. Identical
summaries are collapsed with a count *in the engine*, so what comes back is a few hundred
thousand rows at most, whatever the number of customers (one-time buyers differ only in ``T``
and tier). Unlike :func:`manyi.insight.clv.summarise_transactions`, two orders on the same
day count as two purchases: the summary is read from the per-customer table the other
sections already computed, which keeps this section cheap on ten million orders (orders within
a day of the first one, a split basket, still count as the first purchase).

In Python BG/NBD and Pareto/NBD (repeat purchases; the better fit is kept) and, with enough
repeat buyers, a Gamma-Gamma model (spend per purchase) are fitted on the customers, and each
customer's 12-month discounted revenue (CLV) and expected purchases are averaged per tier. The
tiers differ only through what the customers did (the model does not know the tier), so a
tier's value is an association, not the effect of a rating. Customers first seen on the last
day of the data have no history (T = 0) and are left out.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.tier_value import value_by_first_rating
>>> v = value_by_first_rating(open_source(f"olist:{sample_path('olist')}"))
>>> v.tiers["tier"].tolist(), v.spend_model
(['1-2', '3', '4-5'], 'mean_repeat_order')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from manyi.insight.clv import (
    BetaGeoModel,
    ConvergenceError,
    GammaGammaModel,
    ParetoNBDModel,
    discounted_expected_transactions,
    estimate_tier_shift,
    value_by_tier,
)
from manyi.insight.intervals import proportion
from manyi.insight.repeat import customer_summary

if TYPE_CHECKING:
    from manyi.insight.sources import Source

TIERS = ("1-2", "3", "4-5")
#: One month in weeks, the model's time unit.
MONTH_WEEKS = 365.25 / 12 / 7
#: Fewest repeat buyers for a Gamma-Gamma fit; with fewer, spend is their mean repeat order.
MIN_REPEAT_BUYERS = 50
#: The purchase models are fitted on at most this many customers (a fixed random thinning of
#: the collapsed rows); every customer is then valued with the fitted model.
MAX_FIT_CUSTOMERS = 100_000
#: L2 penalty of the second BG/NBD attempt.
PENALIZER = 0.001

ASSUMPTIONS_EN: tuple[str, ...] = (
    "Value is the revenue (item total plus freight) a customer is expected to bring in the "
    "next {months} months, discounted by {rate} a month; it is revenue, not profit.",
    "Repeat purchases follow the {model} model fitted on the shop's customers (of BG/NBD and "
    "Pareto/NBD, the one that fits better); the spend per purchase comes from {spend}.",
    "The model does not see the rating: tiers differ only because their customers bought "
    "differently. A tier's value is an association, not the effect of the rating.",
    "A customer who moves up one tier is assumed to take on the average value of that tier.",
    "The same share of customers moves up in every tier below the top; the top tier does not move.",
    "The interval reflects how precisely each tier's average is known from these customers, "
    "not the uncertainty of the model's parameters.",
)
ASSUMPTIONS_ZH: tuple[str, ...] = (
    "价值指顾客在未来 {months} 个月预计带来的销售额（商品金额加运费），按每月 {rate} 折现；"
    "是销售额而非利润。",
    "复购次数来自基于本店顾客拟合的 {model} 模型（BG/NBD 与 Pareto/NBD 中拟合更好的一个）；"
    "每次购买的金额来自{spend}。",
    "模型并不知道评分：各档之间的差异只来自顾客实际的购买行为。某一档的价值是相关关系，"
    "并非评分造成的效果。",
    "假设升一档的顾客获得该档顾客的平均价值。",
    "除最高档外，每一档都有相同比例的顾客升一档；最高档不变。",
    "区间只反映由这些顾客估计各档平均值的精度，不含模型参数的不确定性。",
)
SPEND_WORDS = {
    "gamma_gamma": ("the Gamma-Gamma model", " Gamma-Gamma 模型"),
    "mean_repeat_order": (
        "the average repeat order (too few repeat buyers for a Gamma-Gamma fit)",
        "复购订单的平均金额（复购顾客太少，无法拟合 Gamma-Gamma 模型）",
    ),
}


MODEL_WORDS = {
    "bgnbd": ("BG/NBD", "BG/NBD"),
    "bgnbd_penalised": ("BG/NBD (with a small L2 penalty)", "BG/NBD（带小的 L2 惩罚项）"),
    "pnbd": ("Pareto/NBD", "Pareto/NBD"),
}


class NotEnoughHistory(ValueError):  # noqa: N818 - a data condition the report explains
    """The data cannot support a CLV model (no repeat purchases, or too few customers)."""


@dataclass(frozen=True)
class TierValue:
    """Customer value by first-order rating tier and the worth of moving customers up.

    Attributes
    ----------
    tiers
        One row per tier (``1-2``, ``3``, ``4-5``): ``customers``, ``share``,
        ``repeaters``, ``repeat_rate`` (+ ``_low``, ``_high``: observed share who bought
        again, Wilson 95 %), ``expected_purchases``, ``clv_mean``
        (+ ``clv_low``, ``clv_high``: t 95 % of the mean), ``clv_total``; ``expected_purchases``
        is the model's expected purchases in the horizon.
    shift
        ``share``, ``moved_customers``, ``expected_change`` (+ ``_low``, ``_high``) and
        ``steps`` (one per tier that moves: ``from_tier``, ``to_tier``, ``moved_customers``,
        ``value_uplift_per_customer``, ``expected_change``).
    customers, repeat_customers
        Customers in the model (all tiers and unrated) and those with a repeat order.
    observation_end
        Date of the last purchase in the data (shop-local), the end of every history.
    model, params, penalizer, loglik, fit_customers
        The purchase model (``bgnbd`` or ``pnbd``, whichever has the higher likelihood;
        ``bgnbd_penalised`` when neither fits, see :func:`_fit_purchase_model`), its
        parameters, L2 penalty, log-likelihood and the customers it was fitted on.
    gamma_gamma
        Gamma-Gamma parameters (``None`` when spend is the mean repeat order).
    spend_model
        ``gamma_gamma`` or ``mean_repeat_order``.
    mean_spend
        Expected spend per future purchase of a customer without repeat history.
    """

    tiers: pd.DataFrame
    shift: dict[str, Any]
    customers: int
    repeat_customers: int
    observation_end: date
    model: str
    params: dict[str, float]
    penalizer: float
    loglik: float
    fit_customers: int
    gamma_gamma: dict[str, float] | None
    spend_model: str
    mean_spend: float
    horizon_months: int = 12
    monthly_discount: float = 0.01
    assumptions: dict[str, list[str]] = field(default_factory=dict)


def tier_summaries(
    src: Source, *, since: date | None = None, until: date | None = None
) -> tuple[pd.DataFrame, date | None, float]:
    """Collapsed repeat-purchase summaries (weeks) by first-order tier, computed in the engine.

    Read from the per-customer summary that repeat purchase and retention share
    (:func:`manyi.insight.repeat.customer_summary`, computed once), so it costs one more
    aggregation. Each counted order is a purchase; ``recency`` and ``T`` are whole days (from
    the first order to the last one, and to the last purchase in the data) in weeks.

    Returns
    -------
    (frame, observation_end, mean_order_value)
        ``frame`` has ``tier``, ``frequency``, ``recency``, ``T``, ``monetary_value`` (mean
        revenue of the repeat orders) and ``customers`` (how many customers share the row);
        ``observation_end`` is the date of the last purchase (``None`` without orders).
    """
    people = customer_summary(src, since=since, until=until)
    totals = src.execute(
        people.aggregate(
            end_s=people.last_s.max(), orders=people.orders.sum(), revenue=people.revenue.sum()
        )
    ).iloc[0]
    if pd.isna(totals["end_s"]):
        return pd.DataFrame(), None, float("nan")
    end_s = int(totals["end_s"])
    whole_days = 86_400
    # Orders within a day of the first one are one purchase (a basket split in two is not a
    # repeat purchase: counted as one, BG/NBD runs off to a degenerate fit on Olist).
    came_back = (people.last_s - people.first_s) >= whole_days
    repeats = people.orders - 1
    rows = people.select(
        "tier",
        frequency=came_back.ifelse(repeats, 0),
        recency=came_back.ifelse(
            ((people.last_s - people.first_s) // whole_days).cast("float64") / 7.0, 0.0
        ),
        T=((end_s - people.first_s) // whole_days).cast("float64") / 7.0,
        # Rounded to cents: repeat orders without revenue give exactly 0, and rows collapse.
        monetary_value=came_back.ifelse(
            ((people.revenue - people.first_revenue) / repeats.cast("float64")).round(2), 0.0
        ),
    )
    grouped = rows.group_by(["tier", "frequency", "recency", "T", "monetary_value"]).aggregate(
        customers=rows.count()
    )
    frame: pd.DataFrame = src.execute(grouped)
    # A fixed row order keeps the fits bit-for-bit reproducible across runs.
    frame = frame.sort_values(
        ["tier", "frequency", "recency", "T", "monetary_value"], ignore_index=True
    )
    end = pd.Timestamp(end_s, unit="s", tz="UTC").tz_convert(src.timezone).date()
    mean_order = float(totals["revenue"]) / float(totals["orders"])
    return frame, end, mean_order


def _tier_mean_interval(
    values: np.ndarray, weights: np.ndarray
) -> tuple[float, float | None, float | None, float]:
    """Weighted mean, t 95 % interval of the mean, and the variance of the mean."""
    from scipy.special import stdtrit

    n = float(weights.sum())
    mean = float(weights @ values / n)
    if n < 2:
        return mean, None, None, float("nan")
    var = float(weights @ (values - mean) ** 2 / (n - 1))
    se2 = var / n
    half = float(stdtrit(n - 1, 0.975)) * np.sqrt(se2)  # = scipy.stats.t.ppf
    return mean, mean - half, mean + half, se2


def _thin(weights: np.ndarray, most: int) -> np.ndarray:
    """Customers per row after keeping each with probability ``most / total`` (seeded)."""
    total = float(weights.sum())
    if total <= most:
        return weights
    rng = np.random.default_rng(0)
    thinned: np.ndarray = rng.binomial(weights.astype(np.int64), most / total).astype(float)
    return thinned


def _model_name(model: BetaGeoModel | ParetoNBDModel) -> str:
    if isinstance(model, ParetoNBDModel):
        return "pnbd"
    return "bgnbd_penalised" if model.penalizer > 0 else "bgnbd"


def _fit_purchase_model(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray, horizon: float
) -> BetaGeoModel | ParetoNBDModel:
    """The better of BG/NBD and Pareto/NBD by likelihood; a penalised BG/NBD if neither fits.

    Both have four parameters, so the log-likelihoods compare directly. On data with very few
    repeat buyers (Olist: 3 % in two years) the plain BG/NBD can run off to a degenerate
    drop-out (a, b → ∞) whose predictions overflow, and Pareto/NBD may stop short of its
    tolerance; a fit is kept only if it converged and predicts finite numbers. When neither
    does, BG/NBD with a small L2 penalty (0.001, the value lifetimes' documentation suggests)
    keeps the parameters finite.
    """
    keep = w > 0
    problems: list[str] = []
    fitted: list[BetaGeoModel | ParetoNBDModel] = []

    def attempt(model: BetaGeoModel | ParetoNBDModel) -> bool:
        try:
            model.fit(x[keep], t_x[keep], T[keep], weights=w[keep])
        except (ConvergenceError, ValueError) as exc:
            problems.append(str(exc))
            return False
        with np.errstate(all="ignore"):
            check = model.conditional_expected_purchases(horizon, x, t_x, T)
        if np.all(np.isfinite(check)) and np.isfinite(model.loglik_):
            fitted.append(model)
            return True
        problems.append(f"{_model_name(model)} gives non-finite predictions")
        return False

    attempt(BetaGeoModel())
    attempt(ParetoNBDModel())
    if not fitted:
        attempt(BetaGeoModel(penalizer=PENALIZER))
    if not fitted:
        raise NotEnoughHistory("no purchase model could be fitted: " + "; ".join(problems))
    return max(fitted, key=lambda m: m.loglik_)


def value_by_first_rating(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
    horizon_months: int = 12,
    monthly_discount: float = 0.01,
    shift_share: float = 0.10,
    max_fit_customers: int = MAX_FIT_CUSTOMERS,
) -> TierValue:
    """CLV, repeat probability and expected purchases by first-order rating tier.

    Parameters
    ----------
    src
        A source with ``orders`` and ``reviews``.
    since, until
        Shop-local purchase dates to keep (inclusive).
    horizon_months
        CLV horizon in months.
    monthly_discount
        Discount rate per month (0.01 is about 12.7 % a year).
    shift_share
        Share of each lower tier's customers moved up one tier in the scenario.
    max_fit_customers
        Most customers the purchase models are fitted on (a fixed random thinning); every
        customer is valued.

    Raises
    ------
    NotEnoughHistory
        No counted orders, no repeat purchase day, no rated first order, or a model that does
        not converge on these data.
    """
    frame, end, mean_order = tier_summaries(src, since=since, until=until)
    if end is None or frame.empty:
        raise NotEnoughHistory("no counted orders in the period")
    if not mean_order > 0:
        raise NotEnoughHistory(
            "the orders carry no revenue (item_total and freight_total are empty)"
        )
    frame = frame[frame["T"] > 0]
    x = frame["frequency"].to_numpy(dtype=np.float64)
    t_x = frame["recency"].to_numpy(dtype=np.float64)
    T = frame["T"].to_numpy(dtype=np.float64)
    m = frame["monetary_value"].to_numpy(dtype=np.float64)
    w = frame["customers"].to_numpy(dtype=np.float64)
    repeaters = x > 0
    if not repeaters.any():
        raise NotEnoughHistory("no customer ordered twice")
    fit_w = _thin(w, max_fit_customers)
    model = _fit_purchase_model(x, t_x, T, fit_w, horizon_months * MONTH_WEEKS)
    buyers = repeaters & (m > 0)
    gg: GammaGammaModel | None = None
    if w[buyers].sum() >= MIN_REPEAT_BUYERS:
        try:
            gg = GammaGammaModel().fit(x[buyers], m[buyers], weights=w[buyers])
        except (ConvergenceError, ValueError):
            gg = None
    if gg is not None:
        spend = gg.conditional_expected_average_spend(x, m)
        mean_spend = float(gg.expected_average_spend())
    else:
        # Too few repeat buyers for Gamma-Gamma: their mean repeat order, or, when repeat
        # orders carry no revenue at all, the mean order.
        paid = float(w[buyers].sum())
        mean_spend = float(w[buyers] @ m[buyers]) / paid if paid > 0 else mean_order
        spend = np.full_like(x, mean_spend)
    det = discounted_expected_transactions(
        model,
        x,
        t_x,
        T,
        periods=horizon_months,
        period_length=MONTH_WEEKS,
        discount_rate=monthly_discount,
    )
    clv = spend * det
    expected = model.conditional_expected_purchases(horizon_months * MONTH_WEEKS, x, t_x, T)
    rated = frame["tier"].isin(TIERS).to_numpy()
    if not rated.any():
        raise NotEnoughHistory("no customer's first order has a rating")
    by_tier = value_by_tier(
        frame["tier"].to_numpy()[rated],
        clv[rated],
        tier_order=[t for t in TIERS if t in set(frame["tier"][rated])],
        weights=w[rated],
    )
    rows = []
    variances = {}
    for tier in by_tier["tier"]:
        sel = rated & (frame["tier"].to_numpy() == tier)
        mean, low, high, se2 = _tier_mean_interval(clv[sel], w[sel])
        variances[tier] = se2
        n = float(w[sel].sum())
        repeat = proportion(float(w[sel & repeaters].sum()), n)
        rows.append(
            {
                "tier": tier,
                "customers": round(float(n)),
                "repeaters": round(float(w[sel & repeaters].sum())),
                "repeat_rate": repeat.value,
                "repeat_rate_low": repeat.low,
                "repeat_rate_high": repeat.high,
                "expected_purchases": float(w[sel] @ expected[sel] / n),
                "clv_mean": mean,
                "clv_low": low,
                "clv_high": high,
                "clv_total": float(w[sel] @ clv[sel]),
            }
        )
    tiers = pd.DataFrame(rows)
    tiers.insert(2, "share", tiers["customers"] / tiers["customers"].sum())
    shift = estimate_tier_shift(by_tier, share=shift_share)
    # The change is linear in the tier means: Σ_moving share·n_i·(μ_(i+1) − μ_i); the tiers
    # are disjoint groups of customers, so the variances of their means add.
    coef = dict.fromkeys(by_tier["tier"], 0.0)
    for step in shift.by_tier.to_dict(orient="records"):
        moved = float(step["moved_customers"])
        coef[step["to_tier"]] += moved
        coef[step["from_tier"]] -= moved
    var = sum(c * c * variances[t] for t, c in coef.items())
    half = 1.959964 * float(np.sqrt(var)) if np.isfinite(var) else None
    change = shift.expected_change
    months, rate = horizon_months, f"{100 * monthly_discount:g}%"
    spend_model = "gamma_gamma" if gg is not None else "mean_repeat_order"
    return TierValue(
        tiers=tiers,
        shift={
            "share": shift_share,
            "moved_customers": shift.moved_customers,
            "expected_change": change,
            "expected_change_low": None if half is None else change - half,
            "expected_change_high": None if half is None else change + half,
            "steps": shift.by_tier.to_dict(orient="records"),
        },
        customers=round(float(w.sum())),
        repeat_customers=round(float(w[repeaters].sum())),
        observation_end=end,
        model=_model_name(model),
        params=dict(model.params_),
        penalizer=model.penalizer,
        loglik=model.loglik_,
        fit_customers=round(float(fit_w.sum())),
        gamma_gamma=None if gg is None else dict(gg.params_),
        spend_model=spend_model,
        mean_spend=mean_spend,
        horizon_months=horizon_months,
        monthly_discount=monthly_discount,
        assumptions={
            "en": [
                a.format(
                    months=months,
                    rate=rate.replace("%", " %"),
                    spend=SPEND_WORDS[spend_model][0],
                    model=MODEL_WORDS[_model_name(model)][0],
                )
                for a in ASSUMPTIONS_EN
            ],
            "zh": [
                a.format(
                    months=months,
                    rate=rate,
                    spend=SPEND_WORDS[spend_model][1],
                    model=MODEL_WORDS[_model_name(model)][1],
                )
                for a in ASSUMPTIONS_ZH
            ],
        },
    )
