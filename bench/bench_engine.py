"""The reminder engine at 10,000 and 100,000 patients on SQLite, beside the naive design.

Run: ``.venv/bin/python -m bench engine`` (both sizes) or
``.venv/bin/python -m bench.bench_engine --patients 10000``. Every phase runs in a process of
its own, so that peak memory (``ru_maxrss``) and start-up belong to that phase alone.

Engine (this design), per size:

1. setup: patients, Telegram accounts and enrolments (two doses a day, eight time zones) written
   in bulk (`tests.scheduler.bulk_enrol`: Core INSERTs of cells sealed as the store seals
   them); 10% of the patients have a dose at the same instant T (their local time of T), the
   others at random minutes away from it;
2. materialise a day: `Engine.extend_horizon` with a 24 h horizon at T - 1 min, planning every
   patient (decrypt, plan with `treatment`, write the slots);
3. start-up: `Store.open` to a wake-up armed (`next_due` read and an empty `tick`), in a fresh
   process; also the interpreter with its imports;
4. the burst at T: the clock runs in real time from the engine's wake-up for T (first reminders
   are written `EngineConfig.lookahead` ahead, to be sent from T); ticks until every due
   reminder is in the outbox; lateness = outbox ``created_at`` - T per row (p50, p99, max;
   negative: written before T), CPU time per reminder;
5. dispatcher: `SqlOutbox` + `Dispatcher.run_forever` + real `TelegramSender` to the fake Bot
   API in its own process: 10,000 reminders, one per patient (the burst's, topped up with
   reminders to other patients), with limits off (messages/s, first to last arrival), then 251
   more with the global limit at 25/s under the fake's flood control at 30/s (achieved rate,
   429s). The phase can be re-run on the same database (``--phase dispatch DB``).

Once per run, before the sizes: `tbbot run` as a whole process, spawned until its engine is
armed, beside the naive design's process (`bench.bench_startup`; ``--startup-runs``).

Naive: one APScheduler 3 cron job per patient dose (``CronTrigger`` in the patient's zone) in a
``SQLAlchemyJobStore`` on SQLite: adding the jobs, start-up of a scheduler over the stored jobs
(fresh process), peak memory, and the burst: the 10% cohort's jobs fire at the next whole
minute; lateness and CPU per fired job. ``misfire_grace_time`` is raised to an hour so late
jobs still run (the default of 1 s drops them; see DESIGN.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ZONES = (
    "Asia/Shanghai",
    "America/New_York",
    "Australia/Lord_Howe",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Africa/Nairobi",
    "America/Sao_Paulo",
    "Asia/Seoul",
)
START = date(2026, 11, 30)
T = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # the burst instant
DISPATCH_MESSAGES = 10_000  # sent with limits off: the burst, topped up to this many
DISPATCH_RUNS = 3
KEY_HEX = "11" * 32
CHUNK = 2000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _times_for(n: int, rng: random.Random, zone: str) -> list[str]:
    """Two distinct local dose times; the 10% cohort (every tenth patient) has T as one."""
    burst = T.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    if n % 10 == 0:
        hour, minute = int(burst[:2]), int(burst[3:])
        other = f"{(hour + 12) % 24:02d}:{minute:02d}"
        return sorted([burst, other])
    while True:
        a = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        b = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        if len({a, b, burst}) == 3:
            return sorted([a, b])


def _keyring() -> Any:
    from storage.keyring import Keyring, MasterKey

    return Keyring((MasterKey("bench-1", bytes.fromhex(KEY_HEX)),))


class OffsetClock:
    """Real time, shifted so that it reads `start` when created (for the burst at T)."""

    def __init__(self, start: datetime) -> None:
        self.reset(start)

    def reset(self, start: datetime) -> None:
        self._start = start
        self._t0 = time.perf_counter()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.perf_counter() - self._t0)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


# -- engine phases ----------------------------------------------------------------------------


async def _setup(db: Path, patients: int) -> dict[str, Any]:
    from storage.store import Store
    from tests.scheduler.bulk_enrol import NewPatient, add_patients
    from tests.scheduler.engine_support import plan

    url = f"sqlite+aiosqlite:///{db}"
    store = await Store.open(url, _keyring())
    rng = random.Random(7)
    began = time.perf_counter()
    plans: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    people = []
    for n in range(patients):
        zone = ZONES[n % len(ZONES)]
        times = tuple(_times_for(n, rng, zone))
        if (zone, times) not in plans:
            plans[(zone, times)] = plan(zone, times, START).to_dict()
        people.append(NewPatient(f"P{n}", zone, str(1_000_000 + n), plan=plans[(zone, times)]))
    await add_patients(store.context, people, datetime(2026, 11, 29, tzinfo=UTC), chunk=CHUNK)
    setup_s = time.perf_counter() - began
    await store.close()
    return {"setup_s": setup_s, "patients": patients}


async def _materialise(db: Path) -> dict[str, Any]:
    """Plan every patient, in a fresh process: the data key cache starts cold, and the
    peak memory is planning's alone."""
    from scheduler.clock import FakeClock
    from scheduler.config import EngineConfig
    from scheduler.engine import Engine
    from storage.store import Store
    from tests.scheduler.engine_support import PlainComposer

    store = await Store.open(f"sqlite+aiosqlite:///{db}", _keyring())
    clock = FakeClock(T - timedelta(minutes=1))
    engine = Engine(
        store,
        clock,
        PlainComposer(),
        config=EngineConfig(horizon=timedelta(hours=24), replan_margin=timedelta(hours=12)),
        worker_id="bench",
    )
    cpu = time.process_time()
    began = time.perf_counter()
    planned = await engine.extend_horizon()
    materialise_s = time.perf_counter() - began
    materialise_cpu = time.process_time() - cpu
    slots = await _count(store, "dose_slots")
    await store.close()
    return {
        "materialise_s": materialise_s,
        "materialise_cpu_ms_per_patient": materialise_cpu * 1000 / max(1, planned),
        "planned": planned,
        "slots": slots,
        "db_mb": db.stat().st_size / 1e6,  # noqa: ASYNC240 - once, after the work
        "peak_mb": _peak_mb(),
    }


