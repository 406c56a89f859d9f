"""Recency-frequency-monetary summaries of a transaction table, as Ibis expressions.

One expression per summary, so it runs where the data lives (DuckDB, SQLite, PostgreSQL,
Spark) and only one row per customer comes back.  Conventions (those of the BG/NBD and
Pareto/NBD papers and of lifetimes):

* purchases on the same calendar day are one transaction (their amounts are added);
* ``frequency`` is the number of *repeat* transactions (days with a purchase after the first);
* ``recency`` is the time from the first to the last transaction, ``T`` the time from the
  first transaction to the end of the period, in days, weeks (7 days) or months
  (365.25 / 12 days);
* ``monetary_value`` is the mean value of the repeat transactions (0 without repeats), which
  is what the Gamma-Gamma model expects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

TimeUnit = Literal["D", "W", "M"]

#: Length of one time unit in days.
UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def _unit_days(time_unit: str) -> float:
    try:
        return UNIT_DAYS[time_unit]
    except KeyError:
        raise ValueError(f"time_unit must be one of D, W, M; got {time_unit!r}") from None


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def daily_transactions(
    table: ir.Table,
    *,
    customer_column: str,
    date_column: str,
    amount_column: str | None = None,
    date_format: str | None = None,
) -> ir.Table:
    """One row per customer and purchase day: ``customer``, ``day``, ``amount``.

    Parameters
    ----------
    table : ibis.Table
        Transactions, one row per order or order line.
    customer_column, date_column : str
        Column names.  The date column may be a date, a timestamp, or (with ``date_format``,
        on engines with ``strptime`` such as DuckDB and PostgreSQL) a string or integer.
    amount_column : str, optional
        Order value; without it ``amount`` is 0.
    date_format : str, optional
        ``strptime`` format such as ``"%Y%m%d"``.

    Returns
    -------
    ibis.Table

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> morning, evening = dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 1, 17)
    >>> t = ibis.memtable({"c": [1, 1], "d": [morning, evening], "v": [5.0, 7.0]})
    >>> daily_transactions(t, customer_column="c", date_column="d", amount_column="v").to_pandas()
       customer        day  amount
    0         1 2024-01-01    12.0
    """
    for name in (customer_column, date_column, amount_column):
        if name is not None and name not in table.columns:
            raise ValueError(f"column {name!r} is not in the table; it has {list(table.columns)}")
    raw = table[date_column]
    if date_format is not None:
        day = raw.cast("string").as_date(date_format)
    elif raw.type().is_timestamp():
        day = raw.date()
    elif raw.type().is_date():
        day = raw
    else:
        raise ValueError(
            f"column {date_column!r} has type {raw.type()}; pass date_format "
            "or convert it to a date first"
        )
    amount = (
        table[amount_column].cast("float64") if amount_column is not None else ibis.literal(0.0)
    )
    base = table.select(customer=table[customer_column], day=day, amount=amount)
    return base.group_by(["customer", "day"]).agg(amount=base.amount.sum())


def _with_first_day(daily: ir.Table) -> ir.Table:
    return daily.mutate(first_day=daily.day.min().over(group_by=daily.customer))


def summarise_transactions(
    table: ir.Table,
    *,
    customer_column: str,
    date_column: str,
    observation_end: dt.date | str,
    amount_column: str | None = None,
    time_unit: TimeUnit = "W",
    date_format: str | None = None,
) -> ir.Table:
    """Frequency, recency, T and monetary value per customer, up to ``observation_end``.

    Parameters
    ----------
    table : ibis.Table
        Transactions from any Ibis backend.
    customer_column, date_column, amount_column, date_format
        See :func:`daily_transactions`.
    observation_end : date or ISO string
        Last day of the observation period (inclusive); later purchases are ignored.
    time_unit : {"D", "W", "M"}
        Unit of ``recency`` and ``T``.

    Returns
    -------
    ibis.Table
        Columns ``customer``, ``frequency``, ``recency``, ``T``, ``monetary_value``.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> t = ibis.memtable({"c": [1, 1, 2], "v": [10.0, 30.0, 5.0],
    ...                    "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 15), dt.date(2024, 1, 8)]})
    >>> s = summarise_transactions(t, customer_column="c", date_column="d", amount_column="v",
    ...                            observation_end="2024-01-29", time_unit="W")
    >>> s.order_by("customer").to_pandas()
       customer  frequency  recency    T  monetary_value
    0         1          1      2.0  4.0            30.0
    1         2          0      0.0  3.0             0.0
    """
    unit = _unit_days(time_unit)
    end = ibis.literal(_as_date(observation_end))
    daily = daily_transactions(
        table,
        customer_column=customer_column,
        date_column=date_column,
        amount_column=amount_column,
        date_format=date_format,
    )
    daily = _with_first_day(daily.filter(daily.day <= end))
    repeat = daily.day > daily.first_day
    per_customer = daily.group_by("customer").agg(
        first_day=daily.first_day.min(),
        last_day=daily.day.max(),
        frequency=daily.count() - 1,
        repeat_amount=daily.amount.sum(where=repeat),
    )
    recency, age, monetary = _rfm_columns(per_customer, per_customer.frequency, end, unit)
    return per_customer.select(
        "customer", "frequency", recency=recency, T=age, monetary_value=monetary
    )


def summarise_calibration_holdout(
    table: ir.Table,
    *,
    customer_column: str,
    date_column: str,
    calibration_end: dt.date | str,
    observation_end: dt.date | str,
    amount_column: str | None = None,
    time_unit: TimeUnit = "W",
    date_format: str | None = None,
) -> ir.Table:
    """Summary of the calibration period and what happened in the holdout period after it.

    Customers whose first purchase falls after ``calibration_end`` are left out (the models
    know nothing about them).

    Parameters
    ----------
    table, customer_column, date_column, amount_column, time_unit, date_format
        See :func:`summarise_transactions`.
    calibration_end : date or ISO string
        Last day of the calibration period (inclusive).
    observation_end : date or ISO string
        Last day of the holdout period (inclusive).

    Returns
    -------
    ibis.Table
        ``customer``, ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal``,
        ``frequency_holdout``, ``monetary_value_holdout``, ``duration_holdout``.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> t = ibis.memtable({"c": [1, 1, 1, 2], "v": [10.0, 30.0, 8.0, 5.0],
    ...                    "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 15), dt.date(2024, 2, 5),
    ...                          dt.date(2024, 2, 1)]})
    >>> s = summarise_calibration_holdout(t, customer_column="c", date_column="d",
    ...     amount_column="v", calibration_end="2024-01-29", observation_end="2024-02-26")
    >>> s.to_pandas()[["customer", "frequency_cal", "T_cal", "frequency_holdout"]]
       customer  frequency_cal  T_cal  frequency_holdout
    0         1              1    4.0                  1
    """
    unit = _unit_days(time_unit)
    cal = _as_date(calibration_end)
    obs = _as_date(observation_end)
    if obs <= cal:
        raise ValueError(f"observation_end {obs} must be after calibration_end {cal}")
    cal_end, obs_end = ibis.literal(cal), ibis.literal(obs)
    daily = daily_transactions(
        table,
        customer_column=customer_column,
        date_column=date_column,
        amount_column=amount_column,
        date_format=date_format,
    )
    daily = _with_first_day(daily.filter(daily.day <= obs_end))
    daily = daily.filter(daily.first_day <= cal_end)
    in_cal = daily.day <= cal_end
    in_holdout = daily.day > cal_end
    per_customer = daily.group_by("customer").agg(
        first_day=daily.first_day.min(),
        last_day=daily.day.max(where=in_cal),
        frequency_cal=daily.count(where=in_cal) - 1,
        repeat_amount=daily.amount.sum(where=in_cal & (daily.day > daily.first_day)),
        frequency_holdout=daily.count(where=in_holdout),
        holdout_amount=daily.amount.sum(where=in_holdout),
    )
    days_holdout = (obs - cal).days
    recency, age, monetary = _rfm_columns(per_customer, per_customer.frequency_cal, cal_end, unit)
    return per_customer.select(
        "customer",
        "frequency_cal",
        recency_cal=recency,
        T_cal=age,
        monetary_value_cal=monetary,
        frequency_holdout=per_customer.frequency_holdout,
        monetary_value_holdout=_mean_amount(
            per_customer.holdout_amount, per_customer.frequency_holdout
        ),
        duration_holdout=ibis.literal(days_holdout / unit),
    )


def repeat_transactions_by_period(
    table: ir.Table,
    *,
    customer_column: str,
    date_column: str,
    observation_end: dt.date | str,
    time_unit: TimeUnit = "W",
    date_format: str | None = None,
) -> ir.Table:
    """Repeat transactions in each period since the first purchase in the table.

    Period 1 starts on the day of the earliest purchase; period ``k`` covers the days
    ``[(k-1)·unit, k·unit)`` after it.  Feed the result to
    :func:`manyi.insight.clv.holdout.track_cumulative_transactions`.

    Returns
    -------
    ibis.Table
        ``period`` (1-based) and ``repeat_transactions``; periods without any are absent.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> t = ibis.memtable({"c": [1, 1, 2, 2], "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 9),
    ...                                            dt.date(2024, 1, 2), dt.date(2024, 1, 3)]})
    >>> repeat_transactions_by_period(t, customer_column="c", date_column="d",
    ...     observation_end="2024-01-31").order_by("period").to_pandas()
       period  repeat_transactions
    0       1                    1
    1       2                    1
    """
    unit = _unit_days(time_unit)
    end = ibis.literal(_as_date(observation_end))
    daily = daily_transactions(
        table, customer_column=customer_column, date_column=date_column, date_format=date_format
    )
    daily = _with_first_day(daily.filter(daily.day <= end))
    daily = daily.mutate(origin=daily.day.min().over())
    repeats = daily.filter(daily.day > daily.first_day)
    offset = repeats.day.delta(repeats.origin, unit="day").cast("float64") / unit
    periods = repeats.select(period=offset.floor().cast("int64") + 1)
    return periods.group_by("period").agg(repeat_transactions=periods.count())


def _rfm_columns(per_customer: Any, frequency: Any, end: Any, unit: float) -> tuple[Any, Any, Any]:
    """Recency, age ``T`` and mean repeat spend, in ``unit`` days, from the per-customer sums."""
    first = per_customer.first_day
    recency = per_customer.last_day.delta(first, unit="day").cast("float64") / unit
    age = end.delta(first, unit="day").cast("float64") / unit
    return recency, age, _mean_amount(per_customer.repeat_amount, frequency)


def _mean_amount(total: Any, count: Any) -> Any:
    """Mean amount per transaction; 0 for customers with no transactions."""
    return (count > 0).ifelse(total.fill_null(0.0) / count.cast("float64"), 0.0)
