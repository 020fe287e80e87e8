"""Bedaquiline missed-dose rules in BPaLM (WHO drug-resistant TB handbook, 5.2.4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.treatment.dosing_fixtures import TODAY
from treatment.adherence import summarise
from treatment.codes import Reason
from treatment.enrolment import Enrolment, Pause, enrol
from treatment.events import DoseEvent, EventKind
from treatment.plan import DoseSlot, iter_slots

START = date(2026, 3, 2)  # a Monday; loading runs to Sunday 15 March


def _bpalm() -> Enrolment:
    return enrol(regimen="BPaLM", start=START, times=["08:00"], zone="UTC", today=TODAY)


def _slot(enrolment: Enrolment, day: date) -> DoseSlot:
    return next(s for s in iter_slots(enrolment) if s.local_date == day)


def _history(
    enrolment: Enrolment, now: datetime, changes: dict[date, DoseEvent | None]
) -> list[DoseEvent]:
    events = []
    for slot in iter_slots(enrolment):
        if slot.utc > now:
            break
        if slot.local_date in changes:
            change = changes[slot.local_date]
            if change is not None:
                events.append(change)
        else:
            events.append(DoseEvent(slot.key, EventKind.TAKEN, slot.utc))
    return events


def _codes(enrolment: Enrolment, now: datetime, changes: dict[date, DoseEvent | None]) -> list[str]:
    return [s.code for s in summarise(enrolment, _history(enrolment, now, changes), now).statuses]


def _missed(day: date) -> DoseEvent:
    return DoseEvent(f"{day.isoformat()}#0", EventKind.MISSED)


def test_missed_loading_dose_is_not_made_up() -> None:
    day = START + timedelta(days=3)
    now = datetime(2026, 3, 5, 20, tzinfo=UTC)
    assert Reason.BEDAQUILINE_LOADING_MISSED in _codes(_bpalm(), now, {day: _missed(day)})


def test_missed_three_weekly_dose_within_48_hours_is_taken_now() -> None:
    monday = date(2026, 3, 16)  # first maintenance day
    enrolment = _bpalm()
    now = datetime(2026, 3, 17, 20, tzinfo=UTC)  # Tuesday evening, 36 h after the dose
    summary = summarise(enrolment, _history(enrolment, now, {monday: _missed(monday)}), now)
    status = next(s for s in summary.statuses if s.code == Reason.BEDAQUILINE_TAKE_WITHIN_48H)
    assert status.until == datetime(2026, 3, 18, 8, tzinfo=UTC)


def test_missed_three_weekly_dose_after_48_hours_goes_to_the_clinician() -> None:
    friday = date(2026, 3, 20)
    now = datetime(2026, 3, 22, 9, tzinfo=UTC)  # Sunday, 49 h after Friday's dose
    codes = _codes(_bpalm(), now, {friday: _missed(friday)})
    assert Reason.BEDAQUILINE_WINDOW_PASSED in codes
    assert Reason.BEDAQUILINE_TAKE_WITHIN_48H not in codes


def test_late_dose_pushes_the_next_one_48_hours_after_it() -> None:
    monday = date(2026, 3, 16)
    enrolment = _bpalm()
    taken_at = datetime(2026, 3, 17, 20, tzinfo=UTC)
    late = DoseEvent(_slot(enrolment, monday).key, EventKind.TAKEN, taken_at)
    now = datetime(2026, 3, 17, 21, tzinfo=UTC)
    summary = summarise(enrolment, _history(enrolment, now, {monday: late}), now)
    status = next(s for s in summary.statuses if s.code == Reason.BEDAQUILINE_NEXT_NOT_BEFORE)
    assert status.until == taken_at + timedelta(hours=48)


def test_on_time_doses_raise_no_bedaquiline_status() -> None:
    now = datetime(2026, 3, 25, 12, tzinfo=UTC)
    assert _codes(_bpalm(), now, {}) == [Reason.ON_TRACK]


def test_gap_over_two_weeks_needs_reloading_by_a_clinician() -> None:
    first = date(2026, 3, 20)
    gap = {first + timedelta(days=i): _missed(first + timedelta(days=i)) for i in range(15)}
    now = datetime(2026, 4, 4, 12, tzinfo=UTC)
    codes = _codes(_bpalm(), now, gap)
    assert Reason.BEDAQUILINE_RELOAD in codes
    assert Reason.BEDAQUILINE_REASSESS not in codes


def test_gap_under_two_weeks_needs_no_reloading() -> None:
    first = date(2026, 3, 20)
    gap = {first + timedelta(days=i): _missed(first + timedelta(days=i)) for i in range(10)}
    now = datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert Reason.BEDAQUILINE_RELOAD not in _codes(_bpalm(), now, gap)


def test_pause_over_eight_weeks_asks_for_reassessment_before_resuming() -> None:
    enrolment = _bpalm().with_pause(Pause(date(2026, 3, 21), date(2026, 5, 20)))
    now = datetime(2026, 5, 18, 12, tzinfo=UTC)
    codes = _codes(enrolment, now, {})
    assert Reason.BEDAQUILINE_REASSESS in codes
    assert Reason.BEDAQUILINE_RELOAD not in codes


def test_pause_of_three_weeks_asks_for_reloading_before_resuming() -> None:
    enrolment = _bpalm().with_pause(Pause(date(2026, 3, 21), date(2026, 4, 10)))
    now = datetime(2026, 4, 9, 12, tzinfo=UTC)
    assert Reason.BEDAQUILINE_RELOAD in _codes(enrolment, now, {})
