"""Dose counting and adherence: completion moves with every dose not taken."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.treatment.dosing_fixtures import days, events_until, patient, twice_daily_patient
from treatment.adherence import summarise
from treatment.codes import Reason
from treatment.doses import dose_notices
from treatment.enrolment import Pause, RegimenSwitch
from treatment.errors import TreatmentError
from treatment.events import DoseEvent, EventKind
from treatment.plan import iter_slots

START = date(2026, 3, 2)
# clinical.md: 2HRZE/4HR is 56 + 126 = 182 daily doses, the last 181 days after the first.
FULL_COURSE_END = START + timedelta(days=181)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_missed_dose_moves_completion_date() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=20))
    on_time = summarise(amira, events_until(amira, now), now)
    assert on_time.projected_completion == FULL_COURSE_END
    missed = {START + timedelta(days=3), START + timedelta(days=9), START + timedelta(days=10)}
    late = summarise(amira, events_until(amira, now, missed), now)
    assert late.projected_completion == FULL_COURSE_END + timedelta(days=3)


def test_no_reply_counts_like_a_missed_dose() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=20))
    events = events_until(amira, now, {START + timedelta(days=5)}, EventKind.NO_REPLY)
    summary = summarise(amira, events, now)
    assert summary.projected_completion == FULL_COURSE_END + timedelta(days=1)
    assert summary.adherence_whole == pytest.approx(20 / 21)


def test_skip_on_clinician_advice_extends_treatment_but_not_against_adherence() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=20))
    skipped = {START + timedelta(days=4), START + timedelta(days=5)}
    summary = summarise(amira, events_until(amira, now, skipped, EventKind.SKIPPED_ON_ADVICE), now)
    assert summary.projected_completion == FULL_COURSE_END + timedelta(days=2)
    assert summary.adherence_whole == 1.0
    assert summary.streak == 19


def test_adherence_over_7_days_30_days_and_whole_course() -> None:
    amira = patient(zone="UTC")
    # 40 doses due (days 0..39); 3 missed in the last week, 2 more earlier in the last 30 days,
    # 1 before that.
    now = _noon(START + timedelta(days=39))
    missed = {START + timedelta(days=d) for d in (2, 15, 20, 34, 36, 38)}
    summary = summarise(amira, events_until(amira, now, missed), now)
    assert summary.adherence_7d == pytest.approx(4 / 7)
    assert summary.adherence_30d == pytest.approx(25 / 30)
    assert summary.adherence_whole == pytest.approx(34 / 40)
    assert summary.streak == 1
    assert summary.doses_taken == 34


def test_open_dose_counts_neither_way_and_is_projected_as_taken() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=9))
    events = events_until(amira, now)[:-1]  # today's 08:00 dose not answered yet
    summary = summarise(amira, events, now)
    assert summary.adherence_whole == 1.0
    assert summary.doses_taken == 9
    assert summary.projected_completion == FULL_COURSE_END


def test_late_report_replaces_an_earlier_missed_event() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=5))
    events = events_until(amira, now, {START + timedelta(days=1)})
    key = f"{START + timedelta(days=1)}#0"
    events.append(DoseEvent(key, EventKind.TAKEN, _noon(START + timedelta(days=1))))
    summary = summarise(amira, events, now)
    assert summary.projected_completion == FULL_COURSE_END
    assert summary.doses_taken == 6


def test_intensive_phase_ends_by_doses_taken_not_by_the_calendar() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=30))
    missed = set(days(START + timedelta(days=10), 5))
    summary = summarise(amira, events_until(amira, now, missed), now)
    # 56 intensive doses, 5 of them missed: the 56th dose taken falls 5 days later.
    assert summary.intensive_ends == START + timedelta(days=55 + 5)
    intensive, continuation = summary.phases
    assert (intensive.doses_taken, intensive.doses_required) == (26, 56)
    assert (continuation.doses_taken, continuation.doses_required) == (0, 126)
    assert continuation.first_dose == START + timedelta(days=61)
    assert intensive.window_met is True


def test_completion_window_that_can_no_longer_be_met_sends_to_the_clinician() -> None:
    # 3HP: 12 weekly doses, window 16 weeks (clinical.md, not verified). Six missed weeks put
    # the 12th dose taken in week 17 (index 17), after the window.
    start = date(2026, 3, 4)
    nadia = patient("3HP", start=start, zone="UTC", weight_kg=None)
    now = _noon(start + timedelta(weeks=6, days=1))
    missed = {start + timedelta(weeks=w) for w in range(6)}
    summary = summarise(nadia, events_until(nadia, now, missed), now)
    assert summary.complete_by == start + timedelta(weeks=16)
    assert summary.projected_completion == start + timedelta(weeks=17)
    assert summary.window_can_be_met is False
    assert Reason.COMPLETION_WINDOW_CANNOT_BE_MET in [s.code for s in summary.statuses]


def test_five_missed_weeks_of_3hp_still_fit_the_window() -> None:
    start = date(2026, 3, 4)
    nadia = patient("3HP", start=start, zone="UTC", weight_kg=None)
    now = _noon(start + timedelta(weeks=6, days=1))
    missed = {start + timedelta(weeks=w) for w in range(1, 6)}
    summary = summarise(nadia, events_until(nadia, now, missed), now)
    assert summary.projected_completion == start + timedelta(weeks=16)
    assert summary.window_can_be_met is True


def test_treatment_is_complete_when_every_required_dose_is_taken() -> None:
    amira = patient(zone="UTC")
    now = _noon(FULL_COURSE_END + timedelta(days=1))
    summary = summarise(amira, events_until(amira, now), now)
    assert summary.complete
    assert summary.doses_taken == 182
    assert summary.status.code == Reason.TREATMENT_COMPLETE


def test_before_the_first_dose_nothing_is_counted() -> None:
    summary = summarise(patient(zone="UTC"), [], _noon(START - timedelta(days=1)))
    assert summary.status.code == Reason.NOT_STARTED
    assert summary.adherence_whole is None and summary.streak == 0


def test_twice_daily_regimen_counts_each_dose() -> None:
    bo = twice_daily_patient(doses=20)
    slots = list(iter_slots(bo))
    now = slots[5].utc + timedelta(minutes=1)
    events = [DoseEvent(s.key, EventKind.TAKEN, s.utc) for s in slots[:6]]
    events[3] = DoseEvent(slots[3].key, EventKind.MISSED)
    summary = summarise(bo, events, now)
    assert summary.doses_taken == 5
    # 21 slots needed for 20 doses: the last is the morning dose 10 days after the start.
    assert summary.projected_completion == date(2026, 3, 12)


def test_now_must_be_aware() -> None:
    with pytest.raises(TreatmentError):
        summarise(patient(), [], datetime(2026, 3, 3, 12))


def test_open_pause_leaves_the_completion_date_unknown() -> None:
    amira = patient(zone="UTC").with_pause(Pause(START + timedelta(days=10)))
    now = _noon(START + timedelta(days=12))
    summary = summarise(amira, events_until(amira, now), now)
    assert summary.projected_completion is None
    assert summary.window_can_be_met is None
    assert summary.doses_taken == 10


def test_switch_counts_the_new_regimen_from_its_first_dose_and_keeps_history() -> None:
    # Amira takes 30 days of 2HRZE/4HR, misses 2 of them, then is switched to BPaLM.
    switch_day = START + timedelta(days=30)
    amira = patient(zone="UTC").with_switch(RegimenSwitch(switch_day, "BPaLM"))
    now = _noon(switch_day + timedelta(days=9))
    missed = {START + timedelta(days=3), START + timedelta(days=4)}
    summary = summarise(amira, events_until(amira, now, missed), now)
    assert summary.regimen_id == "BPaLM"
    (treatment,) = summary.phases
    assert (treatment.doses_taken, treatment.doses_required) == (10, 26 * 7)
    # 26 weeks of daily BPaLM doses from the switch, none missed yet.
    assert summary.projected_completion == switch_day + timedelta(days=26 * 7 - 1)
    # Adherence covers the whole enrolment: 38 of 40 doses due were taken.
    assert summary.adherence_whole == pytest.approx(38 / 40)
    assert summary.complete_by == date(2026, 11, 1)


def test_weight_banded_or_prescribed_doses_are_explained() -> None:
    assert dose_notices(patient("3HP", weight_kg=None)) == (Reason.DOSE_AS_PRESCRIBED,)
    assert dose_notices(patient("2HRZE/4HR", weight_kg=60)) == ()
