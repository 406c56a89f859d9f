"""Ratings: checked against plain pandas on the Olist files, and on edge cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from manyi.insight.errors import InsightError, ScaleError
from manyi.insight.ratings import RatingBands, rating_summary, rating_summary_with_overall
from manyi.insight.sources import Source


def test_distribution_and_good_rate_equal_pandas_on_olist(olist: Source, olist_dir: Path) -> None:
    # given the raw review file read with plain pandas
    raw = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    scores = raw["review_score"]
    # when the engine summarises the ratings
    row = rating_summary(olist).iloc[0]
    # then count, mean, distribution and good/neutral/bad rates are the same
    assert row["n"] == len(scores) == 14_944
    assert row["mean"] == pytest.approx(scores.mean(), rel=1e-12)
    for star in range(1, 6):
        assert row[f"n_{star}"] == (scores == star).sum()
        assert row[f"share_{star}"] == pytest.approx((scores == star).mean(), rel=1e-12)
    assert row["good_rate"] == pytest.approx(scores.isin([4, 5]).mean(), rel=1e-12)
    assert row["neutral_rate"] == pytest.approx((scores == 3).mean(), rel=1e-12)
    assert row["bad_rate"] == pytest.approx(scores.isin([1, 2]).mean(), rel=1e-12)
    assert row["good_rate_low"] < row["good_rate"] < row["good_rate_high"]


def test_by_region_partitions_the_reviews(olist: Source, olist_dir: Path) -> None:
    # given the raw orders, customers and reviews joined with pandas
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    customers = pd.read_csv(olist_dir / "olist_customers_dataset.csv.gz")
    joined = reviews.merge(orders, on="order_id").merge(customers, on="customer_id")
    expected = joined.groupby("customer_state")["review_score"].agg(["size", "mean"])
    # when the engine slices by region (the state of the person's first order)
    got = rating_summary(olist, by="region").set_index("region")
    # then the counts add up and the big states agree with pandas
    assert got["n"].sum() == 14_944
    assert got.loc["SP", "n"] == pytest.approx(expected.loc["SP", "size"], rel=0.01)
    assert got.loc["SP", "mean"] == pytest.approx(expected.loc["SP", "mean"], abs=0.01)


def test_custom_bands_move_three_stars_to_good(olist: Source) -> None:
    row = rating_summary(olist, bands=RatingBands(good=(3, 5), neutral=(2, 2), bad=(1, 1))).iloc[0]
    assert row["good"] == row["n_3"] + row["n_4"] + row["n_5"]
    assert row["bad"] == row["n_1"]


def test_bands_must_cover_the_scale_once() -> None:
    with pytest.raises(ValueError, match="cover 1-5 exactly once"):
        RatingBands(good=(4, 5), neutral=(3, 4), bad=(1, 2))


def test_no_rows_gives_zero_counts_and_no_mean(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    src = make_source(reviews=[])
    row = rating_summary(src).iloc[0]
    assert (row["n"], row["mean"], row["good_rate"]) == (0, None, None)


def test_one_row_and_all_equal(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    one = make_source(reviews=[helpers.review("r1", "o1", 4, "2024-01-01")])
    row = rating_summary(one).iloc[0]
    assert (row["n"], row["mean"], row["mean_low"], row["good_rate"]) == (1, 4.0, None, 1.0)
    same = make_source(
        reviews=[helpers.review(f"r{i}", f"o{i}", 2, "2024-01-01") for i in range(5)]
    )
    row = rating_summary(same).iloc[0]
    assert (row["mean"], row["mean_low"], row["mean_high"], row["bad"]) == (2.0, 2.0, 2.0, 5)


def test_missing_ratings_are_counted_apart(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    src = make_source(
        reviews=[
            helpers.review("r1", "o1", 5, "2024-01-01"),
            helpers.review("r2", "o2", None, "2024-01-01"),
        ]
    )
    row = rating_summary(src).iloc[0]
    assert (row["n"], row["n_missing"], row["mean"]) == (1, 1, 5.0)


def test_rating_outside_the_scale_is_rejected_naming_the_row(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    src = make_source(
        reviews=[
            helpers.review("r1", "o1", 5, "2024-01-01"),
            helpers.review("r2", "o2", 6, "2024-01-02"),
        ]
    )
    with pytest.raises(ScaleError, match=r"reviews.rating must be a whole number in 1–5: 1 value"):
        rating_summary(src)
    with pytest.raises(ScaleError, match="review_id=r2, order_id=o2 has 6"):
        rating_summary(src)


def test_since_until_are_shop_local_dates(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    from datetime import date

    # given a review at 01:00 UTC on 2 Jan, which is 1 Jan evening in São Paulo
    src = make_source(
        timezone="America/Sao_Paulo",
        reviews=[helpers.review("r1", "o1", 5, "2024-01-02 01:00")],
    )
    # then it belongs to 1 January there
    assert rating_summary(src, until=date(2024, 1, 1)).iloc[0]["n"] == 1
    assert rating_summary(src, since=date(2024, 1, 2)).iloc[0]["n"] == 0


def test_overall_from_the_month_query_equals_the_overall_query(olist: Source) -> None:
    # when the overall row is summed from the months of one query
    overall, by_month = rating_summary_with_overall(olist, by="month")
    # then it equals the overall summary and the months equal the by-month summary
    pd.testing.assert_frame_equal(overall, rating_summary(olist), check_exact=True)
    pd.testing.assert_frame_equal(by_month, rating_summary(olist, by="month"), check_exact=True)
    assert overall.iloc[0]["n"] == 14_944


def test_overall_from_groups_is_refused_for_a_joined_dimension(olist: Source) -> None:
    with pytest.raises(InsightError, match="region"):
        rating_summary_with_overall(olist, by="region")


def test_a_passed_scale_check_is_remembered_and_a_failed_one_is_not(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given one source with a valid rating and one with a 6
    good = make_source(reviews=[helpers.review("r1", "a", 4, "2024-01-01")])
    bad = make_source(reviews=[helpers.review("r1", "a", 6, "2024-01-01")])
    # when both are summarised
    rating_summary(good)
    for _ in range(2):
        with pytest.raises(ScaleError):
            rating_summary(bad)
    # then only the passed check is remembered, and the failed one raises every time
    assert len(good.passed_checks) == 1
    assert bad.passed_checks == set()
