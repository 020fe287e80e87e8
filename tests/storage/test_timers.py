"""The generic timers: found again by what they are for, claimed under a lease, and showing a
reader of the database only when and whose."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from storage.store import Store
from tests.conftest import StoreClock, TestDatabase
from tests.storage.people import add_person
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
