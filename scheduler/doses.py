"""The sealed dose of a slot, its timers, and the bridge from store events to treatment events.

A materialised slot's sealed ``dose`` JSON is a `DoseSnapshot` (read it with
`DoseSnapshot.of(slot)`, never by its keys), written by `dose_json`, and holds:

    {
      "key": "2026-03-02#0",              # the treatment plan's slot key
      "local": "2026-03-02T08:00:00+08:00",  # wall time on the patient's clock (ISO)
      "zone": "Asia/Shanghai",
      "regimen": "2HRZE/4HR", "phase": "intensive", "phase_kind": "intensive",
      "drugs": [{"name": "isoniazid", "mg": 300.0, "tablets": 4.0, "combined": true}, ...],
      "products": [{"name": "HRZE", "tablets": 4.0, "mg": null,   # what is in the hand:
                    "contains": [["isoniazid", 75.0], ...]}],     # one tablet holds this
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
from treatment.catalogue import ABBREVIATIONS
from treatment.doses import DrugDose, ProductDose
from treatment.plan import DoseSlot as PlannedSlot
from treatment.stock import tablets_by_product


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
    products: tuple[ProductDose, ...] | None = None
    """What is in the hand, one entry per kind of tablet; None for a dose stored before
    products were (its drugs then say it, as they did)."""

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
            products=slot.products,
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
            snoozes=snoozes_of(data),
            products=products_of(data),
        )

    def to_dict(self) -> dict[str, Any]:
        return _dose_dict(
            key=self.key,
            local=self.local,
            zone=self.zone,
            regimen=self.regimen,
            phase=self.phase,
            phase_kind=self.phase_kind,
            drugs=self.drugs,
            timers=self.timers,
            snoozes=self.snoozes,
            products=self.products,
        )

    def snoozed(self, timers: Sequence[Timer]) -> DoseSnapshot:
        """After one more snooze, with the timers that remain."""
        return replace(self, timers=tuple(timers), snoozes=self.snoozes + 1)

    def tablets(self) -> dict[str, float]:
        """The tablets this dose uses, per product a patient buys (`treatment.stock`).

        A dose stored before products were has only its drugs: a combination's drugs are then
        one product named by their letters, as it was counted then."""
        if self.products is not None:
            return tablets_by_product((p.name, p.tablets) for p in self.products)
        combined = [d for d in self.drugs if d.combined and d.tablets is not None]
        pairs = [(d.name, d.tablets) for d in self.drugs if not d.combined]
        if combined:
            name = "".join(ABBREVIATIONS.get(d.name, d.name[:1].upper()) for d in combined)
            pairs.insert(0, (name, max(d.tablets or 0.0 for d in combined)))
        return tablets_by_product(pairs)


def dose_json(slot: PlannedSlot, timers: Sequence[Timer]) -> dict[str, Any]:
    """The sealed dose of a planned slot with its timers (see the module docstring): the
    same as ``DoseSnapshot.planned(slot, timers).to_dict()``, without the snapshot in
    between (planning writes one per slot)."""
    return _dose_dict(
        key=slot.key,
        local=slot.local,
        zone=slot.zone,
        regimen=slot.regimen_id,
        phase=slot.phase,
        phase_kind=str(slot.phase_kind),
        drugs=slot.drugs,
        timers=timers,
        snoozes=0,
        products=slot.products,
    )


def _dose_dict(
    *,
    key: str,
    local: datetime,
    zone: str,
    regimen: str,
    phase: str,
    phase_kind: str,
    drugs: Iterable[DrugDose],
    timers: Iterable[Timer],
    snoozes: int,
    products: Iterable[ProductDose] | None,
) -> dict[str, Any]:
    """The one writer of the stored form. A drug's dose step is the plan's concern and is
    not stored."""
    dose: dict[str, Any] = {
        "key": key,
        "local": local.isoformat(),
        "zone": zone,
        "regimen": regimen,
        "phase": phase,
        "phase_kind": phase_kind,
        "drugs": [
            {"name": d.name, "mg": d.mg, "tablets": d.tablets, "combined": d.combined}
            for d in drugs
        ],
        # str() of a StrEnum is its value, without the `value` property's Python call.
        "timers": [{"step": str(t.step), "at": t.at.isoformat()} for t in timers],
        "snoozes": snoozes,
    }
    if products is not None:
        dose["products"] = [
            {
                "name": p.name,
                "tablets": p.tablets,
                "contains": [[drug, mg] for drug, mg in p.contains],
                "mg": p.mg,
            }
            for p in products
        ]
    return dose


def drugs_of(dose: Mapping[str, Any]) -> tuple[DrugDose, ...]:
    """The drugs stored in a slot's dose."""
    return tuple(
        DrugDose(d["name"], d.get("mg"), d.get("tablets"), combined=bool(d.get("combined")))
        for d in dose.get("drugs", ())
    )


def products_of(dose: Mapping[str, Any]) -> tuple[ProductDose, ...] | None:
    """The products stored in a slot's dose; None when it was stored before products were."""
    if "products" not in dose:
        return None
    return tuple(
        ProductDose(
            str(p["name"]),
            p.get("tablets"),
            tuple((str(drug), mg) for drug, mg in p.get("contains", [])),
            p.get("mg"),
        )
        for p in dose["products"]
    )


def snoozes_of(dose: Mapping[str, Any]) -> int:
    """How many times the stored dose was snoozed."""
    return int(dose.get("snoozes", 0))


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


SET_UP_NOTE = "set-up"
"""The note on doses counted as taken at set-up (due before the patient enrolled)."""


def late_keys(slots: Iterable[DoseSlot], events: Iterable[DoseEvent]) -> set[str]:
    """Plan keys of the slots whose standing answer is "taken", reported after the dose's
    window had closed (a `/late` report), for `treatment.calendar.build`.

    Doses counted at set-up are not late: nobody was asked about them in time.
    """
    by_id = {slot.id: slot for slot in slots}
    standing: dict[str, DoseEvent] = {}
    for event in sorted(events, key=lambda e: (e.recorded_at, e.id)):
        standing[event.slot_id] = event
    keys = set()
    for slot_id, event in standing.items():
        slot = by_id.get(slot_id)
        key = slot.dose.get("key") if slot is not None else None
        if (
            slot is None
            or not isinstance(key, str)
            or event.outcome is not DoseOutcome.TAKEN
            or event.note == SET_UP_NOTE
            or event.reported_at is None
        ):
            continue
        if event.reported_at > slot.window_ends_at:
            keys.add(key)
    return keys


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
