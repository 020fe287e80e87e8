"""The dead process's leases: a restart on the same host gives them back at once, on SQLite and
PostgreSQL; live processes' and other hosts' leases are left alone."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime, timedelta

from scheduler.clock import FakeClock
from scheduler.leases import dead_here, release_dead, worker_id
from scheduler.outbox import Kind
from storage.records import OutboxState
from storage.store import Store
from tests.scheduler.engine_support import enrol_patient, make_engine
from tests.scheduler.test_sql_outbox import queue

T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def a_dead_pid() -> int:
    """The pid of a process that has just exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_only_this_hosts_dead_processes_and_this_processes_own_id_count_as_dead() -> None:
    me = worker_id("node-a", 4242)
    dead = a_dead_pid()
    owners = {
        f"node-a-{dead}:1f2e",  # died on this host
        f"node-a-{os.getpid()}:77aa",  # alive on this host
        "node-a-4242:0b0b",  # this very id: a restarted container with the same pid
        f"node-b-{dead}:c0c0",  # another host: only its lease running out tells
        "garbage",
    }
    assert dead_here(owners, me) == {f"node-a-{dead}:1f2e", "node-a-4242:0b0b"}
    assert worker_id("a-very-long-host-name-that-goes-on-and-on", 7) == "a-very-long-host-name-th-7"


async def test_the_dead_processs_leases_are_released_at_restart(store: Store) -> None:
    clock = FakeClock(T0)
    engine = make_engine(store, clock)
    mina = await enrol_patient(
        store,
        engine,
        T0,
        alias="Mina",
        zone="UTC",
        times=["08:00"],
        start=date(2026, 12, 1),
        chat_id=1001,
    )
    for key in ("dead", "alive", "elsewhere"):
        await queue(store, mina.patient.id, Kind.NOTICE, key, T0)
    dead, alive = f"node-a-{a_dead_pid()}", f"node-a-{os.getpid()}"
    for owner in (dead, alive, "node-b-1"):
        assert await store.outbox.claim_due(T0, 1, LEASE, f"{owner}:abcd")
    slots = await store.dose_timers.claim_timers(
        T0 + timedelta(days=1), 1, LEASE, f"{dead}:ef01", early=timedelta(days=1)
    )
    assert slots

    released = await release_dead(store, worker_id("node-a", 1))
    assert (released.messages, released.slots) == (1, 1)
    entries = {e.dedupe_key: e for e in await store.outbox.for_patient(mina.patient.id)}
    assert entries["dead"].state is OutboxState.PENDING and entries["dead"].lease_owner is None
    assert entries["alive"].state is OutboxState.LEASED
    assert entries["elsewhere"].state is OutboxState.LEASED
    # The slot can be claimed again at once, not after its lease.
    assert await store.dose_timers.claim_timers(
        T0 + timedelta(days=1), 1, LEASE, "node-a-1:0000", early=timedelta(days=1)
    )
