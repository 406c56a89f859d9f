"""Cooldown: a rule that fired stays quiet for its cooldown unless the problem worsens."""

from __future__ import annotations

from manyi.insight.monitor.debounce import AlertState, notifications, should_notify
from manyi.insight.monitor.evaluate import AlertResult
from manyi.insight.monitor.rules import AnomalyRule, ChangeRule, ThresholdRule


def result(rule_id: str, period: str, value: float | None, *, fired: bool = True) -> AlertResult:
    return AlertResult(
        rule_id, "change", "late_share", period, "fired" if fired else "quiet", fired,
        value, 0.05, 0.001, None, "", "",
    )  # fmt: skip


def test_cooldown_suppresses_repeats_until_it_runs_out() -> None:
    rule = ChangeRule("late_share", cooldown=3)
    days = ["2018-03-01", "2018-03-02", "2018-03-03", "2018-03-04", "2018-03-05"]
    sent = notifications(rule, [result(rule.id, d, 0.12) for d in days])
    # notified on day 1, quiet on 2 and 3 (same value), again once 3 days have passed
    assert [r.period for r in sent] == ["2018-03-01", "2018-03-04"]


def test_a_worse_value_breaks_the_cooldown_by_more_than_worsen_by() -> None:
    rule = ChangeRule("late_share", cooldown=5, worsen_by=0.02)
    notify, state = should_notify(rule, result(rule.id, "2018-03-01", 0.12), None)
    assert notify
    assert state == AlertState(rule.id, "2018-03-01", 0.12, 0.05)
    slightly, kept = should_notify(rule, result(rule.id, "2018-03-02", 0.13), state)
    assert (slightly, kept) == (False, state)  # the state stays: the cooldown counts on
    clearly, new = should_notify(rule, result(rule.id, "2018-03-03", 0.15), state)
    assert clearly
    assert new is not None
    assert new.value == 0.15
    better, _ = should_notify(rule, result(rule.id, "2018-03-03", 0.08), state)
    assert not better


def test_quiet_results_never_notify_and_keep_the_state() -> None:
    rule = ChangeRule("late_share")
    state = AlertState(rule.id, "2018-03-01", 0.12)
    assert should_notify(rule, result(rule.id, "2018-03-02", 0.2, fired=False), state) == (
        False,
        state,
    )


def test_direction_of_worse_follows_the_rule() -> None:
    low = ThresholdRule("good_review_rate", "<", 0.7, cooldown=10)
    _, state = should_notify(low, result(low.id, "2018-03-01", 0.65), None)
    assert should_notify(low, result(low.id, "2018-03-02", 0.60), state)[0]  # lower is worse
    assert not should_notify(low, result(low.id, "2018-03-02", 0.68), state)[0]
    both = AnomalyRule("orders", cooldown=10)  # orders: a surge or a drop
    _, state = should_notify(both, result(both.id, "2018-03-01", 0.20), None)
    assert should_notify(both, result(both.id, "2018-03-02", -0.5), state)[0]  # further away


def test_zero_cooldown_notifies_every_time_and_state_round_trips() -> None:
    rule = ChangeRule("late_share", cooldown=0)
    days = ["2018-03-01", "2018-03-02"]
    assert len(notifications(rule, [result(rule.id, d, 0.1) for d in days])) == 2
    state = AlertState("r", "2018-03-01T10:00", 3.0, None)
    assert AlertState.from_dict(state.to_dict()) == state
    # a state of another rule (renamed) does not silence this one
    other = AlertState("old-id", "2018-03-01", 0.5)
    assert should_notify(rule, result(rule.id, "2018-03-01", 0.1), other)[0]


def test_hourly_cooldown_counts_hours() -> None:
    rule = ChangeRule("orders", freq="hour", cooldown=2)
    hours = ["2017-11-24T10:00", "2017-11-24T11:00", "2017-11-24T12:00"]
    sent = notifications(rule, [result(rule.id, h, 50.0) for h in hours])
    assert [r.period for r in sent] == ["2017-11-24T10:00", "2017-11-24T12:00"]
