"""The sealed dose of a slot, its timers, and the bridge from store events to treatment events.

A materialised slot's sealed ``dose`` JSON is a `DoseSnapshot` (read it with
`DoseSnapshot.of(slot)`, never by its keys), written by `dose_json`, and holds:

    {
      "key": "2026-03-02#0",              # the treatment plan's slot key
      "local": "2026-03-02T08:00:00+08:00",  # wall time on the patient's clock (ISO)
      "zone": "Asia/Shanghai",
      "regimen": "2HRZE/4HR", "phase": "intensive", "phase_kind": "intensive",
      "drugs": [{"name": "isoniazid", "mg": 300.0, "tablets": 1.0}],
      "timers": [{"step": "remind", "at": "...Z"}, {"step": "nudge", "at": ...},
                 {"step": "close", "at": ...}],   # UTC instants, time order
      "snoozes": 0
    }

The timers are the dose's ladder (see `scheduler.ladder`) computed when the slot was planned
with the patient's settings; the plaintext ``next_check_at`` column always equals the instant of
the next timer to run, so claiming due work needs no decryption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.ladder import Step, Timer
from storage.records import DoseEvent, DoseOutcome, DoseSlot, Patient, ReportedVia, SlotState
from storage.repositories.doses import DoseRepository
from treatment import events as treatment
from treatment.plan import DoseSlot as PlannedSlot
from treatment.plan import DrugDose
from treatment.stock import DoseTablets, tablets_by_product


@dataclass(frozen=True)
class DoseSnapshot:
    """What one materialised dose is: the plan's slot as it stood when planned, with its
    timers. `local` is the wall time on the patient's clock; `drugs` carry no dose step (the
    plan's concern, not the reminder's)."""

    key: str
    local: datetime
    zone: str
    regimen: str
    phase: str
    phase_kind: str
    drugs: tuple[DrugDose, ...]
    timers: tuple[Timer, ...]
    snoozes: int = 0

    @classmethod
    def planned(cls, slot: PlannedSlot, timers: Sequence[Timer]) -> DoseSnapshot:
        return cls(
            key=slot.key,
            local=slot.local,
            zone=slot.zone,
            regimen=slot.regimen_id,
            phase=slot.phase,
            phase_kind=slot.phase_kind.value,
            drugs=tuple(DrugDose(d.name, d.mg, d.tablets, combined=d.combined) for d in slot.drugs),
            timers=tuple(timers),
        )

    @classmethod
    def of(cls, slot: DoseSlot) -> DoseSnapshot:
        return cls.from_dict(slot.dose)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DoseSnapshot:
        return cls(
            key=str(data["key"]),
            local=datetime.fromisoformat(data["local"]),
            zone=str(data["zone"]),
            regimen=str(data["regimen"]),
            phase=str(data["phase"]),
            phase_kind=str(data["phase_kind"]),
            drugs=drugs_of(data),
            timers=tuple(timers_of(data)),
            snoozes=int(data.get("snoozes", 0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "local": self.local.isoformat(),
            "zone": self.zone,
            "regimen": self.regimen,
            "phase": self.phase,
            "phase_kind": self.phase_kind,
            "drugs": [
                {"name": d.name, "mg": d.mg, "tablets": d.tablets, "combined": d.combined}
                for d in self.drugs
            ],
            "timers": [{"step": t.step.value, "at": t.at.isoformat()} for t in self.timers],
            "snoozes": self.snoozes,
        }

    def snoozed(self, timers: Sequence[Timer]) -> DoseSnapshot:
        """After one more snooze, with the timers that remain."""
        return replace(self, timers=tuple(timers), snoozes=self.snoozes + 1)

    def tablets(self) -> dict[str, float]:
        """The tablets this dose uses, per product a patient buys (`treatment.stock`)."""
        return tablets_by_product(DoseTablets(d.name, d.tablets, d.combined) for d in self.drugs)


def dose_json(slot: PlannedSlot, timers: Sequence[Timer]) -> dict[str, Any]:
    """The sealed dose of a planned slot with its timers (see the module docstring)."""
    return DoseSnapshot.planned(slot, timers).to_dict()


def drugs_of(dose: Mapping[str, Any]) -> tuple[DrugDose, ...]:
    """The drugs stored in a slot's dose."""
    return tuple(
        DrugDose(d["name"], d.get("mg"), d.get("tablets"), combined=bool(d.get("combined")))
        for d in dose.get("drugs", ())
    )