async def _count(store: Any, table: str) -> int:
    from sqlalchemy import text

    async with store.engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar())  # noqa: S608 - fixed names


async def _engine(db: Path, interpreter_s: float) -> dict[str, Any]:
    from scheduler.config import EngineConfig
    from scheduler.engine import Engine
    from storage.store import Store
    from tests.scheduler.engine_support import PlainComposer

    clock = OffsetClock(T - timedelta(minutes=1))
    began = time.perf_counter()
    store = await Store.open(f"sqlite+aiosqlite:///{db}", _keyring(), clock=clock.now)
    engine = Engine(
        store,
        clock,
        PlainComposer(),
        config=EngineConfig(batch_size=500, lease=timedelta(minutes=5)),
        worker_id="bench",
    )
    await engine.next_due()
    await engine.tick()
    startup_s = time.perf_counter() - began
    process_s = _process_age()
    # Start-up measured: now let the clock reach the wake-up for T (the engine writes first
    # reminders its lead before they are due: `lookahead`, or longer for a burst larger than
    # it can queue in that time, `scheduler.lead`) in a fifth of a second, then the burst.
    lead = await engine.refresh_lead()
    due = await engine.next_due()
    assert due == T - lead, (due, lead)
    clock.reset(due - timedelta(seconds=0.2))
    await asyncio.sleep((due - clock.now()).total_seconds())
    cpu = time.process_time()
    reminded = 0
    while True:
        report = await engine.tick()
        reminded += report.reminded
        if report.claimed < engine.config.batch_size:
            break
    cpu = time.process_time() - cpu
    from sqlalchemy import text

    from scheduler.outbox import Kind

    async with store.engine.connect() as connection:
        created = [
            row[0]
            for row in await connection.execute(
                # Kinds are sealed: the burst's reminders are its urgent rows to patients.
                text(
                    "SELECT created_at FROM outbox WHERE recipient = 'patient' "
                    "AND priority = :urgent"
                ),
                {"urgent": int(Kind.REMINDER.priority)},
            )
        ]
    late = sorted(
        (datetime.fromisoformat(str(c)).replace(tzinfo=UTC) - T).total_seconds() for c in created
    )
    await store.close()
    return {
        "interpreter_s": interpreter_s,
        "startup_s": startup_s,
        "process_startup_s": process_s,
        "reminded": reminded,
        "cpu_ms_per_reminder": cpu * 1000 / max(1, reminded),
        "late_p50_s": statistics.median(late),
        "late_p99_s": late[int(len(late) * 0.99) - 1],
        "late_max_s": late[-1],
        "peak_mb": _peak_mb(),
    }


