"""Doses before set-up count as the patient says: never assumed taken."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from treatment.backfill import Earlier, EarlierDoses, due_before, last_dose_day, not_taken
from treatment.enrolment import enrol

START = date(2026, 3, 2)
NOW = datetime(2026, 3, 12, 0, 0, tzinfo=UTC)  # 09:00 on 12 March in Seoul
PLAN = enrol(regimen="2HRZE/4HR", start=START, times=["08:00"], zone="Asia/Seoul", today=START)
WEEKDAYS = enrol(
    regimen="2HRZE/4HR-5d", start=START, times=["08:00"], zone="Asia/Seoul", today=START
)


def test_all_taken_counts_every_earlier_dose() -> None:
    assert len(due_before(PLAN, NOW)) == 11  # 2 to 12 March, 08:00
    assert not_taken(PLAN, NOW, EarlierDoses(Earlier.ALL)) == frozenset()


def test_not_sure_counts_none_and_moves_the_end_by_as_many_doses() -> None:
    keys = not_taken(PLAN, NOW, EarlierDoses(Earlier.UNSURE))
    assert len(keys) == 11
    planned = last_dose_day(PLAN)
    assert planned == START + timedelta(days=181)
    assert last_dose_day(PLAN, keys) == planned + timedelta(days=11)


def test_missed_days_are_exactly_those_days() -> None:
    days = (date(2026, 3, 4), date(2026, 3, 9))
    keys = not_taken(PLAN, NOW, EarlierDoses(Earlier.SOME, missed_days=days))
    assert keys == {"2026-03-04#0", "2026-03-09#0"}


def test_a_missed_day_without_a_dose_is_no_dose() -> None:
    saturday = date(2026, 3, 7)
    keys = not_taken(WEEKDAYS, NOW, EarlierDoses(Earlier.SOME, missed_days=(saturday,)))
    assert keys == frozenset()


@given(st.integers(min_value=0, max_value=40))
def test_a_missed_count_marks_that_many_doses_spread_out(count: int) -> None:
    keys = not_taken(PLAN, NOW, EarlierDoses(Earlier.SOME, missed_count=count))
    due = [s.key for s in due_before(PLAN, NOW)]
    assert len(keys) == min(count, len(due)) and keys <= set(due)
    if 0 < count <= len(due) // 2:
        # Spread: no two of them next to each other, so no lapse is made up.
        positions = sorted(due.index(k) for k in keys)
        assert all(b - a >= 2 for a, b in itertools.pairwise(positions))


def test_the_answer_round_trips_through_its_stored_form() -> None:
    answer = EarlierDoses(Earlier.SOME, missed_days=(date(2026, 3, 4),))
    assert EarlierDoses.from_dict(answer.to_dict()) == answer
    count = EarlierDoses(Earlier.SOME, missed_count=3)
    assert EarlierDoses.from_dict(count.to_dict()) == count
