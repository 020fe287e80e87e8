"""Real processes: the engine killed with SIGKILL over and over, and three workers at once.

These run engine workers (`tests/scheduler/engine_worker.py`: engine + dispatcher + real
Telegram sender) as subprocesses against the fake Bot API served by this test's event loop,
which counts every delivery per chat. They use real time, bounded: the waits are for processes
to start, be killed and work off a queue, never for a reminder to come due (every dose is due
when the workers start).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from scheduler.clock import FakeClock, SystemClock
from storage.keyring import Keyring
from storage.records import DoseOutcome, OutboxState, ReportedVia, SlotState
from storage.store import Store
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi
from tests.scheduler.engine_support import Enrolled, enrol_many, make_engine

# Their preconditions time worker start-up, so they run alone, after the parallel part.
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, database: TestDatabase, api: FakeBotApi, keyring: Keyring, name: str, *extra: str
    ) -> Worker:
        env = {**os.environ, "TBBOT_TEST_MASTER_KEY": keyring.newest.secret.hex()}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.scheduler.engine_worker",
            database.url,
            api.base_url,
            name,
            *extra,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    async def ready(self, within: float = 180) -> None:
        """Wait for the worker to be up: seconds when the machine is idle, far longer when it
        is loaded, so the wait is generous (nothing timed depends on it)."""
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        assert line.strip() == b"ready", line

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def stop(self) -> dict[str, int]:
        self.process.terminate()
        out, _ = await asyncio.wait_for(self.process.communicate(), 20)
        lines = [line for line in out.decode().splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


@pytest_asyncio.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            await worker.kill()


def deliveries(api: FakeBotApi, people: list[Enrolled]) -> Counter[int]:
    chats = {person.chat_id for person in people}
    return Counter(r.chat_id for r in api.calls("sendMessage", ok=True) if r.chat_id in chats)


def delivery_times(api: FakeBotApi, people: list[Enrolled]) -> dict[int, list[float]]:
    """Per chat, when each reminder that reached it arrived, on the fake's clock."""
    chats = {person.chat_id for person in people}
    times: dict[int, list[float]] = {}
    for r in api.calls("sendMessage", ok=True):
        if r.chat_id in chats:
            times.setdefault(r.chat_id, []).append(r.at)
    return times


async def wait_until_sent(
    store: Store, api: FakeBotApi, people: list[Enrolled], within: float
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        states = await store.outbox.count_by_state()
        waiting = states.get(OutboxState.PENDING, 0) + states.get(OutboxState.LEASED, 0)
        if not waiting and len(deliveries(api, people)) == len(people):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all sent within {within}s: {await store.outbox.count_by_state()}")


def due_minute() -> datetime:
    return SystemClock().now().replace(second=0, microsecond=0)


async def test_kill_9_twenty_times_loses_no_reminder_and_duplicates_one_only_across_a_kill(
    sqlite_database: TestDatabase,
    keyring: Keyring,
    fake_bot_api: FakeBotApi,
    workers: list[Worker],
) -> None:
    """500 reminders due; the engine process is killed with SIGKILL at random moments 22 times
    and restarted. Every reminder arrives; a reminder arrives again only if a kill came between
    (a send whose record the kill cut off: at most one duplicate per crash, as the engine
    promises), and every dose ends final."""
    store = await Store.open(sqlite_database.url, keyring)
    try:
        due = due_minute()
        engine = make_engine(store, FakeClock(due))
        people = await enrol_many(store, engine, 500, due, chat_base=100_000)
        answered: list[Enrolled] = []
        rng = random.Random(20261129)
        loop = asyncio.get_running_loop()
        # The first worker is killed the moment it is ready, and its start-up time sets the
        # kill window, so the kills land from mid start-up to well into sending however busy
        # the machine is (a fixed window missed every send when start-up took 5 s).
        began = loop.time()
        worker = await Worker.start(sqlite_database, fake_bot_api, keyring, "crash-0")
        workers.append(worker)
        await worker.ready()
        startup = loop.time() - began
        await worker.kill()
        # On the fake's clock: a delivery stamped before this came from a worker now dead.
        killed_at = [fake_bot_api.clock()]
        for round_ in range(1, 22):
            worker = await Worker.start(sqlite_database, fake_bot_api, keyring, f"crash-{round_}")
            workers.append(worker)
            await asyncio.sleep(rng.uniform(0.3, 1.1) * startup + rng.uniform(0, 1.5))
            await worker.kill()
            killed_at.append(fake_bot_api.clock())
            if round_ == 5:
                # Some reminded patients answer while the engine keeps dying: their answers
                # stand. (Only reminded ones: an answer before the reminder means no reminder.)
                for person in people:
                    if len(answered) == 50:
                        break
                    if await store.outbox.for_patient(person.patient.id):
                        answered.append(person)
                for person in answered:
                    (slot,) = await store.doses.slots_between(
                        person.patient.id, due, due + timedelta(seconds=1)
                    )
                    await store.doses.record(
                        person.patient.id, slot.id, DoseOutcome.TAKEN, ReportedVia.BUTTON
                    )
        sent_during_kills = sum(deliveries(fake_bot_api, people).values())
        final = await Worker.start(sqlite_database, fake_bot_api, keyring, "final")
        workers.append(final)
        await final.ready()
        await wait_until_sent(store, fake_bot_api, people, within=60)
        await final.stop()

        counts = deliveries(fake_bot_api, people)
        assert len(killed_at) >= 20
        assert 0 < sent_during_kills < len(people), "the kills should land while sending"
        assert len(counts) == len(people), "a reminder was lost"
        for chat, times in delivery_times(fake_bot_api, people).items():
            for sent, again in itertools.pairwise(times):
                assert any(sent < kill < again for kill in killed_at), (chat, sent, again)
        for person in people:
            reminders = [
                e for e in await store.outbox.for_patient(person.patient.id) if e.kind == "reminder"
            ]
            assert len(reminders) == 1 and reminders[0].state is OutboxState.SENT
        # Time travel to after the window: every unanswered dose closes as no reply.
        later = make_engine(store, FakeClock(due + timedelta(hours=7)))
        while (await later.tick()).claimed:
            pass
        for person in people:
            (slot,) = await store.doses.slots_between(
                person.patient.id, due, due + timedelta(seconds=1)
            )
            want = SlotState.TAKEN if person in answered else SlotState.MISSED
            assert slot.state is want and slot.next_check_at is None
    finally:
        await store.close()


@pytest.mark.postgres
async def test_three_workers_on_postgresql_send_each_reminder_exactly_once(
    postgres_database: TestDatabase,
    keyring: Keyring,
    fake_bot_api: FakeBotApi,
    workers: list[Worker],
) -> None:
    store = await Store.open(postgres_database.url, keyring)
    try:
        for n in range(3):
            worker = await Worker.start(
                postgres_database, fake_bot_api, keyring, f"pg-{n}", "--no-global-limit"
            )
            workers.append(worker)
        for worker in workers:
            await worker.ready()
        # Planned while the workers run, so all three find due slots as they appear.
        due = due_minute()
        people = await enrol_many(
            store, make_engine(store, FakeClock(due)), 1000, due, chat_base=200_000
        )
        await wait_until_sent(store, fake_bot_api, people, within=60)
        stats = [await worker.stop() for worker in workers]

        counts = deliveries(fake_bot_api, people)
        assert len(counts) == 1000 and set(counts.values()) == {1}
        assert sum(s["reminded"] for s in stats) == 1000
        assert sum(1 for s in stats if s["reminded"]) >= 2, stats
    finally:
        await store.close()
