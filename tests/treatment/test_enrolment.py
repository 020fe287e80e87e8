"""Enrolment: validation before anything exists, and the stored dict format."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any

import pytest

from tests.treatment.dosing_fixtures import TODAY, patient, twice_daily_custom
from treatment.catalogue import custom_regimen
from treatment.codes import ErrorCode
from treatment.enrolment import Enrolment, Pause, RegimenSwitch, ZoneChange, enrol
from treatment.errors import TreatmentError


def _enrol(**changes: Any) -> Enrolment:
    arguments: dict[str, Any] = {
        "regimen": "2HRZE/4HR",
        "start": date(2026, 3, 2),
        "times": ["08:00"],
        "zone": "Europe/Berlin",
        "today": TODAY,
        "weight_kg": 60,
    }
    arguments.update(changes)
    return enrol(**arguments)


@pytest.mark.parametrize(
    ("changes", "code", "allowed"),
    [
        ({"regimen": "2HRZE/5HR"}, ErrorCode.UNKNOWN_REGIMEN, "2HRZE/4HR"),
        ({"times": ["25:00"]}, ErrorCode.INVALID_TIME, "00:00 to 23:59"),
        ({"times": ["8h"]}, ErrorCode.INVALID_TIME, "HH:MM"),
        ({"times": ["08:00", "20:00"]}, ErrorCode.WRONG_NUMBER_OF_TIMES, "exactly 1"),
        ({"zone": "Mars/Olympus"}, ErrorCode.UNKNOWN_TIME_ZONE, "IANA"),
        ({"zone": "../../etc/passwd"}, ErrorCode.UNKNOWN_TIME_ZONE, "IANA"),
        ({"weight_kg": 251}, ErrorCode.WEIGHT_OUT_OF_RANGE, "3 to 250 kg"),
        ({"weight_kg": 2}, ErrorCode.WEIGHT_OUT_OF_RANGE, "3 to 250 kg"),
        ({"start": date(2027, 3, 2)}, ErrorCode.START_TOO_FAR, "2027-03-01"),
        ({"start": date(2025, 2, 28)}, ErrorCode.START_TOO_FAR, "2025-03-01"),
        ({"band_table": "nope"}, ErrorCode.UNKNOWN_BAND_TABLE, "india-ntep"),
    ],
)
def test_bad_input_says_what_is_wrong_and_what_is_allowed(
    changes: dict[str, Any], code: ErrorCode, allowed: str
) -> None:
    with pytest.raises(TreatmentError) as caught:
        _enrol(**changes)
    assert caught.value.code == code
    assert "allowed" in caught.value.message
    assert allowed in caught.value.message


def test_start_exactly_a_year_ahead_is_accepted() -> None:
    assert _enrol(start=date(2027, 3, 1)).start == date(2027, 3, 1)


def test_times_are_stored_ascending() -> None:
    enrolment = enrol(
        regimen=custom_regimen(twice_daily_custom()),
        start=date(2026, 3, 2),
        times=["20:00", "08:00"],
        zone="UTC",
        today=TODAY,
    )
    assert enrolment.times == (time(8), time(20))


def test_a_time_given_twice_is_refused() -> None:
    with pytest.raises(TreatmentError) as caught:
        enrol(
            regimen=custom_regimen(twice_daily_custom()),
            start=date(2026, 3, 2),
            times=["08:00", "08:00"],
            zone="UTC",
            today=TODAY,
        )
    assert caught.value.code == ErrorCode.DUPLICATE_TIME


def _full() -> Enrolment:
    base = patient()
    return Enrolment(
        regimen_id=base.regimen_id,
        start=base.start,
        times=base.times,
        zone=base.zone,
        weight_kg=61.5,
        band_table="india-ntep",
        pauses=(Pause(date(2026, 4, 1), date(2026, 4, 3)), Pause(date(2026, 6, 1))),
        zone_changes=(ZoneChange(date(2026, 5, 1), "Asia/Seoul"),),
        switches=(
            RegimenSwitch(date(2026, 5, 10), "BPaLM"),
            RegimenSwitch(
                date(2026, 5, 20),
                "custom-twice-daily",
                custom_regimen(twice_daily_custom()),
                (time(7), time(19)),
            ),
        ),
    )


def test_to_dict_is_plain_json_and_reads_back_equal() -> None:
    enrolment = _full()
    stored = json.loads(json.dumps(enrolment.to_dict()))
    assert Enrolment.from_dict(stored) == enrolment


def test_stored_format_is_the_documented_one() -> None:
    stored = _full().to_dict()
    assert stored["version"] == 1
    assert stored["regimen"] == "2HRZE/4HR"
    assert stored["start"] == "2026-03-02"
    assert stored["times"] == ["08:00"]
    assert stored["pauses"] == [
        {"start": "2026-04-01", "end": "2026-04-03"},
        {"start": "2026-06-01", "end": None},
    ]
    assert stored["zone_changes"] == [{"effective": "2026-05-01", "zone": "Asia/Seoul"}]
    assert stored["switches"][0] == {
        "effective": "2026-05-10",
        "regimen": "BPaLM",
        "custom_regimen": None,
        "times": None,
    }
    assert stored["switches"][1]["times"] == ["07:00", "19:00"]
    assert stored["switches"][1]["custom_regimen"]["doses_per_day"] == 2


def test_stored_enrolment_with_a_bad_zone_change_is_refused_whole() -> None:
    stored = patient().to_dict()
    stored["zone_changes"] = [{"effective": "2026-05-01", "zone": "Nowhere/City"}]
    with pytest.raises(TreatmentError) as caught:
        Enrolment.from_dict(stored)
    assert caught.value.code == ErrorCode.UNKNOWN_TIME_ZONE


def test_stored_enrolment_of_another_version_is_refused() -> None:
    stored = patient().to_dict()
    stored["version"] = 2
    with pytest.raises(TreatmentError) as caught:
        Enrolment.from_dict(stored)
    assert caught.value.code == ErrorCode.INVALID_ENROLMENT


def test_malformed_stored_enrolment_is_a_typed_error() -> None:
    stored = patient().to_dict()
    stored["pauses"] = [{"start": 5}]
    with pytest.raises(TreatmentError):
        Enrolment.from_dict(stored)


def test_switch_to_a_regimen_with_more_daily_doses_needs_new_times() -> None:
    enrolment = patient()
    switch = RegimenSwitch(
        date(2026, 5, 1), "custom-twice-daily", custom_regimen(twice_daily_custom())
    )
    with pytest.raises(TreatmentError) as caught:
        enrolment.with_switch(switch)
    assert caught.value.code == ErrorCode.WRONG_NUMBER_OF_TIMES


@pytest.mark.parametrize(
    "pauses",
    [
        (Pause(date(2026, 3, 1), date(2026, 3, 3)),),
        (Pause(date(2026, 3, 5), date(2026, 3, 4)),),
        (Pause(date(2026, 3, 5), date(2026, 3, 9)), Pause(date(2026, 3, 9), date(2026, 3, 10))),
        (Pause(date(2026, 3, 5)), Pause(date(2026, 4, 9), date(2026, 4, 10))),
    ],
)
def test_overlapping_or_misplaced_pauses_are_refused(pauses: tuple[Pause, ...]) -> None:
    enrolment = patient()
    with pytest.raises(TreatmentError) as caught:
        for pause in pauses:
            enrolment = enrolment.with_pause(pause)
    assert caught.value.code == ErrorCode.INVALID_PAUSE


def test_zone_change_before_the_start_is_refused() -> None:
    with pytest.raises(TreatmentError) as caught:
        patient().with_zone_change(ZoneChange(date(2026, 3, 2), "Asia/Seoul"))
    assert caught.value.code == ErrorCode.INVALID_ZONE_CHANGE
