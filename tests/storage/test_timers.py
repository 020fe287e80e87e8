"""The generic timers: found again by what they are for, claimed under a lease, and showing a
reader of the database only when and whose."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text, update

from storage.models import DoseSlotRow
from storage.records import DoseOutcome, DoseSlot, ReportedVia, SlotState
from storage.store import Store
from tests.conftest import StoreClock, TestDatabase
from tests.storage.people import NOON, add_person
from tests.storage.scan import hits, raw_bytes

LEASE = timedelta(minutes=1)


async def test_a_timer_moves_runs_once_and_keeps_a_new_instant_set_while_running(
    store: Store, database: TestDatabase, store_clock: StoreClock
) -> None:
    mina = await add_person(store, "mina", "5550193847")
    now = store_clock.now
    key = "escalate:ZQXTIMERSUBJECT"
    await store.timers.schedule(mina.patient.id, key, now + timedelta(hours=3), {"do": "escalate"})
    await store.timers.schedule(mina.patient.id, key, now + timedelta(hours=1), {"do": "escalate"})
    assert await store.timers.due_at([key, "summary:nobody"]) == {key: now + timedelta(hours=1)}
    assert await store.timers.claim(now, 10, LEASE, "w:1") == []
    assert await store.timers.next_due(now) == now + timedelta(hours=1)

    later = now + timedelta(hours=1)
    (timer,) = await store.timers.claim(later, 10, LEASE, "w:1")
    assert timer.task == {"do": "escalate"} and timer.patient_id == mina.patient.id
    assert await store.timers.claim(later, 10, LEASE, "w:2") == []  # leased
    assert await store.timers.next_due(later) == later + LEASE
    # The task sets its own timer again (the next escalation): finishing keeps that one.
    await store.timers.schedule(
        mina.patient.id, key, later + timedelta(hours=2), {"do": "escalate"}
    )
    await store.timers.finish(timer.id, "w:1")
    assert await store.timers.due_at([key]) == {key: later + timedelta(hours=2)}

    (again,) = await store.timers.claim(later + timedelta(hours=2), 10, LEASE, "w:1")
    assert await store.timers.lease_owners() == {"w:1"}
    assert await store.timers.release_leases({"w:1"}) == 1  # a dead worker's lease
    (taken_over,) = await store.timers.claim(later + timedelta(hours=2), 10, LEASE, "w:3")
    await store.timers.finish(again.id, "w:1")  # the dead worker's finish does nothing
    assert await store.timers.due_at([key]) == {key: later + timedelta(hours=2)}
    await store.timers.finish(taken_over.id, "w:3")
    assert await store.timers.due_at([key]) == {}

    await store.timers.schedule(mina.patient.id, key, later, {"do": "escalate"})
    async with store.engine.connect() as connection:
        ids = list((await connection.execute(text("SELECT id FROM timers"))).scalars())
    assert store.timers.timer_id(key) in ids and len(store.timers.timer_id(key)) == 32
    assert hits(raw_bytes(database), ["ZQXTIMERSUBJECT", "escalate"]) == []
    await store.timers.cancel([key])
    assert await store.timers.due_at([key]) == {}


async def test_claimed_slots_move_in_one_statement_only_where_the_claim_and_version_hold(
    store: Store,
) -> None:
    """`advance_many` moves each claimed slot to its own state and check instant, and says
    which moved: not a slot answered since the claim (its version changed), not one whose
    lease another worker took over, not one never claimed."""
    mina = await add_person(store, "mina", "5550193847")  # slot 0 answered, 1 and 2 planned
    wei = await add_person(store, "wei", "5550274615")
    soon = NOON + timedelta(days=3)
    claimed = {
        s.id: s
        for s in await store.dose_timers.claim_timers(
            soon, 10, LEASE, "w:1", early=timedelta(days=3)
        )
    }
    answered, kept, taken_over = mina.slot_ids[1], mina.slot_ids[2], wei.slot_ids[1]
    kept_too, never_claimed = wei.slot_ids[2], wei.slot_ids[0]
    assert {answered, kept, taken_over, kept_too} <= set(claimed)
    assert never_claimed not in claimed
    await store.doses.record(mina.patient.id, answered, DoseOutcome.TAKEN, ReportedVia.BUTTON)
    async with store.engine.begin() as connection:  # w:1's lease ran out and w:2 claimed it
        await connection.execute(
            update(DoseSlotRow).where(DoseSlotRow.id == taken_over).values(lease_owner="w:2")
        )
    at = NOON + timedelta(days=2, hours=1)
    moves = [
        (answered, claimed[answered].version, SlotState.REMINDED, at),
        (kept, claimed[kept].version, SlotState.REMINDED, at),
        (taken_over, claimed[taken_over].version, SlotState.REMINDED, at),
        (kept_too, claimed[kept_too].version, SlotState.PENDING, None),
        (never_claimed, 0, SlotState.REMINDED, at),
    ]
    assert await store.dose_timers.advance_many("w:1", moves) == {kept, kept_too}
    assert (
        await store.dose_timers.advance_many("w:1", moves) == set()
    )  # done: the versions moved on
    assert await store.dose_timers.advance_many("w:1", []) == set()

    def shown(slot: DoseSlot) -> tuple[SlotState, datetime | None, int]:
        return slot.state, slot.next_check_at, slot.version

    after = {
        s.id: s
        for p in (mina, wei)
        for s in await store.doses.slots_by_id(p.patient.id, p.slot_ids)
    }
    assert shown(after[kept]) == (SlotState.REMINDED, at, claimed[kept].version + 1)
    assert shown(after[kept_too]) == (SlotState.PENDING, None, claimed[kept_too].version + 1)
    assert after[answered].state is SlotState.TAKEN
    assert shown(after[taken_over]) == shown(claimed[taken_over])
    # Moved slots hold no lease: they are claimed again when their next check comes.
    again = await store.dose_timers.claim_timers(at, 10, LEASE, "w:3")
    assert {s.id for s in again} == {kept}
