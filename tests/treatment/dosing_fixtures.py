"""Shared builders for the treatment tests: named patients, events, clocks.

Expected numbers in the tests come from the tables of clinical.md (copied here by hand), not
from the regimen files, so a wrong file fails a test instead of agreeing with itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from treatment.catalogue import custom_regimen
from treatment.enrolment import Enrolment, enrol
from treatment.events import DoseEvent, EventKind
from treatment.plan import DoseSlot, iter_slots

# clinical.md, regimens table: doses per phase (7 days/week unless the id says otherwise).
CLINICAL_DOSES: dict[str, tuple[int, ...]] = {
    "2HRZE/4HR": (56, 126),
    "2HRZE/4HR-5d": (40, 90),
    "2HRZE/7HR": (56, 31 * 7),
    "2HPMZ/2HPM": (56, 63),
    "2HRZ(E)/2HR": (56, 56),
    "BPaLM": (26 * 7,),
    "3HP": (12,),
    "1HP": (28,),
    "3HR": (90,),
    "4R": (120,),
    "6H": (180,),
    "9H": (270,),
    # The drug-resistant rows of docs/regimens.md (WHO 2022 Module 4), copied by hand.
    "BPaL": (26 * 7,),
    "9m-all-oral": (16 * 7, 8 * 7, 12 * 7),
    "9m-all-oral-Lzd": (16 * 7, 8 * 7, 12 * 7),
    "6REZ-Lfx": (26 * 7,),
}

TODAY = date(2026, 3, 1)


def patient(
    regimen: str = "2HRZE/4HR",
    start: date = date(2026, 3, 2),
    times: Iterable[str] = ("08:00",),
    zone: str = "Europe/Berlin",
    weight_kg: float | None = 60,
) -> Enrolment:
    return enrol(
        regimen=regimen,
        start=start,
        times=list(times),
        zone=zone,
        today=TODAY,
        weight_kg=weight_kg,
    )


def twice_daily_custom(doses: int = 540) -> dict[str, Any]:
    return {
        "id": "custom-twice-daily",
        "name": "Twice daily for 9 months",
        "doses_per_day": 2,
        "phases": [
            {
                "name": "treatment",
                "doses_required": doses,
                "drugs": [{"name": "drug-a", "mg": 250, "tablets": 1}],
            }
        ],
    }


def twice_daily_patient(doses: int = 540) -> Enrolment:
    return enrol(
        regimen=custom_regimen(twice_daily_custom(doses)),
        start=date(2026, 3, 2),
        times=["08:00", "20:00"],
        zone="America/Sao_Paulo",
        today=TODAY,
    )


def taken(slots: Iterable[DoseSlot], late: timedelta = timedelta(0)) -> list[DoseEvent]:
    return [DoseEvent(s.key, EventKind.TAKEN, s.utc + late) for s in slots]


def events_until(
    enrolment: Enrolment,
    now: datetime,
    missed: Collection[date] = frozenset(),
    kind: EventKind = EventKind.MISSED,
) -> list[DoseEvent]:
    """Every slot due before `now` answered: taken, except those on `missed` dates."""
    events = []
    not_taken = {f"{d.isoformat()}#{i}" for d in missed for i in range(len(enrolment.times))}
    for slot in iter_slots(enrolment, not_taken=not_taken):
        if slot.utc > now:
            break
        if slot.local_date in missed:
            events.append(DoseEvent(slot.key, kind))
        else:
            events.append(DoseEvent(slot.key, EventKind.TAKEN, slot.utc))
    return events


def at(day: date, hour: int = 12, zone: str = "UTC") -> datetime:
    moment = datetime.combine(day, time(hour), tzinfo=UTC)
    return moment if zone == "UTC" else moment.astimezone(UTC)


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]
