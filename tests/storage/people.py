"""Named people for the store tests, with marker strings to hunt for in raw bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from storage.records import (
    Consent,
    DoseOutcome,
    NewDoseSlot,
    OutboxMessage,
    Patient,
    ReportedVia,
    WeightSource,
)
from storage.store import Store
from treatment.enrolment import Enrolment, enrol
from treatment.stock import Movement

NOON = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def enrolment(zone: str = "Asia/Seoul", weight_kg: float = 55.0) -> Enrolment:
    return enrol(
        regimen="2HRZE/4HR",
        start=date(2026, 12, 1),
        times=["08:00"],
        zone=zone,
        today=date(2026, 11, 29),
        weight_kg=weight_kg,
    )


@dataclass(frozen=True)
class Person:
    """Everything a test stored for one patient, and the plaintext markers that went in."""

    patient: Patient
    telegram_id: str
    enrolment_id: str
    slot_ids: tuple[str, ...]
    markers: tuple[str, ...]


async def add_person(store: Store, name: str, telegram_id: str) -> Person:
    """A patient with a value in every sealed field; each text carries a unique marker."""
    tag = f"ZQX{name.upper()}"
    markers = (
        f"{tag}ALIAS",
        f"{tag}NOTE",
        f"{tag}SYMPTOMTEXT",
        f"{tag}HELPER",
        f"{tag}PAYLOAD",
        f"{tag}CONVERSATION",
        f"{tag}DOSE",
        f"{tag}STOCK",
        f"{tag}INSTRUMENT",
        telegram_id,
        f"{tag}INCIDENT",
        # A weight no test would type by chance: the history holds it only sealed.
        f"{137 + len(name)}.{telegram_id[-4:]:0>4}",
    )
    patient = await store.patients.create(
        alias=markers[0],
        language="ko",
        time_zone="Asia/Seoul",
        discreet=True,
        consent=Consent(helper_alerts=True),
    )
    await store.identities.link(patient.id, "telegram", telegram_id, chat=telegram_id)
    record = await store.enrolments.add(patient.id, enrolment())
    slots = await store.doses.add_slots(
        patient.id,
        record.id,
        [
            NewDoseSlot(
                NOON + timedelta(days=day),
                NOON + timedelta(days=day, hours=6),
                {"what": markers[6], "day": day},
            )
            for day in range(3)
        ],
    )
    async with store.transaction() as tx:
        await tx.doses.record(
            patient.id,
            slots[0].id,
            DoseOutcome.TAKEN,
            ReportedVia.TEXT,
            reported_at=NOON,
            note=markers[1],
        )
        await tx.outbox.enqueue(
            OutboxMessage(
                patient.id,
                "patient",
                "reminder",
                {"text": markers[4]},
                f"reminder:{slots[1].id}",
                NOON,
            )
        )
    await store.side_effects.add(
        patient.id, symptoms=["yellow_eyes"], level="red_flag", free_text=markers[2]
    )
    await store.mood.add(patient.id, instrument=markers[8], answers=[1, 2], score=3)
    await store.pill_stock.set(patient.id, {markers[7]: 28}, Movement.RECOUNT)
    await store.measurements.add_weight(patient.id, float(markers[11]), WeightSource.WEIGH_IN)
    helper = await store.helpers.add(patient.id, alias=markers[3], permissions={"alerts": True})
    _, token = await store.helpers.invite(
        patient.id, helper.id, expires_at=NOON + timedelta(days=9)
    )
    opened = await store.helpers.open(token, "telegram", f"7{telegram_id}")
    assert opened is not None
    await store.helpers.accept(opened.invite.id, "telegram", f"7{telegram_id}")
    await store.helpers.confirm(patient.id, helper.id)
    await store.conversations.save(patient.id, {"step": markers[5]}, expected_version=None)
    # The dedupe key names what happened: it must be stored only as a keyed hash.
    await store.incidents.open(
        patient.id, f"red_flag:{markers[10]}", {"facts": {"what": markers[10]}}, next_at=NOON
    )
    return Person(patient, telegram_id, record.id, tuple(s.id for s in slots), markers)
