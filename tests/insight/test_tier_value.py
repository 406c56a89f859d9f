"""Customer value by first-order rating tier: the engine's summaries against pandas, the
arithmetic of the tier table and of the shift, and data too thin for a model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from manyi.insight.sources import Source
from manyi.insight.tier_value import NotEnoughHistory, tier_summaries, value_by_first_rating


def pandas_people(folder: Path) -> pd.DataFrame:
    """Per person: first-order tier, days from the first order to the last and to the end."""
    orders = pd.read_csv(folder / "olist_orders_dataset.csv.gz")
    people = pd.read_csv(folder / "olist_customers_dataset.csv.gz")
    reviews = pd.read_csv(folder / "olist_order_reviews_dataset.csv.gz")
    orders = orders[~orders["order_status"].isin(["canceled", "unavailable"])]
    orders = orders.merge(people[["customer_id", "customer_unique_id"]], on="customer_id")
    # São Paulo wall time to UTC instants, as the Olist reader does
    local = pd.to_datetime(orders["order_purchase_timestamp"])
    orders["at"] = local.dt.tz_localize(
        "America/Sao_Paulo", ambiguous=False, nonexistent="shift_forward"
    )
    orders["rating"] = orders["order_id"].map(reviews.groupby("order_id")["review_score"].mean())
    orders = orders.sort_values(["customer_unique_id", "at", "order_id"])
    first = orders.drop_duplicates("customer_unique_id").set_index("customer_unique_id")
    r = first["rating"]
    tier = np.select([r.isna(), r <= 2.5, r < 3.5], ["unrated", "1-2", "3"], "4-5")
    per = orders.groupby("customer_unique_id").agg(first=("at", "min"), last=("at", "max"))
    per["tier"] = pd.Series(tier, index=first.index)
    end = orders["at"].max()
    per["T_days"] = ((end - per["first"]).dt.total_seconds() // 86_400).astype(int)
    per["back"] = (per["last"] - per["first"]).dt.total_seconds() >= 86_400
    return per


def test_summaries_count_the_customers_pandas_counts(bundled: Source, bundled_dir: Path) -> None:
    # given the customers of the bundled sample, grouped with pandas
    per = pandas_people(bundled_dir)
    # when the engine collapses their summaries
    frame, end, mean_order = tier_summaries(bundled)
    # then every tier has the same customers, repeat customers and ages
    for tier in ("1-2", "3", "4-5", "unrated"):
        part = frame[frame["tier"] == tier]
        mine = per[per["tier"] == tier]
        assert part["customers"].sum() == len(mine), tier
        assert part.loc[part["frequency"] > 0, "customers"].sum() == mine["back"].sum(), tier
        ages = np.repeat(part["T"].to_numpy() * 7, part["customers"].to_numpy())
        assert sorted(np.round(ages).astype(int)) == sorted(mine["T_days"]), tier
    assert end.isoformat() == "2018-08-28"
    assert mean_order > 50


def test_tier_table_and_shift_arithmetic(bundled: Source) -> None:
    # given the value by tier of the bundled sample
    value = value_by_first_rating(bundled, shift_share=0.2)
    tiers = value.tiers.set_index("tier")
    # then means, totals and intervals hang together
    assert list(tiers.index) == ["1-2", "3", "4-5"]
    for _, t in tiers.iterrows():
        assert t["clv_total"] == pytest.approx(t["clv_mean"] * t["customers"], rel=1e-9)
        assert t["clv_low"] <= t["clv_mean"] <= t["clv_high"]
        assert t["repeaters"] <= t["customers"]
        assert t["clv_mean"] > 0
    assert tiers["share"].sum() == pytest.approx(1.0)
    # and the shift is share x customers x the next tier's mean minus this tier's, summed
    by_hand = 0.2 * (
        tiers.loc["1-2", "customers"] * (tiers.loc["3", "clv_mean"] - tiers.loc["1-2", "clv_mean"])
        + tiers.loc["3", "customers"] * (tiers.loc["4-5", "clv_mean"] - tiers.loc["3", "clv_mean"])
    )
    shift = value.shift
    assert shift["expected_change"] == pytest.approx(by_hand, rel=1e-9)
    assert shift["expected_change_low"] <= shift["expected_change"] <= shift["expected_change_high"]
    assert shift["moved_customers"] == pytest.approx(
        0.2 * (tiers.loc["1-2", "customers"] + tiers.loc["3", "customers"])
    )
    assert len(value.assumptions["en"]) == len(value.assumptions["zh"]) == 6
    assert value.customers >= tiers["customers"].sum()


@pytest.mark.slow
def test_gamma_gamma_on_the_15k_sample(olist: Source, olist_dir: Path) -> None:
    # given the 15k sample, which has enough repeat buyers for a spend model
    per = pandas_people(olist_dir)
    # when the value by tier is computed
    value = value_by_first_rating(olist)
    # then spend comes from Gamma-Gamma and the repeat buyers are those pandas finds
    assert value.spend_model == "gamma_gamma"
    assert value.gamma_gamma is not None
    aged = per[per["T_days"] > 0]
    assert value.customers == len(aged)
    assert value.repeat_customers == aged["back"].sum()
    rated = aged[aged["tier"] != "unrated"]
    assert value.tiers.set_index("tier")["repeaters"].to_dict() == {
        t: int(rated.loc[rated["tier"] == t, "back"].sum()) for t in ("1-2", "3", "4-5")
    }


def test_without_repeat_orders_there_is_no_model(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    o, r = helpers.order, helpers.review
    src = make_source(
        orders=[o("o1", "c1", "2024-01-01"), o("o2", "c2", "2024-02-01")],
        reviews=[r("r1", "o1", 5, "2024-01-05"), r("r2", "o2", 2, "2024-02-05")],
    )
    with pytest.raises(NotEnoughHistory, match="no customer ordered twice"):
        value_by_first_rating(src)


def test_orders_without_revenue_are_explained(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    o, r = helpers.order, helpers.review
    free = {"item_total": 0.0, "freight_total": 0.0}
    src = make_source(
        orders=[o("o1", "c1", "2024-01-01", **free), o("o2", "c1", "2024-02-01", **free)],
        reviews=[r("r1", "o1", 5, "2024-01-05")],
    )
    with pytest.raises(NotEnoughHistory, match="carry no revenue"):
        value_by_first_rating(src)
