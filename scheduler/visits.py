"""Visit and test reminders: the day before and on the morning of a clinic visit or a test.

A visit is a local wall time in the zone the patient was in when they noted it; its reminders
are wall times too (18:00 the day before, 07:00 on the day, or an hour before a visit earlier
than 08:00), turned into instants only when they are planned, so a change of clocks between
now and then moves them with the clock. Each appointment row holds the instant of its next
reminder, the engine's timer; when it comes, `VisitTimers.run_due` queues the reminder and
moves the timer to the next one in one transaction (the outbox's dedupe key makes a second
worker's attempt a no-op). The words come through the `VisitWords` port, as a dose reminder's
come through `scheduler.compose.Composer`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from scheduler.outbox import Kind, Payload
from storage.records import PATIENT, OutboxMessage, Patient
from storage.repositories.appointments import Appointment
from storage.store import Store
from treatment.plan_days import wall_instant

log = logging.getLogger(__name__)

EVENING_BEFORE = time(18, 0)
MORNING = time(7, 0)
EARLY_VISIT = time(8, 0)
"""A visit before this hour is reminded an hour before instead of at `MORNING`."""


class VisitKind(StrEnum):
    CLINIC = "clinic"
    SPUTUM = "sputum"
    BLOOD = "blood"
    ECG = "ecg"


class Step(StrEnum):
    DAY_BEFORE = "day_before"
    MORNING = "morning"


@dataclass(frozen=True, slots=True)
class Visit:
    """What is sealed in an appointment row: the kind, the local wall time and its zone."""

    kind: VisitKind
    local: datetime
    """Naive: the wall time on the patient's clock."""
    zone: str

    @property
    def at(self) -> datetime:
        """The visit's instant (a wall time skipped by a change of clocks: just after it)."""
        return _instant(self.local, ZoneInfo(self.zone))

    def reminders(self) -> list[tuple[Step, datetime]]:
        """Both reminders as (step, UTC instant), in order."""
        zone = ZoneInfo(self.zone)
        day: date = self.local.date()
        evening = _instant(datetime.combine(day - timedelta(days=1), EVENING_BEFORE), zone)
        if self.local.time() >= EARLY_VISIT:
            morning = _instant(datetime.combine(day, MORNING), zone)
        else:
            morning = self.at - timedelta(hours=1)
        return [(Step.DAY_BEFORE, evening), (Step.MORNING, morning)]

    def next_reminder(self, after: datetime) -> tuple[Step, datetime] | None:
        """The first reminder strictly after `after` and before the visit, if any."""
        return next(
            ((step, at) for step, at in self.reminders() if after < at < self.at),
            None,
        )

    def to_details(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "local": self.local.isoformat(), "zone": self.zone}

    @classmethod
    def of(cls, details: Mapping[str, Any]) -> Visit:
        return cls(
            VisitKind(str(details["kind"])),
            datetime.fromisoformat(str(details["local"])),
            str(details["zone"]),
        )


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall time in `zone` as a UTC instant, read as a dose time is: an ambiguous one
    (clocks going back) is its first occurrence, one in a gap (clocks going forward) the end of
    the gap."""
    return wall_instant(local.date(), local.time(), zone)[0]


class VisitWords(Protocol):
    def visit_reminder(self, patient: Patient, visit: Visit, step: Step) -> Payload:
        """The reminder of `visit` at `step`, in the patient's language; in discreet wording
        when the patient chose it, and always in the payload's brief form (SMS)."""
        ...


@dataclass(frozen=True)
class VisitTimers:
    store: Store
    words: VisitWords
    batch_size: int = 100

    async def next_due(self) -> datetime | None:
        return await self.store.appointments.next_due()

    async def run_due(self, now: datetime) -> int:
        """Queue the reminders whose instant has come; the number queued.

        1. Claim a batch of appointments whose timer has come.
        2. For each: the reminder of that step, unless it is already past the visit (the
           engine was down): then nothing is sent for it.
        3. Move the timer to the next reminder after now (None when there is none), on the
           condition that nobody moved it meanwhile, with the outbox row, in one transaction.
        """
        queued = 0
        async with self.store.transaction() as tx:
            for found in await tx.appointments.due(now, self.batch_size):
                claimed = found.due_at
                if claimed is None:
                    continue
                visit = Visit.of(found.details)
                step = _step_at(visit, claimed)
                later = visit.next_reminder(max(now, claimed))
                if not await tx.appointments.advance(found.id, claimed, later and later[1]):
                    continue
                if step is None or visit.at <= now:
                    continue
                patient = await tx.patients.get(found.patient_id)
                payload = self.words.visit_reminder(patient, visit, step)
                entry = await tx.outbox.enqueue(_message(found, step, payload, now, visit.at))
                queued += entry is not None
        return queued


def _step_at(visit: Visit, at: datetime) -> Step | None:
    return next((step for step, when in visit.reminders() if when == at), None)


def first_reminder(visit: Visit, now: datetime) -> datetime | None:
    """The timer of a visit noted `now`: its first reminder still to come."""
    upcoming = visit.next_reminder(now)
    return None if upcoming is None else upcoming[1]


def _message(
    found: Appointment, step: Step, payload: Payload, now: datetime, until: datetime
) -> OutboxMessage:
    return OutboxMessage(
        patient_id=found.patient_id,
        recipient=PATIENT,
        kind=Kind.NOTICE.value,
        payload=payload.to_dict(),
        dedupe_key=f"visit:{found.id}:{step.value}",
        not_before=now,
        priority=int(Kind.NOTICE.priority),
        expires_at=until,
    )
