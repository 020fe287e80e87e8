"""A week after a dose's day, the database no longer shows when it was due, answered or
reminded: only the day. The store still reads back the exact instants (sealed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from storage.keyring import Keyring
from storage.migrate import downgrade, upgrade_engine
from storage.records import DoseOutcome, OutboxMessage, ReportedVia, SlotState
from storage.store import Store
from tests.conftest import StoreClock, TestDatabase
from tests.storage.people import NOON, add_person


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time_of_day(value: Any) -> timedelta:
    at = _instant(value)
    return at - at.replace(hour=0, minute=0, second=0, microsecond=0)


async def _rows(store: Store, sql: str) -> list[Any]:
    async with store.engine.connect() as connection:
        return list((await connection.execute(text(sql))).all())


async def test_closed_doses_show_only_their_day_once_eight_days_have_passed(
    store: Store, database: TestDatabase, store_clock: StoreClock, keyring: Keyring
) -> None:
    mina = await add_person(store, "mina", "5550193847")
    patient_id = mina.patient.id
    store_clock.advance(timedelta(minutes=7))
    await store.doses.record(patient_id, mina.slot_ids[1], DoseOutcome.MISSED, ReportedVia.BUTTON)
    entry = await store.outbox.enqueue(
        OutboxMessage(
            patient_id, "patient", "nudge", {"text": "x"}, f"nudge:{mina.slot_ids[1]}:0", NOON
        )
    )
    assert entry is not None
    # Sent: the row now holds the instants a reader could take the dose time from.
    async with store.engine.begin() as connection:
        await connection.execute(
            text("UPDATE outbox SET state = 'sent', sent_at = not_before WHERE id = :i"),
            {"i": entry.id},
        )
    slots = await store.doses.slots_of_enrolment(patient_id, mina.enrolment_id)
    events = await store.doses.events(patient_id)
    assert [s.state for s in slots] == [SlotState.TAKEN, SlotState.MISSED, SlotState.PENDING]

    # Within the days a dose may still change, nothing is blurred.
    assert await store.history.blur(NOON + timedelta(days=7)) == 0
    assert await store.history.blur(NOON + timedelta(days=9)) == 2
    assert await store.history.blur(NOON + timedelta(days=9)) == 0  # once

    closed = await _rows(
        store, "SELECT due_at, window_ends_at, next_check_at FROM dose_slots WHERE state = 'closed'"
    )
    assert sorted(_time_of_day(due) for due, _, _ in closed) == [timedelta(microseconds=1)] * 2
    assert all(due == window and check is None for due, window, check in closed)
    recorded = await _rows(store, "SELECT recorded_at FROM dose_events")
    assert sorted(_time_of_day(at) for (at,) in recorded) == [
        timedelta(microseconds=1),
        timedelta(microseconds=2),
    ]
    async with store.engine.connect() as connection:
        sent = (
            await connection.execute(
                text("SELECT not_before, sent_at, created_at FROM outbox WHERE id = :i"),
                {"i": entry.id},
            )
        ).one()
    assert {_time_of_day(at) for at in sent} == {timedelta(0)}
    (planned,) = await _rows(store, "SELECT due_at FROM dose_slots WHERE state = 'planned'")
    assert _instant(planned[0]) == NOON + timedelta(days=2)  # still to come: exact

    # The store reads the exact instants back, finds them by them, keeps the order.
    assert await store.doses.slots_of_enrolment(patient_id, mina.enrolment_id) == slots
    assert await store.doses.slots_between(patient_id, NOON, NOON + timedelta(hours=1)) == slots[:1]
    assert (
        await store.doses.slots_between(
            patient_id, NOON + timedelta(hours=1), NOON + timedelta(days=1, hours=1)
        )
        == slots[1:2]
    )
    assert [e.id for e in await store.doses.events(patient_id)] == [e.id for e in events]

    # Revision 0007 knew no blurring: a downgrade puts the exact instants back.
    async with store.engine.begin() as connection:
        await downgrade(connection, "0007", keyring=keyring)
    restored = await _rows(store, "SELECT due_at, window_ends_at FROM dose_slots ORDER BY due_at")
    assert [(_instant(d), _instant(w)) for d, w in restored] == [
        (s.due_at, s.window_ends_at) for s in slots
    ]
    assert await upgrade_engine(store.engine, keyring=keyring)
    assert await store.doses.slots_of_enrolment(patient_id, mina.enrolment_id) == [
        slots[0],
        slots[1],
        slots[2],
    ]
