"""Several `tbbot run --webhook` workers on one PostgreSQL database, and a burst of reminders
due at one instant: the scenario of issue 18's "several workers", for the CI test (scaled down)
and for `python -m bench workers` (full size).

Steps:
1. Enrol `idle` patients whose dose is hours away, and plan them: written in bulk
   (`bulk_enrol`, as the repositories write them) and planned by the engine's bulk planner.
   The retention rule next looks at every patient of the scenario a month on (`RELOOK`), as
   after its first look: in a deployment those looks are spread over the month, and the
   workers' CPU here goes to the burst, not to a first look at every patient at start-up.
2. Start `workers` processes (engine, dispatcher and webhook receiver each), sharing Telegram's
   rate through the database (``TBBOT_WORKERS``), against the fake Bot API with flood control.
3. Once they are all up, create `burst` more patients (in bulk too), pick the next whole
   minute at least `lead` seconds away as the instant, enrol them for it and plan them.
   Planned here, no worker is told: each notices the new timers within its longest sleep
   (`max_idle`, 60 s), so the lead is longer than that plus the lookahead, as timers planned
   by the horizon job a day ahead would be.
4. Wait until every burst reminder has been delivered; read the outbox and the fake's log.

Real processes, real time; nothing here is a pass/fail threshold: callers assert or print.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from scheduler.clock import FakeClock, SystemClock
from scheduler.retention import RELOOK
from storage.store import Store
from tests.cli.run_support import Installation, Run
from tests.fakebotapi import FakeBotApi
from tests.ports import free_port
from tests.scheduler.bulk_enrol import CHUNK, NewPatient, add_enrolments, add_patients
from tests.scheduler.engine_support import make_engine, plan

SECRET = "several-workers-webhook-secret"
CHAT_BASE = 5_000_000
PLAN_STEP = 20_000


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
    stages: tuple[tuple[str, float], ...] = ()  # (what, wall seconds), in order

    @property
    def ideal(self) -> float:
        """The physical limit: the burst through the flood limit, in seconds."""
        return self.burst / self.flood_limit

    @property
    def drain_ratio(self) -> float:
        return self.last_send / self.ideal


def _accounts(first: int, count: int, prefix: str, plan: dict[str, Any] | None) -> list[NewPatient]:
    """Patients `first` to `first + count` in UTC, reachable at chats `CHAT_BASE + n`."""
    return [
        NewPatient(f"{prefix}{n}", "UTC", str(CHAT_BASE + n), chat=str(CHAT_BASE + n), plan=plan)
        for n in range(first, first + count)
    ]


async def enrol(
    store: Store, first: int, count: int, at: datetime, progress: Callable[[str], None]
) -> list[str]:
    """`count` patients with one dose a day at `at` (whole minutes) from its day, written in
    bulk (`bulk_enrol`); the retention rule next looks at them `RELOOK` from now."""
    now = SystemClock().now()
    enrolment = plan("UTC", [at.strftime("%H:%M")], at.date()).to_dict()

    def written(done: int) -> None:
        if done % (10 * CHUNK) == 0 or done == count:
            progress(f"enrolled {done:,}/{count:,}")

    return await add_patients(
        store.context,
        _accounts(first, count, "P", enrolment),
        now,
        retention_at=now + RELOOK,
        progress=written,
    )


async def plan_all(
    store: Store, now: datetime, progress: Callable[[str], None] = lambda _: None
) -> int:
    """Plan every enrolment due for it (the engine's bulk planner), `PLAN_STEP` patients a
    call; how many were planned."""
    engine = make_engine(store, FakeClock(now))
    planned = 0
    while step := await engine.extend_horizon(PLAN_STEP):
        planned += step
        progress(f"planned {planned:,}")
    return planned


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
    stages = Stages(progress)
    try:
        clock = SystemClock()
        await enrol(store, 0, idle, next_minute(clock.now()) + timedelta(hours=6), progress)
        stages.done(f"enrol {idle:,} idle patients")
        await plan_all(store, clock.now(), progress)
        stages.done(f"plan {idle:,} idle patients")
        ports = [free_port() for _ in range(workers)]
        runs = [
            await place.start("--webhook", env=_worker_env(port, workers, rate)) for port in ports
        ]
        # A worker takes a second or two to start on an idle machine and far longer on a loaded
        # one: wait for all of them, generously, before anything is timed.
        for worker in runs:
            await worker.wait_for_log("receiving updates by webhook", within=ready_within)
        stages.done(f"start {workers} workers")
        instant, burst_ids = await _enrol_burst(store, idle, burst, lead, stages)
        chats = {CHAT_BASE + n for n in range(idle, idle + burst)}

        delivered: set[int | None] = set()  # burst chats sent to
        read = 0

        def sent() -> int:
            # Only the requests since the last look: the fake wakes this loop at every send,
            # and 20,000 scans of the whole log would take the fake's own process from it.
            nonlocal read
            new = api.requests[read:]
            read += len(new)
            delivered.update(
                r.chat_id for r in new if r.method == "sendMessage" and r.ok and r.chat_id in chats
            )
            return len(delivered)

        deadline = (instant - clock.now()).total_seconds() + 3 * burst / rate + 120
        async with asyncio.timeout(deadline):
            while sent() < burst:
                await api.changed(1.0)
        stages.done("to the instant and the burst sent")
        await asyncio.sleep(2)  # a duplicate would arrive now, if any
        for worker in runs:
            await worker.stop()
        stages.done("stop the workers")
        outcome = await _outcome(store, api, workers, idle, burst, rate, instant, chats, burst_ids)
        stages.done("read the outbox")
        return replace(outcome, stages=tuple(stages.taken))
    finally:
        for worker in runs:
            if worker.process.returncode is None:
                worker.kill()
                await worker.process.wait()
        await store.close()


class Stages:
    """Wall time of each stage, each reported to `progress` as it ends."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        self.progress = progress
        self.taken: list[tuple[str, float]] = []
        self._since = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.taken.append((name, now - self._since))
        self.progress(f"{name}: {now - self._since:.1f} s")
        self._since = now


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
    store: Store, idle: int, burst: int, lead: float, stages: Stages
) -> tuple[datetime, set[str]]:
    """Step 3. Patients first (a data key each), then the instant, then their enrolments and
    slots, so a slow machine only moves the instant later."""
    clock = SystemClock()
    now = clock.now()
    ids = await add_patients(
        store.context, _accounts(idle, burst, "B", None), now, retention_at=now + RELOOK
    )
    stages.done(f"write {burst:,} burst patients")
    # Enrolling and planning the burst take up to 4 ms a patient on a loaded machine: the
    # instant leaves that on top of `lead`, so the workers' engines get the whole lead.
    instant = next_minute(clock.now() + timedelta(seconds=lead + burst * 0.004))
    enrolment = plan("UTC", [instant.strftime("%H:%M")], instant.date()).to_dict()
    await add_enrolments(store.context, ids, enrolment, clock.now())
    await plan_all(store, clock.now())
    left = (instant - clock.now()).total_seconds()
    stages.done(f"enrol and plan the burst, due at {instant:%H:%M:%S} ({left:.0f} s from now)")
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
