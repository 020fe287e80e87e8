"""Several `tbbot run --webhook` workers on one PostgreSQL database, and a burst of reminders
due at one instant: the scenario of issue 18's "several workers", for the CI test (scaled down)
and for `python -m bench workers` (full size).

Steps:
1. Enrol `idle` patients whose dose is hours away, and plan them (the bulk planner, here).
2. Start `workers` processes (engine, dispatcher and webhook receiver each), sharing Telegram's
   rate through the database (``TBBOT_WORKERS``), against the fake Bot API with flood control.
3. Once they are all up, create `burst` more patients, pick the next whole minute at least
   `lead` seconds away as the instant, enrol them for it and plan them. Planned here, no
   worker is told: each notices the new timers within its longest sleep (`max_idle`, 60 s),
   so the lead is longer than that plus the lookahead, as timers planned by the horizon job
   a day ahead would be.
4. Wait until every burst reminder has been delivered; read the outbox and the fake's log.

Real processes, real time; nothing here is a pass/fail threshold: callers assert or print.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.clock import FakeClock, SystemClock
from storage.store import Store
from tests.cli.run_support import Installation, Run
from tests.fakebotapi import FakeBotApi
from tests.scheduler.engine_support import make_engine, plan

SECRET = "several-workers-webhook-secret"
CHAT_BASE = 5_000_000
CHUNK = 500


@dataclass(frozen=True)
class Outcome:
    workers: int
    patients: int
    burst: int
    rate: float
    flood_limit: int
    instant: datetime
    sends_per_chat: Counter[int]  # burst chats only
    queued_ahead: float  # seconds from the last burst reminder queued to the instant
    first_send: float  # seconds after the instant
    last_send: float
    too_many_requests: int

    @property
    def ideal(self) -> float:
        """The physical limit: the burst through the flood limit, in seconds."""
        return self.burst / self.flood_limit

    @property
    def drain_ratio(self) -> float:
        return self.last_send / self.ideal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def enrol(
    store: Store, first: int, count: int, at: datetime, progress: Callable[[str], None]
) -> list[str]:
    """`count` patients in UTC with one dose a day at `at` (whole minutes) from its day,
    reachable at chats `CHAT_BASE + first + n`; `CHUNK` to a transaction."""
    ids: list[str] = []
    enrolment = plan("UTC", [at.strftime("%H:%M")], at.date())
    for start in range(first, first + count, CHUNK):
        async with store.transaction() as tx:
            for n in range(start, min(first + count, start + CHUNK)):
                patient = await tx.patients.create(alias=f"P{n}", language="en", time_zone="UTC")
                chat = str(CHAT_BASE + n)
                await tx.identities.link(patient.id, "telegram", chat, chat=chat)
                await tx.enrolments.add(patient.id, enrolment)
                ids.append(patient.id)
        if (start - first) % (CHUNK * 4) == 0:
            progress(f"enrolled {start - first + CHUNK:,}/{count:,}")
    return ids


async def plan_all(store: Store, now: datetime) -> None:
    engine = make_engine(store, FakeClock(now))
    while await engine.extend_horizon():
        pass


def next_minute(after: datetime) -> datetime:
    return (after + timedelta(minutes=1)).replace(second=0, microsecond=0)


async def run(
    api: FakeBotApi,
    place: Installation,
    *,
    workers: int,
    idle: int,
    burst: int,
    rate: float,
    lead: float = 75.0,
    ready_within: float = 300.0,
    progress: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """The module's steps; `place` holds the database URL and the key (its environment)."""
    assert api.flood_limit is not None
    store = await place.open_store()
    runs: list[Run] = []
    try:
        clock = SystemClock()
        await enrol(store, 0, idle, next_minute(clock.now()) + timedelta(hours=6), progress)
        await plan_all(store, clock.now())
        progress(f"{idle:,} idle patients planned")
        ports = [free_port() for _ in range(workers)]
        runs = [
            await place.start("--webhook", env=_worker_env(port, workers, rate)) for port in ports
        ]
        # A worker takes a second or two to start on an idle machine and far longer on a loaded
        # one: wait for all of them, generously, before anything is timed.
        for worker in runs:
            await worker.wait_for_log("receiving updates by webhook", within=ready_within)
        progress(f"{workers} workers up")
        patients = await _enrol_burst(store, idle, burst, lead, progress)
        instant, burst_ids = patients
        chats = {CHAT_BASE + n for n in range(idle, idle + burst)}

        def sent() -> int:
            return len({r.chat_id for r in api.calls("sendMessage", ok=True)} & chats)

        deadline = (instant - clock.now()).total_seconds() + 3 * burst / rate + 120
        async with asyncio.timeout(deadline):
            while sent() < burst:
                await api.changed(1.0)
        await asyncio.sleep(2)  # a duplicate would arrive now, if any
        for worker in runs:
            await worker.stop()
        return await _outcome(store, api, workers, idle, burst, rate, instant, chats, burst_ids)
    finally:
        for worker in runs:
            if worker.process.returncode is None:
                worker.kill()
                await worker.process.wait()
        await store.close()


