"""Changing dose times keeps the dose count going; history before the change is untouched."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import islice, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatment.enrolment import Enrolment, Pause, TimeChange, enrol
from treatment.errors import TreatmentError
from treatment.plan import iter_slots

START = date(2026, 3, 2)


def daily(times: tuple[str, ...] = ("08:00",)) -> Enrolment:
    return enrol(regimen="2HRZE/4HR", start=START, times=times, zone="Asia/Seoul", today=START)


def test_new_time_applies_from_its_date_and_earlier_slots_keep_theirs() -> None:
    changed = daily().with_time_change(TimeChange(START + timedelta(days=3), (time(21, 30),)))
    slots = list(islice(iter_slots(changed), 6))
    assert [s.local.time() for s in slots] == [time(8)] * 3 + [time(21, 30)] * 3
    assert [s.key for s in slots[:3]] == [s.key for s in islice(iter_slots(daily()), 3)]


def test_a_time_change_does_not_change_the_number_of_doses() -> None:
    changed = daily().with_time_change(TimeChange(START + timedelta(days=10), (time(20),)))
    assert len(list(iter_slots(changed))) == len(list(iter_slots(daily()))) == 182


def test_a_second_change_on_the_same_date_replaces_the_first() -> None:
    day = START + timedelta(days=3)
    changed = (
        daily()
        .with_time_change(TimeChange(day, (time(21),)))
        .with_time_change(TimeChange(day, (time(22),)))
    )
    assert changed.time_changes == (TimeChange(day, (time(22),)),)


def test_time_changes_are_checked() -> None:
    with pytest.raises(TreatmentError) as caught:
        daily().with_time_change(TimeChange(START, (time(9),)))
    assert caught.value.code == "invalid_time_change"
    with pytest.raises(TreatmentError) as caught:
        daily().with_time_change(TimeChange(START + timedelta(days=1), (time(9), time(21))))
    assert caught.value.code == "wrong_number_of_times"


def test_time_changes_round_trip_and_older_records_without_them_still_read() -> None:
    changed = daily().with_time_change(TimeChange(START + timedelta(days=3), (time(21, 30),)))
    assert Enrolment.from_dict(changed.to_dict()) == changed
    older = daily().to_dict()
    del older["time_changes"]
    assert Enrolment.from_dict(older) == daily()


@given(st.integers(1, 170), st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_any_time_change_keeps_slots_increasing_and_counts_equal(offset: int, at: time) -> None:
    changed = daily().with_time_change(TimeChange(START + timedelta(days=offset), (at,)))
    slots = list(iter_slots(changed))
    assert all(a.utc < b.utc for a, b in pairwise(slots))
    assert len(slots) == 182


def test_resume_closes_the_open_pause_the_day_before() -> None:
    paused = daily().with_pause(Pause(START + timedelta(days=5)))
    assert paused.open_pause() is not None
    resumed = paused.resumed(START + timedelta(days=9))
    assert resumed.pauses == (Pause(START + timedelta(days=5), START + timedelta(days=8)),)
    same_day = paused.resumed(START + timedelta(days=5))
    assert same_day.pauses == ()
    with pytest.raises(TreatmentError):
        resumed.resumed(START + timedelta(days=10))
