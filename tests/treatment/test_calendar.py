"""The adherence calendar: one mark a day, agreeing with the dose count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.treatment.dosing_fixtures import events_until, patient, twice_daily_patient
from treatment import calendar
from treatment.adherence import classify_plan, summarise
from treatment.calendar import Mark
from treatment.enrolment import Pause
from treatment.events import DoseEvent, EventKind
from treatment.triage import Level

START = date(2026, 3, 2)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _calendar(enrolment, events, now, **extra):  # type: ignore[no-untyped-def]
    summary = summarise(enrolment, events, now)
    slots = classify_plan(enrolment, events, now)
    return calendar.build(
        enrolment, slots, now, last_dose=summary.projected_completion, **extra
    ), summary


def test_each_kind_of_day_gets_its_mark() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=20))
    missed = {START + timedelta(days=3)}
    events = events_until(amira, now, missed)
    # Day 5 closed with no answer; day 7 taken, but reported after its window.
    no_reply = f"{(START + timedelta(days=5)).isoformat()}#0"
    late = f"{(START + timedelta(days=7)).isoformat()}#0"
    events = [e for e in events if e.key != no_reply] + [DoseEvent(no_reply, EventKind.NO_REPLY)]
    cal, summary = _calendar(amira, events, now, late={late})
    assert cal.day(START).mark is Mark.TAKEN
    assert cal.day(START + timedelta(days=3)).mark is Mark.MISSED
    assert cal.day(START + timedelta(days=5)).mark is Mark.NOT_RECORDED
    assert cal.day(START + timedelta(days=7)).mark is Mark.LATE
    assert cal.day(START + timedelta(days=21)).mark is Mark.TO_COME
    assert cal.day(START - timedelta(days=1)) is None
    assert cal.today == START + timedelta(days=20) and cal.day(cal.today).today
    # Two doses not taken: the last dose moves two days later, and the calendar ends there.
    assert summary.projected_completion == START + timedelta(days=183)
    assert cal.end == summary.projected_completion
    assert cal.day(cal.end).last_dose and cal.day(cal.end).mark is Mark.TO_COME


def test_phase_boundary_moves_with_a_missed_intensive_dose() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=20))
    cal, _ = _calendar(amira, events_until(amira, now, {START + timedelta(days=2)}), now)
    starts = {d.day: d.phase_starts for d in cal.days.values() if d.phase_starts}
    # clinical.md: 56 intensive doses; one missed pushes the continuation a day later.
    assert starts == {START: "intensive", START + timedelta(days=57): "continuation"}


def test_paused_days_are_paused_not_missed() -> None:
    amira = patient(zone="UTC").with_pause(
        Pause(START + timedelta(days=10), START + timedelta(days=12))
    )
    now = _noon(START + timedelta(days=20))
    cal, summary = _calendar(amira, events_until(amira, now), now)
    marks = [cal.day(START + timedelta(days=d)).mark for d in (9, 10, 11, 12, 13)]
    assert marks == [Mark.TAKEN, Mark.PAUSED, Mark.PAUSED, Mark.PAUSED, Mark.TAKEN]
    assert summary.projected_completion == START + timedelta(days=181 + 3)


def test_an_open_pause_is_paused_until_today_and_projects_no_end() -> None:
    amira = patient(zone="UTC").with_pause(Pause(START + timedelta(days=10)))
    now = _noon(START + timedelta(days=20))
    cal, summary = _calendar(amira, events_until(amira, now), now)
    assert summary.projected_completion is None and cal.last_dose is None
    assert cal.end == cal.today
    assert all(cal.day(START + timedelta(days=d)).mark is Mark.PAUSED for d in range(10, 21))


def test_weekly_regimen_has_days_without_a_dose() -> None:
    tpt = patient(regimen="3HP", zone="UTC")
    now = _noon(START + timedelta(days=15))
    cal, _ = _calendar(tpt, events_until(tpt, now), now)
    assert cal.day(START).mark is Mark.TAKEN
    assert cal.day(START + timedelta(days=1)).mark is Mark.NO_DOSE
    assert cal.day(START + timedelta(days=7)).mark is Mark.TAKEN
    # clinical.md: 12 weekly doses, the last 11 weeks after the first.
    assert cal.end == START + timedelta(weeks=11)


def test_a_day_with_one_dose_missed_of_two_is_missed() -> None:
    ana = twice_daily_patient()
    day = START + timedelta(days=2)
    now = datetime(2026, 3, 8, 12, tzinfo=UTC)
    events = [
        e if e.key != f"{day.isoformat()}#1" else DoseEvent(e.key, EventKind.MISSED)
        for e in events_until(ana, now)
    ]
    cal, _ = _calendar(ana, events, now)
    assert cal.day(day).mark is Mark.MISSED
    assert (cal.day(day).doses, cal.day(day).taken) == (2, 1)


def test_side_effects_mark_their_days() -> None:
    amira = patient(zone="UTC")
    now = _noon(START + timedelta(days=20))
    reported = {START + timedelta(days=4): Level.RED_FLAG}
    cal, _ = _calendar(amira, events_until(amira, now), now, side_effects=reported)
    assert cal.day(START + timedelta(days=4)).side_effect is Level.RED_FLAG
    assert cal.day(START + timedelta(days=5)).side_effect is None


def test_month_counts_and_adherence() -> None:
    amira = patient(zone="UTC")
    now = _noon(date(2026, 4, 10))
    missed = {date(2026, 3, 10), date(2026, 3, 11), date(2026, 4, 2)}
    cal, _ = _calendar(amira, events_until(amira, now, missed), now)
    march, april = cal.months_counted
    # 30 March days from the 2nd (31 - 1), two missed; 10 April days, one missed.
    assert (march.month, march.taken, march.missed) == (3, 28, 2)
    assert (april.month, april.taken, april.missed) == (4, 9, 1)
    assert april.adherence == 9 / 10
    assert cal.months()[:2] == [(2026, 3), (2026, 4)]


@settings(max_examples=40, deadline=None)
@given(
    missed_days=st.sets(st.integers(0, 60), max_size=15),
    elapsed=st.integers(0, 90),
    regimen=st.sampled_from(["2HRZE/4HR", "2HRZE/4HR-5d", "3HP", "BPaLM"]),
)
def test_calendar_counts_agree_with_the_dose_count(
    missed_days: set[int], elapsed: int, regimen: str
) -> None:
    enrolment = patient(regimen=regimen, zone="UTC")
    now = _noon(START + timedelta(days=elapsed))
    missed = {START + timedelta(days=d) for d in missed_days}
    events = events_until(enrolment, now, missed)
    cal, summary = _calendar(enrolment, events, now)
    taken_days = sum(d.taken for d in cal.days.values())
    assert taken_days == sum(m.taken for m in cal.months_counted)
    # Taken slots of the only regimen: the summary's count of every phase.
    assert taken_days == summary.doses_taken
    for entry in cal.days.values():
        if entry.day > cal.today or not entry.doses:
            continue
        assert (entry.mark is Mark.MISSED) == (entry.day in missed), entry
