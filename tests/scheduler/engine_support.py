"""What the engine tests share: a plain composer, named patients, and time travel.

The composer is the test double of the `Composer` port: its text says which dose and which
step, so a test (or the fake Bot API's transcript) can tell reminders and nudges apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from scheduler.clock import FakeClock
from scheduler.compose import Note
from scheduler.config import EngineConfig, TickReport
from scheduler.doses import DayCount
from scheduler.engine import Engine
from scheduler.ladder import Step
from scheduler.outbox import Button, Payload
from storage.records import Consent, DoseSlot, Helper, Incident, OutboxEntry, Patient
from storage.store import Store
from treatment.catalogue import regimen_from_dict
from treatment.enrolment import Enrolment, enrol
from treatment.regimen import Regimen


class PlainComposer:
    def reminder(self, patient: Patient, slot: DoseSlot, step: Step, *, nudge: bool) -> Payload:
        word = "nudge" if nudge else "reminder"
        buttons = ((Button("Taken", f"taken:{slot.id}"), Button("Later", f"snooze:{slot.id}.15")),)
        return Payload.message(f"{word} {slot.dose['key']} {slot.dose['local']}", buttons)

    def helper_alert(self, patient: Patient, helper: Helper, incident: Incident) -> Payload:
        facts = incident.detail["facts"]
        buttons = ((Button("I'll reach out", f"hack:{incident.id}"),),)
        return Payload.message(f"alert {incident.detail['kind']} {facts.get('local')}", buttons)

    def helper_note(self, patient: Patient, helper: Helper, note: Note) -> Payload:
        return Payload.message(f"note {note.value}")

    def patient_told(self, patient: Patient, helper: Helper) -> Payload:
        return Payload.message(f"told {helper.alias}")

    def helper_summary(self, patient: Patient, helper: Helper, days: Sequence[DayCount]) -> Payload:
        return Payload.message(f"summary taken={sum(d.taken for d in days)}")


@dataclass(frozen=True)
class Enrolled:
    patient: Patient
    enrolment_id: str
    chat_id: int


# A twice-daily regimen (the catalogue's are once a day): 20 intensive doses, then 100.
TWICE_DAILY = regimen_from_dict(
    {
        "id": "test-bid",
        "name": "twice daily, for tests",
        "population": "tests",
        "source": "tests",
        "doses_per_day": 2,
        "phases": [
            {
                "name": "intensive",
                "kind": "intensive",
                "doses_required": 20,
                "pattern": {"kind": "daily"},
                "drugs": [{"name": "alpha", "mg": 100, "tablets": 1}],
            },
            {
                "name": "continuation",
                "kind": "continuation",
                "doses_required": 100,
                "pattern": {"kind": "daily"},
                "drugs": [{"name": "beta", "mg": 50, "tablets": 2}],
            },
        ],
    },
    "tests",
)


def plan(zone: str, times: Sequence[str], start: date) -> Enrolment:
    """Once a day: the 2HRZE/4HR catalogue regimen; twice: `TWICE_DAILY`."""
    regimen: str | Regimen = "2HRZE/4HR" if len(times) == 1 else TWICE_DAILY
    return enrol(
        regimen=regimen, start=start, times=list(times), zone=zone, today=start, weight_kg=55.0
    )


async def enrol_patient(
    store: Store,
    engine: Engine,
    now: datetime,
    *,
    alias: str,
    zone: str,
    times: Sequence[str],
    start: date,
    chat_id: int,
    preferences: Mapping[str, Any] | None = None,
    consent: Consent | None = None,
) -> Enrolled:
    """A patient with a Telegram account and an enrolment, planned by the engine as the
    dialogue would: the enrolment and `enrolled` in one transaction."""
    patient = await store.patients.create(
        alias=alias, language="en", time_zone=zone, preferences=preferences, consent=consent
    )
    await store.identities.link(patient.id, "telegram", str(chat_id))
    async with store.transaction() as tx:
        record = await tx.enrolments.add(patient.id, plan(zone, times, start))
        await engine.enrolled(tx, patient.id, now)
    return Enrolled(patient, record.id, chat_id)


def make_engine(store: Store, clock: FakeClock, **config: Any) -> Engine:
    return Engine(
        store, clock, PlainComposer(), config=EngineConfig(**config), worker_id="test-worker"
    )


async def run_until(engine: Engine, clock: FakeClock, until: datetime) -> list[TickReport]:
    """Jump from one due instant to the next, ticking at each, until `until`; the horizon
    job runs at every simulated hour boundary crossed, as APScheduler would run it."""
    reports = []
    last_plan = clock.now()
    await engine.extend_horizon()
    while True:
        due = await engine.next_due()
        next_hour = last_plan + timedelta(hours=1)
        target = min(x for x in (due, next_hour, until) if x is not None)
        if target > clock.now():
            clock.advance(target - clock.now())
        if clock.now() >= next_hour:
            last_plan = clock.now()
            await engine.extend_horizon()
        if due is not None and due <= clock.now():
            report = await engine.tick()
            reports.append(report)
            assert report.failed == 0, report
        if clock.now() >= until and (due is None or due > until):
            return reports


async def outbox_of(store: Store, patient_id: str) -> list[OutboxEntry]:
    return await store.outbox.for_patient(patient_id)


async def enrol_many(
    store: Store, engine: Engine, count: int, due: datetime, *, chat_base: int
) -> list[Enrolled]:
    """`count` patients in UTC whose first dose is due at `due` (whole minutes), planned
    a minute before it; a hundred per transaction to keep the setup short."""
    people: list[Enrolled] = []
    start = due.date()
    times = [due.strftime("%H:%M")]
    for first in range(0, count, 100):
        async with store.transaction() as tx:
            for n in range(first, min(count, first + 100)):
                patient = await tx.patients.create(alias=f"P{n}", language="en", time_zone="UTC")
                await tx.identities.link(patient.id, "telegram", str(chat_base + n))
                record = await tx.enrolments.add(patient.id, plan("UTC", times, start))
                await engine.enrolled(tx, patient.id, due - timedelta(minutes=1))
                people.append(Enrolled(patient, record.id, chat_base + n))
    return people
