"""The retention rule as a function of plain facts and a day (`scheduler.retention.decide`):
data is never erased before the rule's day, never without a notice at least the notice
period before, and a patient who answers keeps it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.retention import Action, Facts, RetentionPolicy, decide, erase_day
from storage.repositories.retention import RetentionState

DAY = timedelta(days=1)
POLICY = RetentionPolicy()  # 365 days after the end, 180 of silence, 14 of notice
D0 = date(2026, 1, 1)


def state(**kwargs: object) -> RetentionState:
    values: dict[str, object] = {"patient_id": "p", "created_on": D0, "seen_on": D0}
    values.update(kwargs)
    return RetentionState(**values)  # type: ignore[arg-type]


def test_a_silent_patient_is_told_fourteen_days_before_and_erased_on_the_day() -> None:
    facts = Facts(state())
    assert decide(POLICY, facts, D0 + 165 * DAY).action is Action.WAIT
    told = decide(POLICY, facts, D0 + 166 * DAY)
    assert told.action is Action.NOTIFY
    assert told.state.erase_on == D0 + 180 * DAY == told.next_look
    later = Facts(told.state)
    assert decide(POLICY, later, D0 + 179 * DAY).action is Action.WAIT
    assert decide(POLICY, later, D0 + 180 * DAY).action is Action.ERASE


def test_a_notice_given_late_still_leaves_the_full_notice_period() -> None:
    """The operator shortened the period, or the bot was down: the day moves, never the
    notice."""
    told = decide(POLICY, Facts(state()), D0 + 300 * DAY)
    assert told.action is Action.NOTIFY and told.state.erase_on == D0 + 314 * DAY


def test_writing_after_the_notice_ends_it_for_the_silence_rule() -> None:
    told = decide(POLICY, Facts(state()), D0 + 166 * DAY).state
    wrote = replace(told, seen_on=D0 + 170 * DAY)
    again = decide(POLICY, Facts(wrote), D0 + 180 * DAY)
    assert again.action is Action.WAIT and again.state.notice_on is None
    assert again.next_look == D0 + 210 * DAY  # a month on (RELOOK), before the new day
    assert erase_day(POLICY, Facts(wrote)) == D0 + 350 * DAY


def test_after_the_treatment_only_keep_my_data_keeps_it() -> None:
    ended = D0 + 10 * DAY
    active = state(seen_on=D0 + 500 * DAY)  # still writing every day
    told = decide(POLICY, Facts(active, ended_on=ended), ended + 351 * DAY)
    assert told.action is Action.NOTIFY and told.state.erase_on == ended + 365 * DAY
    wrote = replace(told.state, seen_on=ended + 360 * DAY)
    assert decide(POLICY, Facts(wrote, ended_on=ended), ended + 365 * DAY).action is Action.ERASE
    kept = replace(wrote, notice_on=None, erase_on=None, kept_on=ended + 360 * DAY)
    after = decide(POLICY, Facts(kept, ended_on=ended), ended + 365 * DAY)
    assert after.action is Action.WAIT
    # The end rule now counts from the keep (360 + 365); the silence rule is sooner.
    assert erase_day(POLICY, Facts(kept, ended_on=ended)) == ended + (360 + 180) * DAY
    no_silence = RetentionPolicy(after_silence=None)
    assert erase_day(no_silence, Facts(kept, ended_on=ended)) == ended + (360 + 365) * DAY


def test_an_ongoing_treatment_is_looked_at_again_before_it_can_end() -> None:
    facts = Facts(state(seen_on=D0 + 100 * DAY), ends_by=D0 + 120 * DAY)
    wait = decide(POLICY, facts, D0 + 100 * DAY)
    assert wait.action is Action.WAIT and wait.next_look == D0 + 130 * DAY  # RELOOK


def test_rules_switched_off_never_erase() -> None:
    off = RetentionPolicy(after_treatment=None, after_silence=None)
    facts = Facts(state(), ended_on=D0)
    assert not off.active
    assert decide(off, facts, D0 + 5000 * DAY).action is Action.WAIT


def test_a_period_shorter_than_the_notice_is_refused() -> None:
    with pytest.raises(ValueError):
        RetentionPolicy(after_silence=timedelta(days=7), notice=timedelta(days=14))
    with pytest.raises(ValueError):
        RetentionPolicy(notice=timedelta(0))


@settings(max_examples=300, deadline=None)
@given(
    silence=st.one_of(st.none(), st.integers(15, 400)),
    after=st.one_of(st.none(), st.integers(15, 400)),
    notice=st.integers(1, 14),
    ended=st.one_of(st.none(), st.integers(0, 300)),
    writes=st.sets(st.integers(0, 900), max_size=12),
    keeps=st.sets(st.integers(0, 900), max_size=4),
)
def test_never_erased_early_nor_without_the_full_notice(
    silence: int | None,
    after: int | None,
    notice: int,
    ended: int | None,
    writes: set[int],
    keeps: set[int],
) -> None:
    """Day by day, a patient writes on some days and presses "Keep my data" on others; the
    rule runs each day. Whenever it erases: a notice was given at least `notice` days before,
    nothing was written or kept since, and the rules' own day has come."""
    policy = RetentionPolicy.in_days(after or 0, silence or 0, notice)
    current = state()
    ended_on = None if ended is None else D0 + ended * DAY
    for n in range(1000):
        today = D0 + n * DAY
        if n in writes or n in keeps:
            current = replace(current, seen_on=today)
        if n in keeps:
            current = replace(current, notice_on=None, erase_on=None, kept_on=today)
        facts = Facts(current, ended_on=ended_on if ended_on and ended_on <= today else None)
        decision = decide(policy, facts, today)
        if decision.action is Action.ERASE:
            assert current.notice_on is not None and current.erase_on is not None
            assert today - current.notice_on >= policy.notice
            assert not any(current.notice_on < D0 + k * DAY <= today for k in keeps)
            due = erase_day(policy, facts)
            assert due is not None and due <= today
            return
        assert decision.next_look > today
        current = decision.state