def timers_of(dose: Mapping[str, Any]) -> list[Timer]:
    """The timers stored in a slot's dose, in time order."""
    return [
        Timer(Step(item["step"]), datetime.fromisoformat(item["at"])) for item in dose["timers"]
    ]


NOT_TAKEN_OUTCOMES = frozenset({DoseOutcome.MISSED, DoseOutcome.SKIPPED})
"""The outcomes `treatment_events` turns into `treatment.events.NOT_TAKEN_KINDS`, however the
dose was reported: planning asks the store for the slots whose latest answer is one of them."""


def _kind(event: DoseEvent) -> treatment.EventKind:
    if event.outcome is DoseOutcome.TAKEN:
        return treatment.EventKind.TAKEN
    if event.outcome is DoseOutcome.SKIPPED:
        return treatment.EventKind.SKIPPED_ON_ADVICE
    if event.via is ReportedVia.NO_REPLY:
        return treatment.EventKind.NO_REPLY
    return treatment.EventKind.MISSED


def treatment_events(
    slots: Iterable[DoseSlot], events: Iterable[DoseEvent]
) -> list[treatment.DoseEvent]:
    """Store events as the treatment domain's events, for `treatment.adherence.summarise`.

    1. Index `slots` by id; an event whose slot is not given (or has no plan key) is left out.
    2. Map outcomes: taken → TAKEN (at the time the patient reported, if any), skipped →
       SKIPPED_ON_ADVICE, missed with no reply → NO_REPLY, other missed → MISSED.
    3. Keep the store's order by ``recorded_at``: a later event for the same slot (a dose
       "taken late" after the window closed as no reply) replaces the earlier one there.
    """
    keys = {slot.id: slot.dose.get("key") for slot in slots}
    out: list[treatment.DoseEvent] = []
    for event in sorted(events, key=lambda e: (e.recorded_at, e.id)):
        key = keys.get(event.slot_id)
        if not isinstance(key, str):
            continue
        kind = _kind(event)
        at = event.reported_at if kind is treatment.EventKind.TAKEN else None
        out.append(treatment.DoseEvent(key, kind, at))
    return out


@dataclass(frozen=True)
class DayCount:
    """One local day of a patient's doses, as a helper may see it."""

    day: date
    taken: int
    missed: int
    open: int

    @property
    def due(self) -> int:
        return self.taken + self.missed + self.open


def count_days(slots: Iterable[DoseSlot], zone: str, days: Sequence[date]) -> list[DayCount]:
    """Doses per local day of `days` (in the patient's `zone`): taken, not taken (missed, no
    reply, "not today"), and still open or to come. Cancelled slots are not doses."""
    tz = ZoneInfo(zone)
    counts = {day: [0, 0, 0] for day in days}
    for slot in slots:
        day = slot.due_at.astimezone(tz).date()
        if day not in counts or slot.state is SlotState.CANCELLED:
            continue
        if slot.state is SlotState.TAKEN:
            counts[day][0] += 1
        elif slot.state in (SlotState.MISSED, SlotState.SKIPPED):
            counts[day][1] += 1
        else:
            counts[day][2] += 1
    return [DayCount(day, *counts[day]) for day in days]


async def day_counts(
    doses: DoseRepository, patient: Patient, days: Sequence[date]
) -> list[DayCount]:
    """`count_days` for local `days` (in order), reading only the slots those days span."""
    zone = ZoneInfo(patient.time_zone)
    start = datetime.combine(min(days), time.min, zone)
    end = datetime.combine(max(days) + timedelta(days=1), time.min, zone)
    slots = await doses.slots_between(patient.id, start, end)
    return count_days(slots, patient.time_zone, days)
