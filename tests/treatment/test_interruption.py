"""Interruption rules of clinical.md (ATS/CDC/IDSA 2016 table 5; WHO loss to follow-up)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.treatment.dosing_fixtures import days, events_until, patient
from treatment.adherence import summarise
from treatment.codes import Reason, Severity
from treatment.enrolment import Enrolment, Pause

START = date(2026, 3, 2)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _codes(enrolment: Enrolment, missed: set[date], now_day: date) -> list[str]:
    now = _noon(now_day)
    return [
        s.code for s in summarise(enrolment, events_until(enrolment, now, missed), now).statuses
    ]


def test_adherent_patient_is_on_track() -> None:
    assert _codes(patient(zone="UTC"), set(), START + timedelta(days=20)) == [Reason.ON_TRACK]


def test_intensive_lapse_under_14_days_continues() -> None:
    missed = set(days(START + timedelta(days=10), 13))
    codes = _codes(patient(zone="UTC"), missed, START + timedelta(days=25))
    assert codes == [Reason.INTENSIVE_LAPSE_CONTINUE]


def test_intensive_lapse_of_14_days_is_an_interruption_for_the_clinician() -> None:
    missed = set(days(START + timedelta(days=10), 14))
    codes = _codes(patient(zone="UTC"), missed, START + timedelta(days=26))
    assert codes == [Reason.INTENSIVE_INTERRUPTION]


def test_paused_days_are_not_a_lapse() -> None:
    # 10 missed days, a 7-day pause, 3 more missed days: a 13-day lapse, not 20.
    enrolment = patient(zone="UTC").with_pause(
        Pause(START + timedelta(days=20), START + timedelta(days=26))
    )
    missed = set(days(START + timedelta(days=10), 10)) | set(days(START + timedelta(days=27), 3))
    codes = _codes(enrolment, missed, START + timedelta(days=35))
    assert codes == [Reason.INTENSIVE_LAPSE_CONTINUE]


def test_intensive_doses_that_cannot_fit_in_3_months_go_to_the_clinician() -> None:
    # 56 intensive doses must fit within 3 months of the start (2 June). Eight separate
    # 5-day lapses (40 missed doses) keep every lapse short but move the 56th dose taken
    # to 2 March + 55 + 40 days = 5 June.
    missed = {START + timedelta(days=3 + 8 * k + i) for k in range(8) for i in range(5)}
    codes = _codes(patient(zone="UTC"), missed, START + timedelta(days=66))
    assert codes[0] == Reason.INTENSIVE_WINDOW_CANNOT_BE_MET
    assert Reason.INTENSIVE_LAPSE_CONTINUE in codes


def test_intensive_doses_that_still_fit_in_3_months_continue() -> None:
    # Seven lapses (35 doses) put the 56th dose on 31 May, inside the window.
    missed = {START + timedelta(days=3 + 8 * k + i) for k in range(7) for i in range(5)}
    codes = _codes(patient(zone="UTC"), missed, START + timedelta(days=66))
    assert codes == [Reason.INTENSIVE_LAPSE_CONTINUE]


def test_ongoing_lapse_warns_early() -> None:
    missed = set(days(START + timedelta(days=10), 4))
    codes = _codes(patient(zone="UTC"), missed, START + timedelta(days=13))
    assert codes[0] == Reason.LAPSE_WARNING


def test_two_months_without_doses_is_lost_to_follow_up() -> None:
    # In the continuation phase (after 56 intensive doses), nothing taken for 60 days.
    first_missed = START + timedelta(days=70)
    now = _noon(first_missed + timedelta(days=60))
    enrolment = patient(zone="UTC")
    missed = set(days(first_missed, 61))
    summary = summarise(enrolment, events_until(enrolment, now, missed), now)
    assert summary.status.code == Reason.LOST_TO_FOLLOW_UP
    assert summary.status.severity is Severity.CLINICIAN


def test_fifty_nine_days_without_doses_is_not_yet_lost_to_follow_up() -> None:
    first_missed = START + timedelta(days=70)
    now = _noon(first_missed + timedelta(days=59))
    enrolment = patient(zone="UTC")
    missed = set(days(first_missed, 60))
    summary = summarise(enrolment, events_until(enrolment, now, missed), now)
    assert summary.status.code != Reason.LOST_TO_FOLLOW_UP
    assert Reason.LAPSE_WARNING in [s.code for s in summary.statuses]


def _continuation(taken_before_lapse: int, lapses: list[int], gap: int = 5) -> list[str]:
    """Statuses the morning after the last lapse ended, with one dose taken that morning.

    The intensive phase is fully taken; then `taken_before_lapse` continuation doses, then
    lapses of the given lengths, each followed by doses taken (`gap` days between lapses).
    Continuation doses taken: taken_before_lapse + gap * (len(lapses) - 1) + 1.
    """
    day = START + timedelta(days=56 + taken_before_lapse)
    missed: set[date] = set()
    for number, length in enumerate(lapses):
        missed |= set(days(day, length))
        day += timedelta(days=length + (gap if number < len(lapses) - 1 else 0))
    return _codes(patient(zone="UTC"), missed, day)


def test_continuation_lapse_after_80_percent_continues() -> None:
    # 80% of 126 continuation doses is 100.8: 101 doses taken is enough.
    codes = _continuation(100, [10])
    assert codes == [Reason.CONTINUATION_OVER_80_CONTINUE]


def test_continuation_lapse_just_under_80_percent_completes_all_doses() -> None:
    codes = _continuation(99, [10])
    assert codes == [Reason.CONTINUATION_COMPLETE_ALL_DOSES]


def test_continuation_single_lapse_over_2_months_goes_to_the_clinician() -> None:
    codes = _continuation(30, [61])
    assert codes[0] == Reason.CONTINUATION_LONG_LAPSE


def test_continuation_lapse_of_exactly_2_months_completes_all_doses() -> None:
    codes = _continuation(30, [60])
    assert codes == [Reason.CONTINUATION_COMPLETE_ALL_DOSES]


def test_continuation_lapses_adding_to_3_months_are_an_interruption() -> None:
    codes = _continuation(10, [45, 45])
    assert Reason.CONTINUATION_INTERRUPTION in codes
    assert Reason.CONTINUATION_LONG_LAPSE not in codes
    assert Reason.CONTINUATION_COMPLETE_ALL_DOSES not in codes


def test_continuation_lapses_under_3_months_complete_all_doses() -> None:
    codes = _continuation(10, [44, 45])
    assert Reason.CONTINUATION_COMPLETE_ALL_DOSES in codes
    assert Reason.CONTINUATION_INTERRUPTION not in codes


def test_no_rule_ever_tells_the_patient_to_restart() -> None:
    assert not [code for code in Reason if "restart" in code.value]
    clinical = [code for code in Reason if code.value.endswith("_talk_to_clinician")]
    assert Reason.INTENSIVE_INTERRUPTION in clinical
    assert Reason.CONTINUATION_INTERRUPTION in clinical