async def _dispatch(db: Path) -> dict[str, Any]:
    import httpx

    from bot.telegram.channel import TELEGRAM
    from bot.telegram.sender import TelegramSender, build_bot
    from scheduler.clock import SystemClock
    from scheduler.dispatcher import Dispatcher, DispatcherConfig
    from scheduler.ratelimit import Limits
    from scheduler.sending import Lane
    from scheduler.sql_outbox import SqlOutbox
    from storage.records import OutboxState
    from storage.store import Store
    from tests.fakebotapi import STATS_PATH, TEST_TOKEN

    store = await Store.open(f"sqlite+aiosqlite:///{db}", _keyring())
    clock = SystemClock()
    # The burst's reminders were written on the shifted clock: bring them to now.
    from sqlalchemy import bindparam, text

    await _top_up(store, DISPATCH_MESSAGES)
    rate_rows = await _rate_rows(store)
    async with store.engine.begin() as connection:
        await connection.execute(
            # Every reminder queued again, so that the phase can be run more than once.
            text(
                "UPDATE outbox SET state = :queued, not_before = :now, expires_at = NULL, "
                "attempts = 0, sent_at = NULL, lease_owner = NULL, lease_until = NULL "
                "WHERE id NOT IN :rate"
            ).bindparams(bindparam("rate", expanding=True)),
            {
                "queued": OutboxState.PENDING.value,
                "now": clock.now().replace(tzinfo=None),
                "rate": sorted(rate_rows) or [""],
            },
        )
    results: dict[str, Any] = {}

    async def run(
        global_rate: float | None,
        flood: int | None,
        label: str,
        per_chat: float = 1.0,
    ) -> None:
        extra = ["--flood-limit", str(flood)] if flood else []
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",  # imported, then run: the module must be fully defined before it serves
            "from tests.fakebotapi import main; main()",
            *extra,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert server.stdin is not None and server.stdout is not None
        port = int(await server.stdout.readline())
        bot = build_bot(TEST_TOKEN, base_url=f"http://127.0.0.1:{port}/bot", connections=8)
        outbox = SqlOutbox(store, "bench")
        try:
            async with bot, httpx.AsyncClient() as client:
                limits = Limits(per_chat_interval=per_chat, global_rate=global_rate)
                dispatcher = Dispatcher(
                    outbox,
                    [Lane(replace(TELEGRAM, limits=limits), TelegramSender(bot))],
                    clock,
                    on_unreachable=outbox.record_unreachable,
                    config=DispatcherConfig(batch_size=200),
                )
                stop = asyncio.Event()
                running = asyncio.create_task(dispatcher.run_forever(stop))
                while True:
                    await asyncio.sleep(0.05)
                    states = await store.outbox.count_by_state()
                    if not states.get(OutboxState.PENDING) and not states.get(OutboxState.LEASED):
                        break
                stop.set()
                await running
                stats = (await client.get(f"http://127.0.0.1:{port}{STATS_PATH}")).json()
        finally:
            server.stdin.close()
            await server.wait()
        stamps = stats["sent_at"]
        results[f"{label}_messages"] = len(stamps)
        results[f"{label}_rate"] = (len(stamps) - 1) / (max(stamps) - min(stamps))
        results[f"{label}_429"] = stats["too_many_requests"]

    await run(None, None, "unlimited")
    patient_id = await _first_patient(store)
    now = clock.now()
    for n in range(251):
        await store.outbox.enqueue(
            _reminder(patient_id, f"r{n}", f"bench-rate:{now.timestamp()}:{n}", now)
        )
    # One patient, one chat: the per-chat limit is lifted for this run, the global one kept.
    await run(25.0, 30, "limited", per_chat=0.0)
    await store.close()
    results["peak_mb"] = _peak_mb()
    return results


