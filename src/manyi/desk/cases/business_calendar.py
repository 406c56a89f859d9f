"""Business calendars: working time between two instants, and the instant a duration ends.

Pure functions over the standard library — no Django, no database, and ``now`` is always an
argument — so the desk, the SLA worker, the tests and a replay of history compute the same
numbers.

Business time
-------------
A :class:`BusinessCalendar` holds, in one IANA zone, the working intervals of each weekday
(several a day for split shifts such as 09:00–12:00 and 13:30–18:00), public holidays (closed
all day) and make-up working days (调休: a weekend date worked to make up for a long holiday,
with its own hours). Durations — targets, :func:`business_seconds` — are real seconds of
working time, never differences of wall-clock readings.

**The wall clock decides.** An instant is working time when the shop's wall clock shows, at
that instant, a date and a time inside that date's working intervals. This settles daylight
saving time without special cases:

* on a spring-forward day the skipped hour is never shown, so an interval that contains it is
  shorter by the gap, and an interval that *starts* in the gap starts at the jump;
* on a fall-back day the repeated hour is shown twice, so an interval covering it is longer by
  the repetition (the agents are at their desks for it twice);
* hence a 24×7 calendar (:meth:`BusinessCalendar.always_open`) counts exactly the real elapsed
  time in every zone.

Intervals are ``[start, end)``; an end of ``time(0)`` or ``time.max`` (``"24:00"`` in a config)
means midnight at the end of the day. A shift that crosses midnight is written as two intervals
on two days.

The SLA clocks of a case (:mod:`manyi.desk.cases.sla`) are counted in this working time.
"""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Interval = tuple[time, time]

