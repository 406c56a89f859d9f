from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from manyi.data.convert import converter_for, parse_integer, parse_money, parse_timestamp, zone
from manyi.data.schema import Column, ColumnType


def test_money_is_rounded_to_cents_half_even() -> None:
    assert parse_money("10.005") == Decimal("10.00")
    assert parse_money("10.015") == Decimal("10.02")
    assert parse_money("7") == Decimal("7.00")


@pytest.mark.parametrize("text", ["abc", "1,5", "NaN", "inf"])
def test_money_rejects_non_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        parse_money(text)


def test_integer_accepts_spreadsheet_floats_but_not_fractions() -> None:
    assert parse_integer("3.0") == 3
    with pytest.raises(ValueError, match="whole number"):
        parse_integer("3.5")
    with pytest.raises(ValueError, match="whole number"):
        parse_integer("three")


def test_naive_timestamps_are_read_in_the_source_zone_and_stored_in_utc() -> None:
    # São Paulo was UTC-2 on 2018-01-20 (summer time) and UTC-3 on 2018-06-12.
    sao_paulo = zone("America/Sao_Paulo")
    summer = parse_timestamp("2018-01-20 12:15:57", timezone=sao_paulo)
    winter = parse_timestamp("2018-06-12 20:07:44", timezone=sao_paulo)
    assert summer == dt.datetime(2018, 1, 20, 14, 15, 57, tzinfo=dt.UTC)
    assert winter == dt.datetime(2018, 6, 12, 23, 7, 44, tzinfo=dt.UTC)


def test_an_explicit_offset_wins_over_the_source_zone() -> None:
    value = parse_timestamp("2018-06-12T20:07:44+08:00", timezone=zone("America/Sao_Paulo"))
    assert value == dt.datetime(2018, 6, 12, 12, 7, 44, tzinfo=dt.UTC)


def test_a_custom_date_format_is_honoured() -> None:
    value = parse_timestamp("12/06/2018 20:07", date_format="%d/%m/%Y %H:%M")
    assert value == dt.datetime(2018, 6, 12, 20, 7, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="%d/%m/%Y"):
        parse_timestamp("2018-06-12", date_format="%d/%m/%Y %H:%M")


def test_required_bounded_and_closed_columns() -> None:
    rating = converter_for(
        Column("rating", ColumnType.INTEGER, nullable=False, min_value=1, max_value=5)
    )
    assert rating("5") == 5
    with pytest.raises(ValueError, match="required"):
        rating("  ")
    with pytest.raises(ValueError, match="maximum 5"):
        rating("6")
    status = converter_for(Column("status", ColumnType.STRING, choices=("delivered", "shipped")))
    assert status("") is None
    with pytest.raises(ValueError, match="not one of delivered, shipped"):
        status("lost")


def test_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


def test_the_hourly_offset_shortcut_equals_exact_conversion_across_dst_changes() -> None:
    # Every quarter hour through São Paulo's 2017 and 2018 summer-time changes, and Lord Howe
    # (a half-hour shift) for a zone whose offset changes inside an hour.
    for name, day in (
        ("America/Sao_Paulo", dt.datetime(2017, 10, 14)),  # noqa: DTZ001 - local wall time
        ("America/Sao_Paulo", dt.datetime(2018, 2, 17)),  # noqa: DTZ001
        ("Australia/Lord_Howe", dt.datetime(2018, 4, 1)),  # noqa: DTZ001
    ):
        tz = zone(name)
        for step in range(0, 48 * 4):
            naive = day + dt.timedelta(minutes=15 * step)
            exact = naive.replace(tzinfo=tz).astimezone(dt.UTC)
            assert parse_timestamp(naive.isoformat(" "), timezone=tz) == exact, (name, naive)