async def _top_up(store: Any, total: int) -> None:
    """Reminders to other patients until the outbox holds `total` of them, one per patient, so
    that throughput is measured over a sustained run (the burst at 10,000 patients is 1,000,
    two seconds of sending). Idempotent: the extra reminders have fixed dedupe keys."""
    from sqlalchemy import text

    rate_rows = await _rate_rows(store)
    async with store.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar()
        queued = int(rows or 0) - len(rate_rows)
        burst = {row[0] for row in await connection.execute(text("SELECT patient_id FROM outbox"))}
        others = [
            row[0]
            for row in await connection.execute(text("SELECT id FROM patients ORDER BY id"))
            if row[0] not in burst
        ]
    now = datetime.now(UTC)
    for n, patient_id in enumerate(others[: max(0, total - int(queued or 0))]):
        await store.outbox.enqueue(
            _reminder(patient_id, f"Time for your dose ({n})", f"bench-extra:{n}", now)
        )


async def _rate_rows(store: Any) -> set[str]:
    """The ids of the rate-limit run's rows (dedupe keys are sealed: read through the store)."""
    patient_id = await _first_patient(store)
    entries = await store.outbox.for_patient(patient_id)
    return {e.id for e in entries if e.dedupe_key.startswith("bench-rate:")}


def _reminder(patient_id: str, text: str, dedupe_key: str, now: datetime) -> Any:
    """A first reminder to the patient, due now."""
    from scheduler.outbox import Kind, Payload
    from storage.records import OutboxMessage

    return OutboxMessage(
        patient_id=patient_id,
        recipient="patient",
        kind=Kind.REMINDER.value,
        payload=Payload.message(text).to_dict(),
        dedupe_key=dedupe_key,
        not_before=now,
        priority=0,
    )


async def _first_patient(store: Any) -> str:
    from sqlalchemy import text

    async with store.engine.connect() as connection:
        return str((await connection.execute(text("SELECT id FROM patients LIMIT 1"))).scalar())


# -- the naive design -------------------------------------------------------------------------

FIRED: list[float] = []


def naive_fire(patient: str, dose: int) -> None:
    """What a naive bot's job would do: note the reminder (the send itself is not measured)."""
    FIRED.append(time.time())


def _naive_store(db: Path) -> Any:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(url=f"sqlite:///{db}")


def _naive_add(db: Path, patients: int, burst: datetime) -> dict[str, Any]:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(jobstores={"default": _naive_store(db)}, timezone=UTC)
    scheduler.start(paused=True)
    rng = random.Random(7)
    began = time.perf_counter()
    for n in range(patients):
        zone = ZONES[n % len(ZONES)]
        local = burst.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        if n % 10 == 0:
            times = [local, f"{(int(local[:2]) + 12) % 24:02d}:{local[3:]}"]
        else:
            times = _times_for(n, rng, zone)
            # Keep the others off the burst minute in this zone.
        for index, at in enumerate(times):
            scheduler.add_job(
                "bench.bench_engine:naive_fire",
                CronTrigger(hour=int(at[:2]), minute=int(at[3:]), timezone=ZoneInfo(zone)),
                args=[f"p{n}", index],
                id=f"p{n}-{index}",
                misfire_grace_time=3600,
                coalesce=True,
            )
    add_s = time.perf_counter() - began
    scheduler.shutdown(wait=False)
    return {"add_s": add_s, "jobs": patients * 2, "db_mb": db.stat().st_size / 1e6}