US = 1_000_000  # all arithmetic is in integer microseconds, exact like datetime itself
_DAY_US = 86_400 * US
ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_THURSDAY = 3  # weekday of day 0 (1970-01-01)
_LAST_YEAR = 9998  # offsets are looked up by UTC year; datetime ends in 9999
_LAST_DAY = (date(_LAST_YEAR, 12, 31) - date(1970, 1, 1)).days

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{name: i for i, name in enumerate(DAY_NAMES)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_CONFIG_FIELDS = ("tz", "weekly", "holidays", "makeup_days")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")


class NoBusinessTimeError(ValueError):
    """The calendar has no working time (at all, or none left before year 9999)."""


# --- the business calendar -----------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday, holidays and make-up working days, in one time zone.

    Attributes
    ----------
    tz
        IANA zone of the wall clock the hours are read on (``"Asia/Shanghai"``).
    weekly
        Weekday (0 = Monday) → working intervals ``(start, end)`` in local wall-clock time.
        A missing weekday is closed. An end of ``time(0)`` or ``time.max`` means midnight.
    holidays
        Dates closed all day, whatever their weekday.
    makeup_days
        Dates whose hours replace the weekly ones: 调休 weekends worked to make up for a long
        holiday, or a short day before one. A date cannot be both a holiday and a make-up day.

    Raises
    ------
    ValueError
        Naming the field: unknown zone, a weekday outside 0–6, an interval that ends before it
        starts, overlapping intervals, a date that is both a holiday and a make-up day.

    Examples
    --------
    >>> from datetime import time
    >>> from manyi.desk.cases.sla import BusinessCalendar
    >>> cal = BusinessCalendar("Europe/Berlin", {0: ((time(9), time(17)),)})
    >>> cal.to_config()["weekly"]
    {'mon': [['09:00', '17:00']]}
    """

    tz: str
    weekly: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[date] = frozenset()
    makeup_days: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    # Derived once (the dataclass is frozen, so __post_init__ sets them with object.__setattr__).
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _week: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)
    _week_total: int = field(init=False, repr=False, compare=False)
    _week_prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _special: Mapping[int, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False
    )
    _special_days: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _special_prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _last_work_day: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_zone", _zone(self.tz))

        weekly: dict[int, tuple[Interval, ...]] = {}
        week: list[tuple[tuple[int, int], ...]] = [()] * 7
        if not isinstance(self.weekly, Mapping):
            raise ValueError("weekly: expected a mapping of weekday (0 = Monday) to intervals")
        for day, intervals in self.weekly.items():
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise ValueError(f"weekly: unknown weekday {day!r}; use 0 (Monday) to 6 (Sunday)")
            spans, ordered = _spans(intervals, f"weekly.{DAY_NAMES[day]}")
            if spans:
                weekly[day] = ordered
                week[day] = spans
        setattr_(self, "weekly", MappingProxyType(weekly))
        setattr_(self, "_week", tuple(week))
        totals = [sum(e - s for s, e in spans) for spans in week]
        setattr_(self, "_week_total", sum(totals))
        setattr_(self, "_week_prefix", tuple(sum(totals[:i]) for i in range(8)))

        holidays = frozenset(self.holidays)
        for d in holidays:
            if not isinstance(d, date) or isinstance(d, datetime):
                raise ValueError(f"holidays: {d!r} is not a date")
        setattr_(self, "holidays", holidays)
        makeup: dict[date, tuple[Interval, ...]] = {}
        special: dict[int, tuple[tuple[int, int], ...]] = dict.fromkeys(
            (_day_index(d) for d in holidays), ()
        )
        for d, intervals in dict(self.makeup_days).items():
            if not isinstance(d, date) or isinstance(d, datetime):
                raise ValueError(f"makeup_days: {d!r} is not a date")
            where = f"makeup_days.{d.isoformat()}"
            if d in holidays:
                raise ValueError(f"{where}: the date is also listed in holidays; keep one")
            spans, ordered = _spans(intervals, where)
            if not spans:
                raise ValueError(f"{where}: a make-up day needs working hours (closed: holidays)")
            makeup[d] = ordered
            special[_day_index(d)] = spans
        setattr_(self, "makeup_days", MappingProxyType(makeup))

        # Whole-week arithmetic plus a correction per special date: the working time before any
        # day is weeks × weekly total + a weekday prefix + the corrections of earlier dates, so a
        # span of years costs two binary searches, not a walk over its days.
        days = tuple(sorted(special))
        prefix = [0]
        for day in days:
            regular = totals[(day + _THURSDAY) % 7]
            prefix.append(prefix[-1] + sum(e - s for s, e in special[day]) - regular)
        setattr_(self, "_special", MappingProxyType(special))
        setattr_(self, "_special_days", days)
        setattr_(self, "_special_prefix", tuple(prefix))
        worked = [day for day in days if special[day]]
        setattr_(self, "_last_work_day", worked[-1] if worked else None)

    def __hash__(self) -> int:
        return hash(
            (
                self.tz,
                tuple(sorted(self.weekly.items())),
                self.holidays,
                tuple(sorted(self.makeup_days.items())),
            )
        )

    def __reduce__(self) -> tuple[type[BusinessCalendar], tuple[Any, ...]]:
        # The derived fields (read-only mapping proxies) do not pickle; rebuild from the inputs
        # so a calendar can be cached or sent to a worker process.
        return (
            type(self),
            (self.tz, dict(self.weekly), self.holidays, dict(self.makeup_days)),
        )

    # --- constructors ----------------------------------------------------------------------

    @classmethod
    def always_open(cls, tz: str) -> BusinessCalendar:
        """A 24×7 calendar in ``tz``: business time equals elapsed time.

        Examples
        --------
        >>> from manyi.desk.cases.sla import BusinessCalendar
        >>> BusinessCalendar.always_open("UTC").to_config()["weekly"]["sun"]
        [['00:00', '24:00']]
        """
        return cls(tz, dict.fromkeys(range(7), ((time(0), time(0)),)))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BusinessCalendar:
        """A calendar from its JSON form (what the desk stores in ``BusinessCalendar.config``).

        ``{"tz": "Asia/Shanghai", "weekly": {"mon": [["09:00", "12:00"], ["13:30", "18:00"]],
        ...}, "holidays": ["2026-10-01", ...], "makeup_days": {"2026-09-27": [["09:00",
        "18:00"]]}}``. Weekdays are ``mon``…``sun`` (or full English names); a missing weekday
        is closed; times are ``HH:MM`` or ``HH:MM:SS``, ``24:00`` for midnight at the end.

        Raises
        ------
        ValueError
            Naming the field, e.g. ``weekly.mon[1]: end 08:00 is not after start 09:00``.

        Examples
        --------
        >>> from manyi.desk.cases.sla import BusinessCalendar
        >>> BusinessCalendar.from_config({"tz": "UTC", "weekly": {"funday": []}})
        Traceback (most recent call last):
        ...
        ValueError: weekly: unknown weekday 'funday'; use mon, tue, wed, thu, fri, sat, sun
        """
        if not isinstance(config, Mapping):
            raise ValueError("calendar config: expected an object with tz and weekly")
        unknown = sorted(str(k) for k in config if k not in _CONFIG_FIELDS)
        if unknown:
            raise ValueError(
                f"calendar config: unknown field(s) {', '.join(unknown)}; "
                f"expected {', '.join(_CONFIG_FIELDS)}"
            )
        tz = config.get("tz")
        if not isinstance(tz, str) or not tz:
            raise ValueError("tz: required, an IANA zone name such as 'Asia/Shanghai'")
        if "weekly" not in config:
            raise ValueError('weekly: required, e.g. {"mon": [["09:00", "18:00"]]}')
        raw_weekly = config["weekly"]
        if not isinstance(raw_weekly, Mapping):
            raise ValueError('weekly: expected an object such as {"mon": [["09:00", "18:00"]]}')
        weekly: dict[int, tuple[Interval, ...]] = {}
        for key, intervals in raw_weekly.items():
            day = _DAY_ALIASES.get(str(key).strip().lower())
            if day is None:
                raise ValueError(f"weekly: unknown weekday {key!r}; use {', '.join(DAY_NAMES)}")
            if day in weekly:
                raise ValueError(f"weekly: {key!r} repeats {DAY_NAMES[day]}")
            weekly[day] = _parse_intervals(intervals, f"weekly.{key}")
        raw_holidays = config.get("holidays", [])
        if isinstance(raw_holidays, str | bytes) or not isinstance(raw_holidays, Sequence):
            raise ValueError('holidays: expected a list of dates such as ["2026-10-01"]')
        holidays = frozenset(
            _parse_date(text, f"holidays[{i}]") for i, text in enumerate(raw_holidays)
        )
        raw_makeup = config.get("makeup_days", {})
        if not isinstance(raw_makeup, Mapping):
            raise ValueError(
                'makeup_days: expected an object such as {"2026-09-27": [["09:00", "18:00"]]}'
            )
        makeup: dict[date, tuple[Interval, ...]] = {}
        for key, intervals in raw_makeup.items():
            day_date = _parse_date(key, f"makeup_days.{key}")
            makeup[day_date] = _parse_intervals(intervals, f"makeup_days.{key}")
        return cls(tz, weekly, holidays, makeup)

    def to_config(self) -> dict[str, Any]:
        """The JSON form that :meth:`from_config` reads back to an equal calendar."""
        return {
            "tz": self.tz,
            "weekly": {
                DAY_NAMES[day]: [[_format_time(s), _format_time(e, end=True)] for s, e in spans]
                for day, spans in sorted(self.weekly.items())
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "makeup_days": {
                d.isoformat(): [[_format_time(s), _format_time(e, end=True)] for s, e in spans]
                for d, spans in sorted(self.makeup_days.items())
            },
        }

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of local date ``day`` (holiday → none, make-up day → its own).

        Examples
        --------
        >>> from datetime import date
        >>> from manyi.desk.cases.sla import BusinessCalendar
        >>> cal = BusinessCalendar.from_config({"tz": "UTC", "weekly": {"mon": [["9:00", "17:00"]]},
        ...     "holidays": ["2026-10-05"]})
        >>> cal.hours_on(date(2026, 10, 5)), len(cal.hours_on(date(2026, 10, 12)))
        ((), 1)
        """
        if day in self.holidays:
            return ()
        if day in self.makeup_days:
            return self.makeup_days[day]
        return self.weekly.get(day.weekday(), ())

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's zone as a ``ZoneInfo``."""
        return self._zone

    # --- arithmetic on "wall microseconds" (local wall-clock time as µs since 1970-01-01) ----

    def _day_spans(self, day: int) -> tuple[tuple[int, int], ...]:
        spans = self._special.get(day)
        return self._week[(day + _THURSDAY) % 7] if spans is None else spans

    def _worked_before_day(self, day: int) -> int:
        """Working µs of wall-clock days before ``day``, from a fixed origin (differences only)."""
        weeks, weekday = divmod(day + _THURSDAY, 7)
        corrections = self._special_prefix[bisect_left(self._special_days, day)]
        return weeks * self._week_total + self._week_prefix[weekday] + corrections

    def _worked_before(self, wall: int) -> int:
        day, within = divmod(wall, _DAY_US)
        done = self._worked_before_day(day)
        for s, e in self._day_spans(day):
            if s >= within:
                break
            done += min(e, within) - s
        return done

    def _wall_reaching(self, target: int, wall_from: int) -> int:
        """Smallest wall time ``x >= wall_from`` with ``_worked_before(x) >= target``.

        Precondition: ``_worked_before(wall_from) < target``.
        """
        lo = wall_from // _DAY_US  # invariant: worked before day lo + 1 < target, unless lo is it
        if self._worked_before_day(lo + 1) >= target:
            day = lo
        else:
            # Gallop forward by doubling, then bisect: O(log span) evaluations.
            step, hi = 1, lo + 1
            while self._worked_before_day(hi + 1) < target:
                if hi >= _LAST_DAY:
                    raise NoBusinessTimeError("the calendar has no working time left before 9999")
                lo, step = hi, step * 2
                hi = min(lo + step, _LAST_DAY)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self._worked_before_day(mid + 1) >= target:
                    hi = mid
                else:
                    lo = mid
            day = hi
        need = target - self._worked_before_day(day)  # > 0 by the invariant
        for s, e in self._day_spans(day):
            if need <= e - s:
                return max(day * _DAY_US + s + need, wall_from)
            need -= e - s
        raise AssertionError("unreachable: the day was chosen to hold the target")

    def _has_work_from(self, day: int) -> bool:
        return self._week_total > 0 or (
            self._last_work_day is not None and self._last_work_day >= day
        )

    def _segments(self, start: int, end: int | None) -> Iterator[tuple[int, int, int]]:
        """``(from, to, utc_offset)`` pieces of instants ``[start, end)`` with one UTC offset.

        ``end=None`` runs on year by year until 9998.
        """
        year, a = _utc_year(start), start
        while year <= _LAST_YEAR:
            first, changes = _offset_changes(self.tz, year)
            year_end = _year_start(year + 1)
            stop = year_end if end is None else min(end, year_end)
            offset = first
            for t, new in changes:
                if t <= a:
                    offset = new
                elif t < stop:
                    yield a, t, offset
                    a, offset = t, new
                else:
                    break
            if stop > a:
                yield a, stop, offset
                a = stop
            if end is not None and a >= end:
                return
            year += 1

    def _business_us(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        total = 0
        # Within one UTC offset the wall clock moves with real time, so the working time of a
        # piece is the working time between its two wall readings; at a DST change the wall
        # reading jumps (gap never counted) or steps back (repeated hour counted twice).
        for a, b, offset in self._segments(start, end):
            total += self._worked_before(b + offset) - self._worked_before(a + offset)
        return total

    def _add_us(self, start: int, amount: int) -> int:
        if amount <= 0:
            return start
        if not self._has_work_from(_utc_day(start) - 1):
            raise NoBusinessTimeError(
                f"the calendar ({self.tz}) has no working hours after {from_us(start, UTC)}: "
                "add weekly hours"
            )
        left = amount
        for a, b, offset in self._segments(start, None):
            got = self._worked_before(b + offset)
            base = self._worked_before(a + offset)
            if got - base >= left:
                return self._wall_reaching(base + left, a + offset) - offset
            left -= got - base
            if self._week_total == 0 and not self._has_work_from(_utc_day(b) - 1):
                break
        raise NoBusinessTimeError(
            f"the calendar ({self.tz}) runs out of working time {left / US:g} s short"
        )


def business_seconds(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Working seconds of ``calendar`` in ``[start, end)`` (0 when ``end <= start``).

    ``start`` and ``end`` are aware datetimes in any zone. The cost does not grow with the span:
    whole weeks are counted arithmetically, holidays and make-up days by binary search.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from manyi.desk.cases.sla import BusinessCalendar, business_seconds
    >>> cal = BusinessCalendar.from_config({"tz": "Asia/Shanghai",
    ...     "weekly": {"mon": [["09:00", "12:00"], ["13:30", "18:00"]]}})
    >>> # Monday 2026-03-02, 03:00-05:00 UTC is 11:00-13:00 in Shanghai: one hour before lunch
    >>> start, end = datetime(2026, 3, 2, 3, tzinfo=UTC), datetime(2026, 3, 2, 5, tzinfo=UTC)
    >>> business_seconds(cal, start, end)
    3600.0
    """
    a, b = instant_us(start, "start"), instant_us(end, "end")
    return calendar._business_us(a, b) / US


def add_business_seconds(
    calendar: BusinessCalendar, start: datetime, seconds: float | timedelta
) -> datetime:
    """The instant at which ``seconds`` of working time have elapsed after ``start``.

    Returned in the calendar's zone. It is the *earliest* such instant, so a target that runs
    out at closing time is due at closing time (18:00), not at the next opening;
    ``business_seconds(cal, start, add_business_seconds(cal, start, s)) == s`` exactly (to the
    microsecond). ``seconds = 0`` gives ``start``. Inside a repeated (fall-back) hour the result
    carries ``fold=1`` where due; compare it with instants of other zones in UTC, because
    Python's ``==`` across zones is always false there (PEP 495).

    Raises
    ------
    NoBusinessTimeError
        The calendar has no working time (after ``start``) at all.
    ValueError
        Negative or non-finite ``seconds``, or a naive ``start``.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from manyi.desk.cases.sla import BusinessCalendar, add_business_seconds
    >>> cal = BusinessCalendar.from_config({"tz": "Asia/Shanghai",
    ...     "weekly": {d: [["09:00", "12:00"], ["13:30", "18:00"]] for d in ("mon", "fri")}})
    >>> friday_evening = datetime(2026, 3, 6, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> add_business_seconds(cal, friday_evening, 3600).isoformat()   # 30 min Fri + 30 min Mon
    '2026-03-09T09:30:00+08:00'
    """
    if isinstance(seconds, timedelta):
        amount = seconds // ONE_US
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"seconds must be finite, got {seconds!r}")
        amount = round(seconds * US)
    if amount < 0:
        raise ValueError(f"seconds must not be negative, got {seconds!r}")
    at = calendar._add_us(instant_us(start, "start"), amount)
    return from_us(at, calendar.zone)


def _zone(tz: object) -> ZoneInfo:
    if not isinstance(tz, str) or not tz:
        raise ValueError("tz: required, an IANA zone name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"tz: unknown time zone {tz!r}; use an IANA name such as 'Asia/Shanghai'"
        ) from None


def instant_us(at: object, name: str) -> int:
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {at.isoformat()})")
    return (at - _EPOCH) // ONE_US


def from_us(us: int, zone: tzinfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone)


def _utc_year(us: int) -> int:
    return (_EPOCH + timedelta(microseconds=us)).year


def _utc_day(us: int) -> int:
    return us // _DAY_US


def _year_start(year: int) -> int:
    return (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // ONE_US


def _day_index(day: date) -> int:
    return (day - date(1970, 1, 1)).days


@functools.lru_cache(maxsize=1024)
def _offset_changes(tz: str, year: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """UTC offset (µs) of ``tz`` at the start of UTC year ``year``, and its changes that year.

    Each change is ``(instant_us, new_offset_us)``. ``zoneinfo`` has no public transition list,
    so the offset is sampled daily and bisected to the second (no zone changes twice a day).
    """
    zone = ZoneInfo(tz)
    start = _year_start(year) // US
    end = _year_start(year + 1) // US

    def offset(second: int) -> int:
        delta = (_EPOCH + timedelta(seconds=second)).astimezone(zone).utcoffset()
        return 0 if delta is None else delta // ONE_US

    first = previous = offset(start)
    changes: list[tuple[int, int]] = []
    for a, b in pairwise([*range(start, end, 86_400), end]):
        new = offset(b)
        if new == previous:
            continue
        lo, hi = a, b
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if offset(mid) == previous:
                lo = mid
            else:
                hi = mid
        if hi < end:  # a change exactly at New Year belongs to the next year's start
            changes.append((hi * US, new))
        previous = new
    return first, tuple(changes)


def _spans(
    intervals: object, where: str
) -> tuple[tuple[tuple[int, int], ...], tuple[Interval, ...]]:
    """Validated intervals as sorted µs-of-day spans, and the sorted intervals themselves."""
    if isinstance(intervals, str | bytes) or not isinstance(intervals, Iterable):
        raise ValueError(f"{where}: expected a list of (start, end) intervals")
    pairs: list[tuple[int, int, Interval]] = []
    for i, pair in enumerate(intervals):
        try:
            start, end = pair
        except (TypeError, ValueError):
            raise ValueError(f"{where}[{i}]: expected a (start, end) pair, got {pair!r}") from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"{where}[{i}]: start and end must be times, got {pair!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{where}[{i}]: use local wall-clock times without tzinfo")
        s = _time_us(start)
        e = _DAY_US if end in (time(0), time.max) else _time_us(end)
        if start == time.max or e <= s:
            raise ValueError(
                f"{where}[{i}]: end {_format_time(end, end=True)} is not after start "
                f"{_format_time(start)} (split a shift across midnight into two days)"
            )
        pairs.append((s, e, (start, end)))
    pairs.sort(key=lambda p: (p[0], p[1]))
    for (_, e1, one), (s2, _, two) in pairwise(pairs):
        if s2 < e1:
            raise ValueError(
                f"{where}: intervals {_format_interval(one)} and {_format_interval(two)} overlap"
            )
    return tuple((s, e) for s, e, _ in pairs), tuple(p for _, _, p in pairs)


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond


def _format_time(t: time, *, end: bool = False) -> str:
    if end and t in (time(0), time.max):
        return "24:00"
    text = f"{t.hour:02d}:{t.minute:02d}"
    if t.second or t.microsecond:
        text += f":{t.second:02d}"
    if t.microsecond:
        text += f".{t.microsecond:06d}"
    return text


def _format_interval(interval: Interval) -> str:
    return f"{_format_time(interval[0])}–{_format_time(interval[1], end=True)}"


def _parse_time(text: object, where: str, *, end: bool) -> time:
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{where}: {text!r} is not a time like 09:00 or 18:30:00")
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    micro = int((match[4] or "0").ljust(6, "0"))
    if end and (hour, minute, second, micro) == (24, 0, 0, 0):
        return time(0)  # midnight at the end of the day
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{where}: {text!r} is not a time of day (00:00–24:00)")
    return time(hour, minute, second, micro)


def _parse_intervals(raw: object, where: str) -> tuple[Interval, ...]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise ValueError(f'{where}: expected a list of ["HH:MM", "HH:MM"] pairs')
    out: list[Interval] = []
    for i, pair in enumerate(raw):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f'{where}[{i}]: expected ["HH:MM", "HH:MM"], got {pair!r}')
        start = _parse_time(pair[0], f"{where}[{i}]", end=False)
        end = _parse_time(pair[1], f"{where}[{i}]", end=True)
        out.append((start, end))
    return tuple(out)


def _parse_date(text: object, where: str) -> date:
    if isinstance(text, date) and not isinstance(text, datetime):
        return text
    try:
        if not isinstance(text, str):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a date like 2026-10-01") from None
