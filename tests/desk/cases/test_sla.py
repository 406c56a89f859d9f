"""SLA arithmetic: business calendars, business time, and the clocks replayed from a case's log.

Pure functions: no database. Every expected figure is worked out by hand in the comments.
"""

from __future__ import annotations

import copy
import doctest
import pickle
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from manyi.desk.cases import business_calendar, sla
from manyi.desk.cases.sla import (
    BusinessCalendar,
    CaseClocks,
    ClockEvent,
    ClockState,
    NoBusinessTimeError,
    SlaTargets,
    add_business_seconds,
    business_seconds,
    compute_clocks,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
H = 3600.0
OFFICE = [["09:00", "12:00"], ["13:30", "18:00"]]  # 7.5 h a day with a lunch break
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")

# China's National Day week 2026 as used here: 10-01 (Thu) to 10-08 (Thu) off, made up on
# Sunday 09-27 and Saturday 10-10 (调休).
NATIONAL_DAY = [f"2026-10-0{d}" for d in range(1, 9)]
MAKEUP = {"2026-09-27": OFFICE, "2026-10-10": OFFICE}


def shanghai_office(**extra: object) -> BusinessCalendar:
    config: dict[str, object] = {"tz": "Asia/Shanghai", "weekly": dict.fromkeys(WORKDAYS, OFFICE)}
    config.update(extra)
    return BusinessCalendar.from_config(config)


def sh(day: str, hhmm: str = "00:00") -> datetime:
    """Shanghai wall-clock time (no DST there)."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SH)


# 2026-03-02 is a Monday, 2026-03-06 a Friday.
MON, TUE, FRI = "2026-03-02", "2026-03-03", "2026-03-06"


def test_the_module_examples_run() -> None:
    for module, at_least in ((sla, 5), (business_calendar, 5)):
        result = doctest.testmod(module)
        assert result.attempted >= at_least, module.__name__
        assert result.failed == 0, module.__name__


# --- business time: split shifts, nights, weekends -----------------------------------------


def test_business_seconds_skips_the_lunch_break() -> None:
    cal = shanghai_office()
    # 11:00-12:00 (1 h) + 13:30-14:00 (0.5 h); 12:00-13:30 is lunch
    assert business_seconds(cal, sh(MON, "11:00"), sh(MON, "14:00")) == 1.5 * H
    # entirely inside lunch: nothing
    assert business_seconds(cal, sh(MON, "12:10"), sh(MON, "13:20")) == 0.0
    # end before start: nothing, not negative
    assert business_seconds(cal, sh(MON, "14:00"), sh(MON, "11:00")) == 0.0


def test_a_case_opened_during_lunch_starts_counting_after_lunch() -> None:
    cal = shanghai_office()
    # opened 12:30: the first hour of work is 13:30-14:30
    assert add_business_seconds(cal, sh(MON, "12:30"), H) == sh(MON, "14:30")


def test_a_case_opened_at_night_is_due_the_next_morning() -> None:
    cal = shanghai_office()
    # opened Monday 22:00, 2 h of work: Tuesday 09:00-11:00
    assert add_business_seconds(cal, sh(MON, "22:00"), 2 * H) == sh(TUE, "11:00")
    # opened Tuesday 03:00, 4 h: 09:00-12:00 (3 h), lunch, 13:30-14:30 (1 h)
    assert add_business_seconds(cal, sh(TUE, "03:00"), 4 * H) == sh(TUE, "14:30")


def test_a_case_opened_on_friday_evening_waits_for_monday() -> None:
    cal = shanghai_office()
    # Friday 17:30-18:00 (0.5 h), weekend closed, Monday 9-12 (3 h), 13:30-14:00 (0.5 h)
    monday = "2026-03-09"
    assert add_business_seconds(cal, sh(FRI, "17:30"), 4 * H) == sh(monday, "14:00")
    # Friday 17:00 -> Monday 10:00: 1 h on Friday + 1 h on Monday
    assert business_seconds(cal, sh(FRI, "17:00"), sh(monday, "10:00")) == 2 * H


def test_a_target_that_runs_out_at_closing_time_is_due_at_closing_time() -> None:
    cal = shanghai_office()
    # 1 h from Friday 17:00 is used up at 18:00 — not at Monday 09:00
    due = add_business_seconds(cal, sh(FRI, "17:00"), H)
    assert due == sh(FRI, "18:00")
    assert due.tzinfo == SH  # returned in the calendar's zone
    assert add_business_seconds(cal, sh(FRI, "20:00"), 0) == sh(FRI, "20:00")


def test_add_accepts_a_timedelta_and_rejects_negative_amounts() -> None:
    cal = shanghai_office()
    assert add_business_seconds(cal, sh(MON, "09:00"), timedelta(minutes=90)) == sh(MON, "10:30")
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(cal, sh(MON, "09:00"), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_seconds(cal, datetime(2026, 3, 2, 9), 60)  # noqa: DTZ001 - the point


# --- holidays and make-up days (调休) -------------------------------------------------------


def test_national_day_is_closed_and_the_makeup_days_are_worked() -> None:
    cal = shanghai_office(holidays=NATIONAL_DAY, makeup_days=MAKEUP)
    # Wednesday 09-30 17:00 + 2 h: 17:00-18:00, then 10-01..10-08 off, Friday 10-09 09-10
    assert add_business_seconds(cal, sh("2026-09-30", "17:00"), 2 * H) == sh("2026-10-09", "10:00")
    # Saturday 09-26 to Monday 10-12: Sun 09-27 (make-up), Mon-Wed 09-28..30, Fri 10-09,
    # Sat 10-10 (make-up) = 6 days of 7.5 h = 45 h
    assert business_seconds(cal, sh("2026-09-26"), sh("2026-10-12")) == 45 * H
    # without the calendar's specials the same span holds 10 weekdays = 75 h
    assert business_seconds(shanghai_office(), sh("2026-09-26"), sh("2026-10-12")) == 75 * H


def test_a_case_opened_on_saturday_night_is_due_on_the_makeup_sunday() -> None:
    cal = shanghai_office(holidays=NATIONAL_DAY, makeup_days=MAKEUP)
    # Sunday 09-27 is a working day: 09:00 + 1 h
    assert add_business_seconds(cal, sh("2026-09-26", "20:00"), H) == sh("2026-09-27", "10:00")
    assert cal.hours_on(date(2026, 9, 27)) == ((time(9), time(12)), (time(13, 30), time(18)))
    assert cal.hours_on(date(2026, 10, 1)) == ()


def test_long_spans_count_weeks_and_every_holiday() -> None:
    cal = shanghai_office(holidays=NATIONAL_DAY, makeup_days=MAKEUP)
    # 2026 has 261 weekdays; 6 of the 8 National Day dates are weekdays (10-03, 10-04 are a
    # weekend); the two make-up days add 2: 261 - 6 + 2 = 257 days of 7.5 h
    assert business_seconds(cal, sh("2026-01-01"), sh("2027-01-01")) == 257 * 7.5 * H
    # and the inverse lands on the last working minute of the year (Thu 12-31, 18:00)
    assert add_business_seconds(cal, sh("2026-01-01"), 257 * 7.5 * H) == sh("2026-12-31", "18:00")


# --- time zones and daylight saving time ----------------------------------------------------


def test_instants_in_utc_are_read_on_the_shanghai_wall_clock() -> None:
    cal = shanghai_office()
    # 00:30-02:00 UTC on Monday is 08:30-10:00 in Shanghai: 09:00-10:00 counts
    start = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    assert business_seconds(cal, start, datetime(2026, 3, 2, 2, 0, tzinfo=UTC)) == H
    due = add_business_seconds(cal, start, 2 * H)
    assert due == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 Shanghai
    assert due.utcoffset() == timedelta(hours=8)


def test_berlin_dst_days_follow_the_wall_clock() -> None:
    # Sunday hours 01:00-04:00. 29 March 2026: 02:00 jumps to 03:00, so 01-02 and 03-04 = 2 h.
    # 25 October 2026: 03:00 goes back to 02:00, so 02:00-03:00 is worked twice = 4 h.
    cal = BusinessCalendar.from_config(
        {"tz": "Europe/Berlin", "weekly": {"sun": [["01:00", "04:00"]]}}
    )
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    day = timedelta(days=1)

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=BERLIN)

    assert business_seconds(cal, midnight(spring), midnight(spring + day)) == 2 * H
    assert business_seconds(cal, midnight(autumn), midnight(autumn + day)) == 4 * H
    # from 01:30 in spring, 1 h: 01:30-02:00, the clock jumps, 03:00-03:30 (CEST)
    assert add_business_seconds(cal, datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), H) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    # from 01:30 CEST in autumn, 2 h: 01:30-03:00 CEST (1.5 h), then 02:00-02:30 CET again
    due = add_business_seconds(cal, datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN), 2 * H)
    # (PEP 495: == across zones is always False inside a repeated hour, so compare in UTC)
    assert due.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert (due.hour, due.minute, due.utcoffset()) == (2, 30, timedelta(hours=1))


def test_a_24x7_calendar_counts_real_time_across_dst() -> None:
    berlin = BusinessCalendar.always_open("Europe/Berlin")
    # Saturday noon to Sunday noon is 23 real hours in March and 25 in October
    assert (
        business_seconds(
            berlin,
            datetime(2026, 3, 28, 12, tzinfo=BERLIN),
            datetime(2026, 3, 29, 12, tzinfo=BERLIN),
        )
        == 23 * H
    )
    assert (
        business_seconds(
            berlin,
            datetime(2026, 10, 24, 12, tzinfo=BERLIN),
            datetime(2026, 10, 25, 12, tzinfo=BERLIN),
        )
        == 25 * H
    )


def test_sao_paulo_historic_dst() -> None:
    # Brazil's clocks jumped from 00:00 to 01:00 on Sunday 4 Nov 2018 and went back from
    # 00:00 to 23:00 on Saturday 17 Feb 2018 (its last DST).
    cal = BusinessCalendar.from_config(
        {
            "tz": "America/Sao_Paulo",
            "weekly": {"sat": [["22:00", "24:00"]], "sun": [["00:00", "06:00"]]},
        }
    )
    # Sunday 4 Nov 00:00-06:00 wall clock, of which 00:00-01:00 never existed: 5 h
    assert (
        business_seconds(cal, datetime(2018, 11, 4, tzinfo=UTC), datetime(2018, 11, 5, tzinfo=UTC))
        == 5 * H + 2 * H
    )  # + Saturday 3 Nov 22:00-24:00 (-03:00 = 01:00-03:00 UTC 4 Nov)
    # Saturday 17 Feb 22:00-24:00 with 23:00-24:00 twice: 3 h; Sunday 18 Feb 00:00-06:00: 6 h
    start = datetime(2018, 2, 17, 12, tzinfo=SAO_PAULO)
    assert business_seconds(cal, start, start + timedelta(days=2)) == 9 * H
    always = BusinessCalendar.always_open("America/Sao_Paulo")
    noon = datetime(2018, 11, 3, 12, tzinfo=SAO_PAULO)
    assert business_seconds(always, noon, datetime(2018, 11, 4, 12, tzinfo=SAO_PAULO)) == 23 * H


# --- properties over many random instants ---------------------------------------------------


def _calendars() -> list[BusinessCalendar]:
    return [
        shanghai_office(holidays=NATIONAL_DAY, makeup_days=MAKEUP),
        BusinessCalendar.from_config(
            {
                "tz": "Europe/Berlin",
                "weekly": {
                    "mon": [["08:00", "12:00"], ["12:30", "16:45"]],
                    "sun": [["01:00", "04:00"]],
                },
                "holidays": ["2026-12-25", "2026-10-26"],
            }
        ),
        BusinessCalendar.from_config(
            {
                "tz": "America/Sao_Paulo",
                "weekly": {
                    "sat": [["22:00", "24:00"]],
                    "sun": [["00:00", "06:00"]],
                    "wed": [["09:00", "17:00"]],
                },
            }
        ),
        BusinessCalendar.always_open("America/Sao_Paulo"),
    ]


def _random_instant(rng: random.Random) -> datetime:
    # 2017-06-01 .. 2027-06-01 in UTC, to the microsecond: covers Brazil's last DST years
    lo = datetime(2017, 6, 1, tzinfo=UTC)
    return lo + timedelta(microseconds=rng.randrange(10 * 365 * 86_400 * 1_000_000))


def test_add_then_measure_gives_back_the_amount() -> None:
    rng = random.Random(20261001)
    for cal in _calendars():
        for _ in range(300):
            start = _random_instant(rng)
            amount = rng.randrange(0, 200 * 3600 * 1_000_000) / 1_000_000  # up to 200 h, to the µs
            due = add_business_seconds(cal, start, amount)
            assert due >= start
            assert business_seconds(cal, start, due) == pytest.approx(amount, abs=1e-6)
            # and no earlier instant would do: a microsecond less is not enough
            if amount > 0:
                before = due - timedelta(microseconds=1)
                assert business_seconds(cal, start, before) < amount


def test_measure_then_add_lands_at_or_before_the_end() -> None:
    rng = random.Random(7)
    for cal in _calendars():
        for _ in range(300):
            a, b = sorted((_random_instant(rng), _random_instant(rng)))
            b = min(b, a + timedelta(days=rng.choice([1, 7, 60, 400])))
            worked = business_seconds(cal, a, b)
            back = add_business_seconds(cal, a, worked)
            assert a <= back <= b
            assert business_seconds(cal, back, b) == 0.0  # only closed time after it
            mid = a + (b - a) / 3
            assert worked == pytest.approx(
                business_seconds(cal, a, mid) + business_seconds(cal, mid, b), abs=1e-6
            )


def test_business_time_equals_a_minute_by_minute_count_on_the_wall_clock() -> None:
    # The definition, checked independently: step through real minutes and ask the wall clock.
    rng = random.Random(99)
    for cal in _calendars():
        zone = cal.zone
        for _ in range(12):
            start = _random_instant(rng).replace(second=0, microsecond=0)
            if rng.random() < 0.5:  # half of the draws straddle a DST change
                start = rng.choice(
                    [
                        datetime(2018, 2, 17, 20, tzinfo=UTC),
                        datetime(2018, 11, 3, 20, tzinfo=UTC),
                        datetime(2026, 3, 28, 20, tzinfo=UTC),
                        datetime(2026, 10, 24, 20, tzinfo=UTC),
                    ]
                )
            minutes = 3 * 24 * 60
            worked = 0
            for m in range(minutes):
                wall = (start + timedelta(minutes=m)).astimezone(zone)
                clock = wall.time().replace(tzinfo=None, fold=0)
                hours = cal.hours_on(wall.date())
                if any(s <= clock and (e == time(0) or clock < e) for s, e in hours):
                    worked += 60
            assert business_seconds(cal, start, start + timedelta(minutes=minutes)) == worked


def test_a_24x7_calendar_is_elapsed_time_everywhere() -> None:
    rng = random.Random(3)
    for tz in ("America/Sao_Paulo", "Europe/Berlin", "Asia/Shanghai", "Australia/Lord_Howe"):
        cal = BusinessCalendar.always_open(tz)
        for _ in range(100):
            a, b = sorted((_random_instant(rng), _random_instant(rng)))
            assert business_seconds(cal, a, b) == pytest.approx((b - a).total_seconds(), abs=1e-6)


def test_a_calendar_without_hours_cannot_reach_a_target() -> None:
    closed = BusinessCalendar("Asia/Shanghai", {})
    assert business_seconds(closed, sh(MON), sh("2027-03-02")) == 0.0
    assert add_business_seconds(closed, sh(MON), 0) == sh(MON)
    with pytest.raises(NoBusinessTimeError, match="no working hours"):
        add_business_seconds(closed, sh(MON), 1)
    # only one make-up day, already past: nothing left either
    once = BusinessCalendar.from_config(
        {"tz": "Asia/Shanghai", "weekly": {}, "makeup_days": {"2026-09-27": OFFICE}}
    )
    assert add_business_seconds(once, sh("2026-09-27", "17:00"), H) == sh("2026-09-27", "18:00")
    with pytest.raises(NoBusinessTimeError):
        add_business_seconds(once, sh("2026-09-27", "17:00"), 2 * H)


# --- configuration ---------------------------------------------------------------------------


def test_config_round_trips() -> None:
    cal = shanghai_office(holidays=NATIONAL_DAY, makeup_days=MAKEUP)
    config = cal.to_config()
    assert config["weekly"]["mon"] == OFFICE
    assert "sat" not in config["weekly"]
    assert config["holidays"] == NATIONAL_DAY
    assert config["makeup_days"] == MAKEUP
    again = BusinessCalendar.from_config(config)
    assert again == cal
    assert hash(again) == hash(cal)
    full = BusinessCalendar.always_open("UTC")
    assert BusinessCalendar.from_config(full.to_config()) == full
    odd = BusinessCalendar.from_config({"tz": "UTC", "weekly": {"Friday": [["9:05:30", "24:00"]]}})
    assert odd.to_config()["weekly"] == {"fri": [["09:05:30", "24:00"]]}
    assert odd.weekly[4] == ((time(9, 5, 30), time(0)),)


def test_a_calendar_pickles_and_copies() -> None:
    cal = shanghai_office(holidays=NATIONAL_DAY, makeup_days=MAKEUP)
    again = pickle.loads(pickle.dumps(cal))
    assert again == cal
    assert copy.deepcopy(cal) == cal
    assert business_seconds(again, sh("2026-09-26"), sh("2026-10-12")) == 45 * H


def test_time_max_also_means_midnight() -> None:
    a = BusinessCalendar("UTC", {0: ((time(20), time.max),)})
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert business_seconds(a, monday, monday + timedelta(days=1)) == 4 * H


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"tz": "Asia/Shanghai", "weekly": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "weekly.mon: intervals 09:00–12:00 and 11:00–13:00 overlap",
        ),
        (
            {"tz": "Asia/Shanghai", "weekly": {"mon": [["09:00", "08:00"]]}},
            r"weekly.mon\[0\]: end 08:00 is not after start 09:00",
        ),
        (
            {"tz": "Asia/Shanghai", "weekly": {"mon": [["09:00", "09:00"]]}},
            r"weekly.mon\[0\]: end 09:00 is not after start 09:00",
        ),
        ({"tz": "Asia/Shanghai", "weekly": {"funday": OFFICE}}, "weekly: unknown weekday 'funday'"),
        ({"tz": "Asia/Shanghai", "weekly": {"mon": OFFICE, "Monday": OFFICE}}, "repeats mon"),
        (
            {"tz": "Asia/Shanghai", "weekly": {"mon": [["9am", "18:00"]]}},
            r"weekly.mon\[0\]: '9am' is not a time",
        ),
        ({"tz": "Asia/Shanghai", "weekly": {"mon": [["24:00", "24:00"]]}}, "not a time of day"),
        ({"tz": "Asia/Shanghai", "weekly": {"mon": [["09:00"]]}}, r"weekly.mon\[0\]: expected"),
        (
            {"tz": "Asia/Shanghai", "weekly": {}, "holidays": ["2026-13-01"]},
            r"holidays\[0\]: '2026-13-01' is not a date",
        ),
        (
            {"tz": "Asia/Shanghai", "weekly": {}, "holidays": "2026-10-01"},
            "holidays: expected a list",
        ),
        (
            {"tz": "Asia/Shanghai", "weekly": {}, "makeup_days": {"09/27": OFFICE}},
            "makeup_days.09/27: '09/27' is not a date",
        ),
        (
            {"tz": "Asia/Shanghai", "weekly": {}, "makeup_days": {"2026-09-27": []}},
            "makeup_days.2026-09-27: a make-up day needs working hours",
        ),
        (
            {
                "tz": "Asia/Shanghai",
                "weekly": {},
                "holidays": ["2026-09-27"],
                "makeup_days": {"2026-09-27": OFFICE},
            },
            "also listed in holidays",
        ),
        ({"tz": "Asia/Shang_hai", "weekly": {}}, "tz: unknown time zone 'Asia/Shang_hai'"),
        ({"weekly": {}}, "tz: required"),
        ({"tz": "UTC"}, "weekly: required"),
        ({"tz": "UTC", "weekly": {}, "holiday": []}, "unknown field.*holiday"),
    ],
)
def test_bad_config_names_the_field(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_config(config)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ValueError, match="weekly: unknown weekday 7"):
        BusinessCalendar("UTC", {7: ((time(9), time(17)),)})
    with pytest.raises(ValueError, match="without tzinfo"):
        BusinessCalendar("UTC", {0: ((time(9, tzinfo=UTC), time(17)),)})
    with pytest.raises(ValueError, match=r"holidays: .* is not a date"):
        BusinessCalendar("UTC", {}, frozenset({datetime(2026, 10, 1, tzinfo=UTC)}))


# --- clocks ----------------------------------------------------------------------------------

TARGETS = SlaTargets(
    first_response=timedelta(hours=1),
    next_response=timedelta(hours=1),
    resolution=timedelta(hours=10),
)


def ev(day: str, hhmm: str, kind: str, status: str | None = None) -> ClockEvent:
    return ClockEvent(sh(day, hhmm), kind, status)


def clocks_at(
    events: list[ClockEvent],
    day: str,
    hhmm: str,
    *,
    targets: SlaTargets = TARGETS,
    pause_statuses: frozenset[str] = sla.DEFAULT_PAUSE_STATUSES,
) -> CaseClocks:
    """The clocks on the Shanghai office calendar at ``day hhmm``."""
    return compute_clocks(
        events, targets, shanghai_office(), sh(day, hhmm), pause_statuses=pause_statuses
    )


def test_first_response_met_in_time() -> None:
    events = [ev(MON, "09:00", "opened", "new"), ev(MON, "09:40", "agent_reply")]
    fr = clocks_at(events, MON, "11:00").first_response
    assert fr.state == ClockState.MET
    assert (fr.elapsed_seconds, fr.remaining_seconds, fr.target_seconds) == (2400.0, 1200.0, H)
    assert fr.stopped_at == sh(MON, "09:40")
    assert fr.due_at is None
    assert fr.breached_at is None
    assert fr.deadline_at == sh(MON, "10:00")  # 09:40 + the 20 min left
    assert not fr.live


def test_breach_then_late_reply_stays_breached() -> None:
    events = [ev(MON, "09:00", "opened", "new"), ev(MON, "11:00", "agent_reply")]
    fr = clocks_at(events, MON, "15:00").first_response
    # 1 h target used up at 10:00; answered at 11:00: met late = breached
    assert fr.state == ClockState.BREACHED
    assert fr.breached_at == sh(MON, "10:00") == fr.deadline_at
    assert fr.stopped_at == sh(MON, "11:00")
    assert (fr.elapsed_seconds, fr.remaining_seconds) == (2 * H, -H)
    assert fr.due_at is None


def test_a_reply_exactly_at_the_due_instant_is_met() -> None:
    events = [ev(MON, "09:00", "opened", "new"), ev(MON, "10:00", "agent_reply")]
    assert clocks_at(events, MON, "15:00").first_response.state == ClockState.MET


def test_a_target_reached_at_closing_time_is_breached_by_a_reply_before_opening() -> None:
    # opened Friday 17:00, 1 h: due 18:00 Friday; a reply at 08:00 Monday adds no working time
    # but comes after the due instant, so the customer waited longer than promised
    events = [ev(FRI, "17:00", "opened", "new"), ev("2026-03-09", "08:00", "agent_reply")]
    fr = clocks_at(events, "2026-03-09", "12:00").first_response
    assert fr.elapsed_seconds == H
    assert fr.state == ClockState.BREACHED
    assert fr.breached_at == sh(FRI, "18:00")


def test_at_risk_from_the_ratio_of_the_target() -> None:
    events = [ev(MON, "09:00", "opened", "new")]
    # 47 min of 60 = 0.783 < 0.8: running; 48 min = 0.8: at risk; 61 min: breached
    running = clocks_at(events, MON, "09:47").first_response
    assert running.state == ClockState.RUNNING
    assert running.due_at == sh(MON, "10:00") == running.deadline_at
    assert running.live
    assert clocks_at(events, MON, "09:48").first_response.state == ClockState.AT_RISK
    late = clocks_at(events, MON, "10:01").first_response
    assert late.state == ClockState.BREACHED
    assert late.due_at == late.breached_at == sh(MON, "10:00")
    assert late.remaining_seconds == -60.0


def test_pause_while_waiting_on_the_customer() -> None:
    targets = SlaTargets(resolution=timedelta(hours=4))
    events = [
        ev(MON, "09:00", "opened", "new"),
        ev(MON, "10:00", "status", "waiting_on_customer"),
        ev(TUE, "10:00", "status", "triaged"),  # the photos arrived the next morning
    ]
    res = clocks_at(events, TUE, "11:00", targets=targets).resolution
    # Mon 09-10 (1 h) + Tue 10-11 (1 h); the waiting time does not count
    assert res.elapsed_seconds == 2 * H
    assert res.state == ClockState.RUNNING
    # 2 h left from Tue 11:00: 11-12 and 13:30-14:30
    assert res.due_at == sh(TUE, "14:30")
    paused = clocks_at(events, MON, "15:00", targets=targets).resolution
    assert paused.state == ClockState.PAUSED
    assert paused.elapsed_seconds == H
    assert paused.due_at is None
    assert paused.deadline_at is None
    assert paused.live


def test_a_pause_outside_working_hours_changes_nothing() -> None:
    targets = SlaTargets(resolution=timedelta(hours=10))
    base = [ev(MON, "09:00", "opened", "new"), ev(TUE, "12:00", "status", "resolved")]
    night = [
        ev(MON, "19:00", "status", "waiting_on_customer"),
        ev(TUE, "08:00", "status", "triaged"),
    ]
    plain = clocks_at(base, TUE, "15:00", targets=targets).resolution
    paused = clocks_at(base + night, TUE, "15:00", targets=targets).resolution
    # Mon 7.5 h + Tue 09-12 3 h = 10.5 h either way: breached at Tue 11:30
    assert plain.elapsed_seconds == paused.elapsed_seconds == 10.5 * H
    assert plain.breached_at == paused.breached_at == sh(TUE, "11:30")


def test_resolution_accumulates_across_reopenings() -> None:
    events = [
        ev(MON, "09:00", "opened", "new"),
        ev(MON, "15:00", "status", "resolved"),  # 3 h + 1.5 h = 4.5 h
        ev(TUE, "09:00", "status", "triaged"),  # reopened
        ev(TUE, "16:00", "status", "resolved"),  # 3 h + 2.5 h = 5.5 h: 10 h, the target exactly
    ]
    resolved_once = clocks_at(events[:2], MON, "20:00").resolution
    assert resolved_once.state == ClockState.MET
    assert resolved_once.elapsed_seconds == 4.5 * H
    assert resolved_once.stopped_at == sh(MON, "15:00")
    # had it kept running: 5.5 h after Mon 15:00 = Mon 15-18 (3 h) + Tue 09:00-11:30
    assert resolved_once.deadline_at == sh(TUE, "11:30")
    reopened = clocks_at(events[:3], TUE, "10:00").resolution
    assert reopened.state == ClockState.RUNNING
    assert reopened.elapsed_seconds == 5.5 * H
    assert reopened.stopped_at is None
    assert reopened.due_at == sh(TUE, "16:00")
    final = clocks_at(events, TUE, "20:00").resolution
    assert (final.state, final.elapsed_seconds) == (ClockState.MET, 10 * H)
    late = [*events[:3], ev(TUE, "16:30", "status", "resolved")]
    final_late = clocks_at(late, TUE, "20:00").resolution
    assert final_late.state == ClockState.BREACHED
    assert final_late.breached_at == sh(TUE, "16:00")


def test_next_response_restarts_at_each_unanswered_message() -> None:
    events = [
        ev(MON, "09:00", "opened", "new"),
        ev(MON, "09:10", "agent_reply"),  # first response
        ev(MON, "10:00", "customer_message"),  # cycle 1 starts
        ev(MON, "10:30", "customer_message"),  # still the same wait
        ev(MON, "10:45", "agent_reply"),  # cycle 1: 45 min, met
        ev(MON, "14:00", "customer_message"),  # cycle 2 starts
    ]
    c = clocks_at(events, MON, "15:30")
    assert c.first_response.state == ClockState.MET
    one, two = c.next_response_history
    assert (one.state, one.elapsed_seconds) == (ClockState.MET, 2700.0)
    assert one.started_at == sh(MON, "10:00")
    assert c.next_response is two
    # cycle 2 ran 14:00-15:30 = 1.5 h against 1 h: breached at 15:00, still running
    assert (two.state, two.elapsed_seconds) == (ClockState.BREACHED, 1.5 * H)
    assert two.breached_at == two.due_at == sh(MON, "15:00")
    assert c.worst_state() == ClockState.BREACHED
    assert c.next_due_at() == sh(MON, "15:00")


def test_messages_before_the_first_reply_do_not_start_a_next_response_clock() -> None:
    events = [
        ev(MON, "09:00", "opened", "new"),
        ev(MON, "09:05", "customer_message"),
        ev(MON, "09:30", "agent_reply"),
    ]
    c = clocks_at(events, MON, "12:00")
    assert c.next_response.state == ClockState.NOT_APPLICABLE
    assert c.next_response_history == ()
    assert c.next_response.target_seconds == H


def test_resolving_without_a_reply_fulfils_the_reply_clock_and_a_reopening_message_counts() -> None:
    events = [
        ev(MON, "09:00", "opened", "new"),
        ev(MON, "09:30", "status", "resolved"),  # solved by the first call, no written reply
        ev(MON, "16:00", "customer_message"),  # "it broke again" while resolved: no clock yet
        ev(TUE, "09:00", "status", "triaged"),  # reopened
    ]
    c = clocks_at(events, TUE, "09:20")
    assert c.first_response.state == ClockState.MET
    assert c.first_response.stopped_at == sh(MON, "09:30")
    # the waiting message starts the next-response clock at the reopening
    assert c.next_response.started_at == sh(TUE, "09:00")
    assert c.next_response.elapsed_seconds == 20 * 60
    assert c.next_response.state == ClockState.RUNNING
    # resolution: 30 min on Monday + 20 min on Tuesday
    assert c.resolution.elapsed_seconds == 50 * 60
    still_resolved = clocks_at(events[:3], MON, "17:00")
    assert still_resolved.next_response.state == ClockState.NOT_APPLICABLE


def test_inserting_a_forgotten_waiting_on_customer_recomputes_the_clocks() -> None:
    targets = SlaTargets(first_response=timedelta(hours=1), resolution=timedelta(hours=8))
    log = [
        ev(TUE, "12:00", "status", "resolved"),  # unsorted on purpose
        ev(MON, "09:00", "opened", "new"),
        ev(MON, "09:30", "agent_reply"),  # "please send photos"
    ]
    before = clocks_at(log, TUE, "15:00", targets=targets).resolution
    # Mon 7.5 h + Tue 09-12 3 h = 10.5 h against 8 h: breached at Tue 09:30
    assert (before.state, before.elapsed_seconds) == (ClockState.BREACHED, 10.5 * H)
    assert before.breached_at == sh(TUE, "09:30")
    corrected = [
        *log,
        ev(MON, "17:00", "status", "triaged"),  # the photos came at 17:00
        ev(MON, "09:30", "status", "waiting_on_customer"),  # the agent forgot to record this
    ]
    after = clocks_at(corrected, TUE, "15:00", targets=targets).resolution
    # Mon 09:00-09:30 + 17:00-18:00 + Tue 09:00-12:00 = 4.5 h: met
    assert (after.state, after.elapsed_seconds) == (ClockState.MET, 4.5 * H)
    assert after.breached_at is None
    assert clocks_at(corrected, TUE, "15:00", targets=targets).first_response.state == "met"


def test_events_in_any_zone_and_ties_keep_their_order() -> None:
    # the same instants written in UTC: Monday 09:00 Shanghai = 01:00 UTC
    events = [
        ClockEvent(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "opened", "new"),
        ClockEvent(datetime(2026, 3, 2, 2, 30, tzinfo=UTC), "agent_reply"),
    ]
    fr = clocks_at(events, MON, "12:00").first_response
    assert (fr.state, fr.elapsed_seconds) == (ClockState.BREACHED, 1.5 * H)
    assert fr.breached_at == sh(MON, "10:00")
    assert fr.breached_at is not None
    assert fr.breached_at.tzinfo == SH


def test_replaying_an_earlier_now_ignores_later_events() -> None:
    events = [ev(MON, "09:00", "opened", "new"), ev(MON, "11:00", "agent_reply")]
    half_past = clocks_at(events, MON, "09:30").first_response
    assert (half_past.state, half_past.elapsed_seconds) == (ClockState.RUNNING, 1800.0)
    before = clocks_at(events, MON, "08:00")
    assert before.worst_state() == ClockState.NOT_APPLICABLE
    assert before.next_due_at() is None


def test_no_target_means_not_applicable_but_time_is_still_measured() -> None:
    events = [ev(MON, "09:00", "opened", "new"), ev(MON, "10:30", "status", "resolved")]
    c = clocks_at(events, MON, "12:00", targets=SlaTargets())
    assert c.resolution.state == ClockState.NOT_APPLICABLE
    assert c.resolution.elapsed_seconds == 1.5 * H
    assert c.worst_state() == ClockState.NOT_APPLICABLE


def test_worst_state_live_only_ignores_finished_clocks() -> None:
    events = [ev(MON, "09:00", "opened", "new"), ev(MON, "11:00", "agent_reply")]
    c = clocks_at(events, MON, "11:30")
    assert c.worst_state() == ClockState.BREACHED  # the late first reply
    assert c.worst_state(live_only=True) == ClockState.RUNNING  # resolution: 2.5 h of 10
    assert str(c.worst_state()) == "breached"


def test_a_case_opened_in_a_stop_status_has_met_clocks() -> None:
    c = clocks_at([ev(MON, "09:00", "opened", "closed")], MON, "12:00")
    assert (c.first_response.state, c.resolution.state) == (ClockState.MET, ClockState.MET)
    assert c.resolution.elapsed_seconds == 0.0


def test_clock_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="no 'opened' event"):
        clocks_at([ev(MON, "09:00", "agent_reply")], MON, "12:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        ClockEvent(datetime(2026, 3, 2, 9), "opened", "new")  # noqa: DTZ001 - the point
    with pytest.raises(ValueError, match="event kind 'note' is unknown"):
        ClockEvent(sh(MON), "note")
    with pytest.raises(ValueError, match="needs the status"):
        ClockEvent(sh(MON), "status")
    with pytest.raises(ValueError, match="cannot both pause and stop"):
        clocks_at(
            [ev(MON, "09:00", "opened", "new")],
            MON,
            "12:00",
            pause_statuses=frozenset({"resolved"}),
        )
    with pytest.raises(ValueError, match="at_risk_ratio"):
        SlaTargets(at_risk_ratio=0)
    with pytest.raises(ValueError, match="negative"):
        SlaTargets(first_response=timedelta(minutes=-1))