def _naive_run(db: Path, cohort: int, burst: datetime, interpreter_s: float) -> dict[str, Any]:
    from apscheduler.schedulers.background import BackgroundScheduler

    # The jobs name `bench.bench_engine:naive_fire`; under `python -m` this file is __main__,
    # a different module object, so read the list the jobs append to.
    from bench.bench_engine import FIRED

    began = time.perf_counter()
    scheduler = BackgroundScheduler(
        jobstores={"default": _naive_store(db)},
        timezone=UTC,
        executors={"default": {"type": "threadpool", "max_workers": 10}},
    )
    scheduler.start()
    scheduler.get_jobs  # noqa: B018 - started means the store was read for the next wake-up
    startup_s = time.perf_counter() - began
    process_s = _process_age()
    wait = (burst - datetime.now(UTC)).total_seconds()
    time.sleep(max(0.0, wait))
    cpu = time.process_time()
    deadline = time.time() + 600
    while len(FIRED) < cohort and time.time() < deadline:
        time.sleep(0.05)
    cpu = time.process_time() - cpu
    scheduler.shutdown(wait=False)
    late = sorted(t - burst.timestamp() for t in FIRED)
    return {
        "interpreter_s": interpreter_s,
        "startup_s": startup_s,
        "process_startup_s": process_s,
        "fired": len(FIRED),
        "cpu_ms_per_fired": cpu * 1000 / max(1, len(FIRED)),
        "late_p50_s": statistics.median(late) if late else None,
        "late_p99_s": late[int(len(late) * 0.99) - 1] if late else None,
        "late_max_s": late[-1] if late else None,
        "peak_mb": _peak_mb(),
    }


# -- orchestration ----------------------------------------------------------------------------


