"""Revision 0009 seals what revision 0007 showed (dose outcomes, message kinds, timers, the
instants of reports) and gives it back on downgrade, with the key, on both engines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from storage.keyring import Keyring
from storage.migrate import current_revision, downgrade, head_revision, upgrade_engine
from storage.migration_keys import KeyNeeded
from storage.records import DoseOutcome, ReportedVia
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.people import NOON, Person, add_person


async def _everything(store: Store, person: Person) -> dict[str, Any]:
    """What the store reads back about a person, for the timers and times 0009 moves."""
    patient_id = person.patient.id
    helpers = await store.helpers.for_patient(patient_id)
    return {
        "slots": [
            (s.id, s.state, s.due_at, s.next_check_at, dict(s.dose))
            for s in await store.doses.slots_of_enrolment(patient_id, person.enrolment_id)
        ],
        "outbox": sorted(
            (e.dedupe_key, e.kind) for e in await store.outbox.for_patient(patient_id)
        ),
        "incidents": [
            (i.id, i.created_at, i.next_at) for i in await store.incidents.for_patient(patient_id)
        ],
        "reports": [
            (r.id, r.recorded_at, r.follow_up_at)
            for r in await store.side_effects.for_patient(patient_id)
        ],
        "mood": [(m.id, m.recorded_at) for m in await store.mood.for_patient(patient_id)],
        "summaries": [await store.helpers.summary_at(patient_id, h.id) for h in helpers],
    }


async def _column(store: Store, sql: str) -> list[Any]:
    async with store.engine.connect() as connection:
        return list((await connection.execute(text(sql))).scalars())


async def test_0009_round_trip_seals_and_restores_every_moved_value(
    store: Store, database: TestDatabase, keyring: Keyring
) -> None:
    mina = await add_person(store, "mina", "5550193847")
    patient_id = mina.patient.id
    await store.doses.record(patient_id, mina.slot_ids[1], DoseOutcome.MISSED, ReportedVia.BUTTON)
    await store.side_effects.add(
        patient_id, symptoms=["nausea"], level="soon", follow_up_at=NOON + timedelta(days=2)
    )
    (helper,) = await store.helpers.for_patient(patient_id)
    await store.helpers.schedule_summary(patient_id, helper.id, NOON + timedelta(days=7))
    before = await _everything(store, mina)
    assert {s[1].value for s in before["slots"]} == {"taken", "missed", "pending"}
    assert before["summaries"] == [NOON + timedelta(days=7)]
    # A follow-up keeps only its day.
    follow_up = (NOON + timedelta(days=2)).replace(hour=0)
    assert {r[2] for r in before["reports"]} == {None, follow_up}
    assert [i[2] for i in before["incidents"]] == [NOON]

    async with store.engine.begin() as connection:
        await downgrade(connection, "0007", keyring=keyring)
    # Revision 0007's plaintext is back, exactly.
    assert sorted(await _column(store, "SELECT state FROM dose_slots")) == [
        "missed",
        "pending",
        "taken",
    ]
    assert await _column(store, "SELECT kind FROM outbox") == ["reminder"]
    assert await _column(store, "SELECT state FROM outbox") == ["pending"]
    assert await _column(store, "SELECT dedupe_key FROM outbox") == [f"reminder:{mina.slot_ids[1]}"]
    assert (
        len(await _column(store, "SELECT summary_at FROM helpers WHERE summary_at IS NOT NULL"))
        == 1
    )
    assert len(await _column(store, "SELECT next_at FROM helper_incidents")) == 1
    assert len(await _column(store, "SELECT follow_up_at FROM side_effect_reports")) == 2

    # Without the key, the upgrade refuses before changing anything.
    with pytest.raises(KeyNeeded, match="master key"):
        await upgrade_engine(store.engine)
    async with store.engine.connect() as connection:
        assert await current_revision(connection) == "0007"
    assert await _column(store, "SELECT kind FROM outbox") == ["reminder"]

    assert await upgrade_engine(store.engine, keyring=keyring) == head_revision()
    assert sorted(await _column(store, "SELECT state FROM dose_slots")) == [
        "closed",
        "closed",
        "planned",
    ]
    outcome_words = {b"taken", b"missed", b"reminder"}
    for sealed in await _column(store, "SELECT outcome FROM dose_slots WHERE outcome IS NOT NULL"):
        assert not any(word in bytes(sealed) for word in outcome_words)
    assert await _column(store, "SELECT state FROM outbox") == ["queued"]
    [hashed] = await _column(store, "SELECT dedupe_key FROM outbox")
    assert mina.slot_ids[1] not in hashed and "reminder" not in hashed
    assert len(await _column(store, "SELECT id FROM timers")) == 3  # escalation, follow-up, summary
    assert await _everything(store, mina) == before