def _worker_env(port: int, workers: int, rate: float) -> dict[str, str]:
    return {
        "TBBOT_HTTP_LISTEN": f"127.0.0.1:{port}",
        "TBBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "TBBOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TBBOT_WORKERS": str(workers),
        "TBBOT_TELEGRAM_RATE": str(rate),
        "TBBOT_LOG_LEVEL": "INFO",
    }


async def _enrol_burst(
    store: Store, idle: int, burst: int, lead: float, progress: Callable[[str], None]
) -> tuple[datetime, set[str]]:
    """Step 3. Patients first (the costly part: a data key each), then the instant, then their
    enrolments and slots, so a slow machine only moves the instant later."""
    clock = SystemClock()
    ids: list[str] = []
    for start in range(idle, idle + burst, CHUNK):
        async with store.transaction() as tx:
            for n in range(start, min(idle + burst, start + CHUNK)):
                patient = await tx.patients.create(alias=f"B{n}", language="en", time_zone="UTC")
                chat = str(CHAT_BASE + n)
                await tx.identities.link(patient.id, "telegram", chat, chat=chat)
                ids.append(patient.id)
    # Enrolling and planning the burst take about 4 ms a patient on a loaded machine: the
    # instant leaves that on top of `lead`, so the workers' engines get the whole lead.
    instant = next_minute(clock.now() + timedelta(seconds=lead + burst * 0.004))
    enrolment = plan("UTC", [instant.strftime("%H:%M")], instant.date())
    for start in range(0, len(ids), CHUNK):
        async with store.transaction() as tx:
            for patient_id in ids[start : start + CHUNK]:
                await tx.enrolments.add(patient_id, enrolment)
    await plan_all(store, clock.now())
    left = (instant - clock.now()).total_seconds()
    progress(f"{burst:,} patients due at {instant:%H:%M:%S} ({left:.0f} s from now)")
    return instant, set(ids)


async def _outcome(
    store: Store,
    api: FakeBotApi,
    workers: int,
    idle: int,
    burst: int,
    rate: float,
    instant: datetime,
    chats: set[int],
    burst_ids: set[str],
) -> Outcome:
    # A message's kind is sealed (revision 0009): read the burst's rows through the store.
    queued = [
        entry.created_at
        for patient_id in burst_ids
        for entry in await store.outbox.for_patient(patient_id)
        if entry.kind == "reminder"
    ]
    assert len(queued) == burst, f"{len(queued)} burst reminders queued, not {burst}"
    # The fake stamps requests on its monotonic clock; the instant is wall time.
    offset = time.time() - time.monotonic()
    at = [
        r.at + offset - instant.timestamp()
        for r in api.calls("sendMessage", ok=True)
        if r.chat_id in chats
    ]
    counts = Counter(r.chat_id for r in api.calls("sendMessage", ok=True) if r.chat_id in chats)
    return Outcome(
        workers=workers,
        patients=idle + burst,
        burst=burst,
        rate=rate,
        flood_limit=api.flood_limit or 0,
        instant=instant,
        sends_per_chat=counts,
        queued_ahead=(instant - max(queued)).total_seconds(),
        first_send=min(at),
        last_send=max(at),
        too_many_requests=sum(1 for r in api.requests if r.status == 429),
    )
