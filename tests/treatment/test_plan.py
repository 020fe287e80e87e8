"""The dose plan: regimens from clinical.md laid out in time, DST, travel, pauses, switches."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.treatment.dosing_fixtures import TODAY, patient, twice_daily_custom
from treatment.catalogue import custom_regimen
from treatment.enrolment import Pause, RegimenSwitch, ZoneChange, enrol
from treatment.plan import iter_slots, slots_between


def test_standard_regimen_fully_adherent_is_56_plus_126_doses() -> None:
    slots = list(iter_slots(patient("2HRZE/4HR")))
    phases = Counter(slot.phase for slot in slots)
    assert phases == {"intensive": 56, "continuation": 126}
    # 182 daily doses from 2 March: the last is 181 days later.
    assert slots[-1].local_date == date(2026, 3, 2) + timedelta(days=181)


def test_intensive_drugs_stop_when_the_continuation_begins() -> None:
    slots = list(iter_slots(patient("2HRZE/4HR")))
    assert {d.name for d in slots[55].drugs} == {
        "isoniazid",
        "rifampicin",
        "pyrazinamide",
        "ethambutol",
    }
    assert {d.name for d in slots[56].drugs} == {"isoniazid", "rifampicin"}


def test_five_day_regimen_has_no_weekend_doses() -> None:
    slots = list(iter_slots(patient("2HRZE/4HR-5d")))
    assert len(slots) == 40 + 90
    assert all(slot.local_date.weekday() < 5 for slot in slots)
    # 130 weekday doses from Monday 2 March are 26 whole weeks: the last is a Friday.
    assert slots[-1].local_date == date(2026, 3, 2) + timedelta(weeks=25, days=4)


def test_3hp_is_twelve_weekly_doses_on_the_starting_weekday() -> None:
    start = date(2026, 3, 4)  # a Wednesday
    slots = list(iter_slots(patient("3HP", start=start)))
    assert [slot.local_date for slot in slots] == [start + timedelta(weeks=w) for w in range(12)]


def test_bpalm_bedaquiline_loads_daily_for_two_weeks_then_three_times_weekly() -> None:
    start = date(2026, 3, 4)  # a Wednesday
    slots = list(iter_slots(patient("BPaLM", start=start, weight_kg=None)))
    assert len(slots) == 26 * 7
    bedaquiline = [
        (slot, dose) for slot in slots for dose in slot.drugs if dose.name == "bedaquiline"
    ]
    loading = [(s, d) for s, d in bedaquiline if s.local_date < start + timedelta(days=14)]
    maintenance = [(s, d) for s, d in bedaquiline if s.local_date >= start + timedelta(days=14)]
    assert len(loading) == 14 and all(d.mg == 400 and d.tablets == 4 for _, d in loading)
    assert all(d.mg == 200 and d.tablets == 2 for _, d in maintenance)
    assert {s.local_date.weekday() for s, _ in maintenance} == {0, 2, 4}
    gaps = [b.utc - a.utc for (a, _), (b, _) in itertools.pairwise(maintenance)]
    assert min(gaps) >= timedelta(hours=48)
    # 24 weeks of Mon/Wed/Fri after the 2 loading weeks.
    assert len(maintenance) == 24 * 3
    # The companion drugs are daily throughout.
    assert all(
        {"pretomanid", "linezolid", "moxifloxacin"} <= {d.name for d in s.drugs} for s in slots
    )


def test_missed_loading_dose_of_bedaquiline_is_not_made_up() -> None:
    start = date(2026, 3, 4)
    enrolment = patient("BPaLM", start=start, weight_kg=None)
    slots = list(iter_slots(enrolment, not_taken={f"{start + timedelta(days=2)}#0"}))
    loading = [s for s in slots for d in s.drugs if d.name == "bedaquiline" and d.mg == 400]
    assert len(loading) == 14
    assert loading[-1].local_date == start + timedelta(days=13)
    # The missed day itself is made up at the end for the daily drugs.
    assert len(slots) == 26 * 7 + 1


def test_twice_daily_custom_regimen_has_two_slots_a_day() -> None:
    enrolment = enrol(
        regimen=custom_regimen(twice_daily_custom(10)),
        start=date(2026, 3, 2),
        times=["20:00", "08:00"],
        zone="Asia/Kolkata",
        today=TODAY,
    )
    slots = list(iter_slots(enrolment))
    assert [s.key for s in slots[:3]] == ["2026-03-02#0", "2026-03-02#1", "2026-03-03#0"]
    assert [s.local.time() for s in slots[:2]] == [time(8), time(20)]
    assert slots[0].utc == datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    assert len(slots) == 10


def test_dose_in_the_skipped_hour_happens_once_at_the_next_valid_time() -> None:
    # Europe/Berlin skips 02:00-03:00 on Sunday 29 March 2026.
    enrolment = patient(start=date(2026, 3, 27), times=["02:30"])
    slots = {s.local_date: s for s in iter_slots(enrolment) if s.local_date < date(2026, 4, 1)}
    assert len(slots) == 5
    moved = slots[date(2026, 3, 29)]
    assert moved.utc == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert moved.local.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)
    assert slots[date(2026, 3, 30)].local.time() == time(2, 30)


def test_dose_in_the_repeated_hour_is_given_once_at_its_first_occurrence() -> None:
    # Europe/Berlin repeats 02:00-03:00 on Sunday 25 October 2026.
    enrolment = patient(start=date(2026, 10, 23), times=["02:30"])
    slots = [s for s in iter_slots(enrolment) if s.local_date <= date(2026, 10, 27)]
    assert [s.local_date.day for s in slots] == [23, 24, 25, 26, 27]
    assert slots[2].utc == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert slots[3].utc - slots[2].utc == timedelta(hours=25)


def test_zone_change_moves_dose_times_to_the_new_zone() -> None:
    enrolment = patient(times=["08:00"], zone="Europe/London").with_zone_change(
        ZoneChange(date(2026, 3, 10), "Asia/Seoul")
    )
    slots = {s.local_date: s for s in iter_slots(enrolment)}
    assert slots[date(2026, 3, 9)].utc == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert slots[date(2026, 3, 10)].local == datetime(
        2026, 3, 10, 8, 0, tzinfo=ZoneInfo("Asia/Seoul")
    )
    assert slots[date(2026, 3, 10)].zone == "Asia/Seoul"
    assert len(slots) == 182


def test_crossing_the_date_line_eastwards_gives_no_dose_out_of_order() -> None:
    # Pago Pago is UTC-11, Kiritimati UTC+14: 08:00 on 10 March in Kiritimati comes 1 hour
    # before 08:00 on 9 March in Pago Pago, so that dose would go back in time.
    enrolment = patient(times=["08:00"], zone="Pacific/Pago_Pago").with_zone_change(
        ZoneChange(date(2026, 3, 10), "Pacific/Kiritimati")
    )
    slots = list(iter_slots(enrolment))
    assert all(a.utc < b.utc for a, b in itertools.pairwise(slots))
    dates = [s.local_date for s in slots]
    assert date(2026, 3, 9) in dates and date(2026, 3, 10) not in dates
    assert len(slots) == 182


def test_paused_days_have_no_slots_and_push_the_end_later() -> None:
    plain = list(iter_slots(patient()))
    paused = list(iter_slots(patient().with_pause(Pause(date(2026, 4, 1), date(2026, 4, 7)))))
    assert not [s for s in paused if date(2026, 4, 1) <= s.local_date <= date(2026, 4, 7)]
    assert len(paused) == len(plain)
    assert paused[-1].local_date == plain[-1].local_date + timedelta(days=7)


def test_open_pause_stops_the_plan() -> None:
    slots = list(iter_slots(patient().with_pause(Pause(date(2026, 4, 1)))))
    assert slots[-1].local_date == date(2026, 3, 31)


def test_switch_keeps_history_and_starts_the_new_regimen_from_its_first_dose() -> None:
    switched = patient().with_switch(RegimenSwitch(date(2026, 4, 1), "BPaLM"))
    slots = list(iter_slots(switched))
    before = [s for s in slots if s.local_date < date(2026, 4, 1)]
    after = [s for s in slots if s.local_date >= date(2026, 4, 1)]
    assert {s.regimen_id for s in before} == {"2HRZE/4HR"} and len(before) == 30
    assert {s.regimen_id for s in after} == {"BPaLM"} and len(after) == 182
    first = {d.name: d.mg for d in after[0].drugs}
    assert first["bedaquiline"] == 400


def test_slots_between_returns_only_the_range() -> None:
    start = datetime(2026, 4, 1, tzinfo=UTC)
    end = datetime(2026, 4, 4, tzinfo=UTC)
    slots = list(slots_between(patient(), start, end))
    assert [s.local_date.day for s in slots] == [1, 2, 3]


def test_two_dose_times_in_one_skipped_hour_give_a_single_dose() -> None:
    enrolment = enrol(
        regimen=custom_regimen(twice_daily_custom(10)),
        start=date(2026, 3, 28),
        times=["02:15", "02:45"],
        zone="Europe/Berlin",
        today=TODAY,
    )
    slots = list(iter_slots(enrolment))
    on_the_day = [s for s in slots if s.local_date == date(2026, 3, 29)]
    assert len(on_the_day) == 1
    assert on_the_day[0].utc == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # Doses are counted, so the course still has all 10 and ends one slot later:
    # 2 (28th) + 1 (29th) + 2 + 2 + 2 (30th to 1 April) = 9, the 10th on 2 April.
    assert len(slots) == 10
    assert slots[-1].key == "2026-04-02#0"
