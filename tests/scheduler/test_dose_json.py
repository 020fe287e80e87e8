"""The dose a planned slot stores is the snapshot's own stored form, for any regimen, band
and ladder: planning writes it directly (one per slot), every reader reads it as a
`DoseSnapshot`."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.doses import DoseSnapshot, dose_json
from scheduler.ladder import LadderSettings, ladder
from tests.scheduler.engine_support import plan
from treatment.enrolment import enrol
from treatment.plan import iter_slots

ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")


@settings(max_examples=60, deadline=None)
@given(
    regimen=st.sampled_from(["2HRZE/4HR", "custom"]),
    zone=st.sampled_from(ZONES),
    weight=st.sampled_from([None, 38.0, 52.0, 71.0]),
    skip=st.integers(0, 40),
    nudges=st.lists(st.integers(5, 300), max_size=3).map(
        lambda minutes: tuple(timedelta(minutes=m) for m in minutes)
    ),
)
def test_a_planned_dose_is_stored_as_its_snapshot(
    regimen: str, zone: str, weight: float | None, skip: int, nudges: tuple[timedelta, ...]
) -> None:
    start = date(2026, 3, 1)
    if regimen == "custom":
        enrolment = plan(zone, ("08:00", "20:00"), start)
    else:
        enrolment = enrol(
            regimen=regimen, start=start, times=["07:30"], zone=zone, today=start, weight_kg=weight
        )
    slots = iter(iter_slots(enrolment))
    for _ in range(skip):
        next(slots)
    slot, after = next(slots), next(slots)
    timers = ladder(slot.utc, after.utc, slot.zone, LadderSettings(nudges, timedelta(hours=6)))
    stored = dose_json(slot, timers)
    assert stored == DoseSnapshot.planned(slot, timers).to_dict()
    assert DoseSnapshot.from_dict(stored) == DoseSnapshot.planned(slot, timers)