def _phase(*args: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.bench_engine", "--phase", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_size(patients: int, workdir: Path, *, naive: bool = True) -> dict[str, Any]:
    db = workdir / f"engine-{patients}.sqlite3"
    results: dict[str, Any] = {"patients": patients}
    results["setup"] = _phase("setup", str(db), str(patients))
    results["setup"].update(_phase("plan", str(db)))
    results["engine"] = _phase("engine", str(db))
    # Throughput on two shared cores varies from run to run: the median of three is reported.
    results["dispatch"] = [_phase("dispatch", str(db)) for _ in range(DISPATCH_RUNS)]
    if naive:
        naive_db = workdir / f"naive-{patients}.sqlite3"
        # The cohort fires at the first whole minute at least 30 s after the jobs are stored.
        results["naive_add"] = _phase("naive-add", str(naive_db), str(patients), "auto")
        results["naive"] = _phase(
            "naive-run",
            str(naive_db),
            str(patients // 10 + (patients % 10 > 0)),
            results["naive_add"]["burst"],
        )
    return results


def _ratio(ours: float | None, naive: float | None) -> str:
    if ours is not None and ours <= 0:
        return "engine ahead of time"  # lateness: rows written before the due instant
    if not ours or not naive:
        return "n/a"
    return f"{naive / ours:.1f}x"


def report(r: dict[str, Any]) -> None:
    s, e, runs = r["setup"], r["engine"], r["dispatch"]
    n = r.get("naive") or {}
    na = r.get("naive_add") or {}
    print(f"-- {r['patients']:,} patients, two doses a day, {len(ZONES)} zones, SQLite")
    print(f"setup (bulk, sealed): {s['setup_s']:.1f} s; database {s['db_mb']:.0f} MB")
    print(
        f"materialise a day: {s['materialise_s']:.1f} s for {s['planned']:,} patients "
        f"({s['materialise_cpu_ms_per_patient']:.2f} ms CPU each), {s['slots']:,} slots"
        + (f"; naive: adding {na['jobs']:,} jobs {na['add_s']:.1f} s" if na else "")
    )
    print(
        f"start-up, whole process (interpreter, imports, store open to armed): "
        f"{e['process_startup_s']:.3f} s (interpreter {e['interpreter_s']:.2f} s, "
        f"store open to armed {e['startup_s']:.3f} s)"
        + (
            f"; naive {n['process_startup_s']:.3f} s (scheduler start "
            f"{n['startup_s']:.3f} s), ratio "
            f"{_ratio(e['process_startup_s'], n['process_startup_s'])}"
            if n
            else ""
        )
    )
    print(
        f"burst of {e['reminded']:,} due together: CPU {e['cpu_ms_per_reminder']:.3f} ms per "
        f"reminder; lateness p50 {e['late_p50_s']:.2f} s, p99 {e['late_p99_s']:.2f} s, "
        f"max {e['late_max_s']:.2f} s"
    )
    if n:
        print(
            f"naive burst: {n['fired']:,} fired; CPU {n['cpu_ms_per_fired']:.3f} ms per job "
            f"(ratio {_ratio(e['cpu_ms_per_reminder'], n['cpu_ms_per_fired'])}); lateness "
            f"p50 {n['late_p50_s']:.2f} s, p99 {n['late_p99_s']:.2f} s, "
            f"max {n['late_max_s']:.2f} s "
            f"(p99 ratio {_ratio(e['late_p99_s'], n['late_p99_s'])})"
        )
    print(
        f"peak memory: engine {e['peak_mb']:.0f} MB (planning process {s['peak_mb']:.0f} MB)"
        + (
            f"; naive {n['peak_mb']:.0f} MB, ratio {_ratio(e['peak_mb'], n['peak_mb'])}"
            if n
            else ""
        )
    )
    rates = sorted(d["unlimited_rate"] for d in runs)
    kept = sorted(d["limited_rate"] for d in runs)
    print(
        f"dispatcher (SQL outbox), {len(runs)} runs: limits off, median "
        f"{statistics.median(rates):.0f} messages/s ({rates[0]:.0f}-{rates[-1]:.0f}) over "
        f"{runs[0]['unlimited_messages']:,}; global limit 25/s: {kept[0]:.2f}-{kept[-1]:.2f}/s "
        f"({kept[0] / 25:.1%} at worst), {sum(d['limited_429'] for d in runs)} answered 429"
    )


def report_startup(runs: int) -> None:
    """`tbbot run` as a whole process beside the naive design's (`bench.bench_startup`)."""
    from bench.bench_startup import measure, report

    print(f"-- start-up, whole process (spawn to armed, empty migrated database), {runs} runs")
    report(measure(runs))


def _process_age() -> float:
    """Seconds since this process started (Linux), i.e. interpreter start-up and imports."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:  # noqa: PTH123
        started = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks
        return float(uptime.read().split()[0]) - started


def _main_phase(args: list[str]) -> None:
    interpreter_s = _process_age()
    name, *rest = args
    if name == "setup":
        result = asyncio.run(_setup(Path(rest[0]), int(rest[1])))
    elif name == "plan":
        result = asyncio.run(_materialise(Path(rest[0])))
    elif name == "engine":
        result = asyncio.run(_engine(Path(rest[0]), interpreter_s))
    elif name == "dispatch":
        result = asyncio.run(_dispatch(Path(rest[0])))
    elif name == "naive-add":
        now = datetime.now(UTC)
        burst = (now + timedelta(seconds=90)).replace(second=0, microsecond=0)
        result = _naive_add(Path(rest[0]), int(rest[1]), burst)
        # Adding takes a while: the burst is the first whole minute 30 s after it is done.
        later = (datetime.now(UTC) + timedelta(seconds=90)).replace(second=0, microsecond=0)
        if later != burst:
            _retime(Path(rest[0]), int(rest[1]), later)
            burst = later
        result["burst"] = burst.isoformat()
    elif name == "naive-run":
        result = _naive_run(
            Path(rest[0]), int(rest[1]), datetime.fromisoformat(rest[2]), interpreter_s
        )
    else:
        raise SystemExit(f"unknown phase {name}")
    print(json.dumps(result))


def _retime(db: Path, patients: int, burst: datetime) -> None:
    """Move the cohort's jobs to `burst` (the first stored burst passed while adding)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(jobstores={"default": _naive_store(db)}, timezone=UTC)
    scheduler.start(paused=True)
    for n in range(0, patients, 10):
        zone = ZONES[n % len(ZONES)]
        local = burst.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        scheduler.reschedule_job(
            f"p{n}-0",
            trigger=CronTrigger(
                hour=int(local[:2]), minute=int(local[3:]), timezone=ZoneInfo(zone)
            ),
        )
    scheduler.shutdown(wait=False)


def main(argv: list[str] | None = None) -> None:
    """Both sizes by default (as `python -m bench engine` runs it); see --help."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", nargs="+")
    parser.add_argument("--patients", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--startup-runs", type=int, default=5, help="`tbbot run` start-ups to time (0: none)"
    )
    args = parser.parse_args(argv or [])
    if args.phase:
        _main_phase(args.phase)
        return
    if args.startup_runs:
        report_startup(args.startup_runs)
        sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        for size in args.patients:
            result = run_size(size, Path(tmp), naive=not args.no_naive)
            report(result)
            sys.stdout.flush()
            if args.json:
                path = args.json.with_name(f"{args.json.stem}-{size}{args.json.suffix}")
                path.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
