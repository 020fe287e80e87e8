"""The reminder engine on a real store (SQLite file and PostgreSQL), driven by a fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from scheduler.clock import FakeClock, SystemClock
from scheduler.config import EngineConfig
from scheduler.doses import timers_of, treatment_events
from scheduler.engine import Engine
from scheduler.ladder import Step
from scheduler.wakeup import ApschedulerWakeup
from storage.records import (
    Consent,
    DoseOutcome,
    OutboxState,
    ReportedVia,
    SlotState,
)
from storage.store import Store
from tests.helper_links import link_helper
from tests.scheduler.engine_support import (
    Enrolled,
    PlainComposer,
    enrol_many,
    enrol_patient,
    make_engine,
    outbox_of,
    plan,
    run_until,
)
from treatment.enrolment import Pause, TimeChange, parse_time
from treatment.events import EventKind

# Mina takes her pills at 08:00 and 20:00 in Shanghai (UTC+8, no DST).
START = date(2026, 12, 1)
T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai on the first day
FIRST_DUE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


async def mina(store: Store, engine: Engine, clock: FakeClock, **kwargs: Any) -> Enrolled:
    return await enrol_patient(
        store,
        engine,
        clock.now(),
        alias="Mina",
        zone="Asia/Shanghai",
        times=["08:00", "20:00"],
        start=START,
        chat_id=1001,
        **kwargs,
    )


async def test_enrolment_materialises_the_horizon_idempotently(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock)
    slots = await store.doses.slots_between(who.patient.id, T0, T0 + timedelta(days=30))
    assert [s.due_at for s in slots] == [FIRST_DUE + timedelta(hours=12 * i) for i in range(4)]
    first = slots[0]
    assert first.dose["key"] == "2026-12-01#0"
    assert first.dose["local"] == "2026-12-01T08:00:00+08:00"
    assert first.dose["zone"] == "Asia/Shanghai"
    assert first.dose["phase"] == "intensive"
    assert first.dose["drugs"] == [{"name": "alpha", "mg": 100, "tablets": 1, "combined": False}]
    assert len(first.id) <= 48 and first.id.isalnum()
    # The window closes at the next dose (12 h) or after 6 h, whichever is sooner.
    assert first.window_ends_at == FIRST_DUE + timedelta(hours=6)
    async with store.transaction() as tx:
        await engine.enrolled(tx, who.patient.id, clock.now())
    again = await store.doses.slots_between(who.patient.id, T0, T0 + timedelta(days=30))
    assert [s.id for s in again] == [s.id for s in slots]


async def test_unanswered_dose_gets_reminder_nudges_and_closes_as_no_reply(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock)
    patient_id = who.patient.id
    await run_until(engine, clock, FIRST_DUE + timedelta(hours=6))
    rows = [
        r
        for r in await outbox_of(store, patient_id)
        if r.not_before < FIRST_DUE + timedelta(hours=7)
    ]
    assert [(r.kind, r.not_before - FIRST_DUE) for r in rows] == [
        ("reminder", timedelta(0)),
        ("nudge", timedelta(minutes=30)),
        ("nudge", timedelta(hours=2)),
    ]
    assert all(r.expires_at == FIRST_DUE + timedelta(hours=6) for r in rows)
    assert rows[0].priority < rows[1].priority
    slot = (
        await store.doses.slots_between(patient_id, FIRST_DUE, FIRST_DUE + timedelta(seconds=1))
    )[0]
    assert slot.state is SlotState.MISSED and slot.next_check_at is None
    (event_,) = await store.doses.events(patient_id)
    assert (event_.outcome, event_.via) == (DoseOutcome.MISSED, ReportedVia.NO_REPLY)
    assert treatment_events([slot], [event_])[0].kind is EventKind.NO_REPLY


async def test_answer_stops_the_timers_of_that_dose(store: Store, clock: FakeClock) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock)
    patient_id = who.patient.id
    await run_until(engine, clock, FIRST_DUE)
    slot = (
        await store.doses.slots_between(patient_id, FIRST_DUE, FIRST_DUE + timedelta(seconds=1))
    )[0]
    assert slot.state is SlotState.REMINDED
    await store.doses.record(patient_id, slot.id, DoseOutcome.TAKEN, ReportedVia.BUTTON)
    # The next dose's reminder, written a little ahead of its due instant.
    assert await engine.next_due() == FIRST_DUE + timedelta(hours=12) - engine.config.lookahead
    await run_until(engine, clock, FIRST_DUE + timedelta(hours=8))
    kinds = [r.kind for r in await outbox_of(store, patient_id)]
    assert kinds == ["reminder"]


async def test_patient_preferences_choose_nudges_and_quiet_hours(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    # A 20:00 dose with quiet hours from 21:00: the +2 h nudge (22:00) waits until 07:00,
    # which is after the window closes (02:00), so it is dropped; "one" keeps only +30 min.
    quiet = await mina(store, engine, clock, preferences={"quiet_hours": ["20:15", "07:00"]})
    one = await enrol_patient(
        store,
        engine,
        clock.now(),
        alias="Wei",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=START,
        chat_id=1002,
        preferences={"nudges": "one"},
    )
    none = await enrol_patient(
        store,
        engine,
        clock.now(),
        alias="Ana",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=START,
        chat_id=1003,
        preferences={"nudges": "none"},
    )
    evening = FIRST_DUE + timedelta(hours=12)
    slot = (
        await store.doses.slots_between(quiet.patient.id, evening, evening + timedelta(seconds=1))
    )[0]
    assert [t.step for t in timers_of(slot.dose)] == [Step.REMIND, Step.CLOSE]
    slot = (await store.doses.slots_between(one.patient.id, FIRST_DUE, evening))[0]
    assert [t.step for t in timers_of(slot.dose)] == [Step.REMIND, Step.NUDGE, Step.CLOSE]
    slot = (await store.doses.slots_between(none.patient.id, FIRST_DUE, evening))[0]
    assert [t.step for t in timers_of(slot.dose)] == [Step.REMIND, Step.CLOSE]


async def test_snooze_brings_the_reminder_back_as_a_reminder(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock)
    other = await enrol_patient(
        store,
        engine,
        clock.now(),
        alias="Wei",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=START,
        chat_id=1002,
    )
    patient_id = who.patient.id
    await run_until(engine, clock, FIRST_DUE + timedelta(minutes=5))
    slot = (
        await store.doses.slots_between(patient_id, FIRST_DUE, FIRST_DUE + timedelta(seconds=1))
    )[0]
    now = clock.now()
    async with store.transaction() as tx:
        assert not await engine.snooze(
            tx, other.patient.id, slot.id, now + timedelta(minutes=15), now
        )
        assert not await engine.snooze(tx, patient_id, slot.id, slot.window_ends_at, now)
        assert await engine.snooze(tx, patient_id, slot.id, now + timedelta(minutes=15), now)
    await run_until(engine, clock, FIRST_DUE + timedelta(hours=1))
    rows = [
        r
        for r in await outbox_of(store, patient_id)
        if r.not_before < FIRST_DUE + timedelta(hours=1)
    ]
    assert [(r.kind, r.not_before - FIRST_DUE) for r in rows] == [
        ("reminder", timedelta(0)),
        ("reminder", timedelta(minutes=20)),  # the snoozed one, not a nudge
        ("nudge", timedelta(minutes=30)),
    ]


async def test_after_downtime_open_windows_are_reminded_late_and_closed_ones_missed(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock)
    patient_id = who.patient.id
    # Down from before the first dose until 13 h later: the 08:00 window (to 14:00) has
    # closed, the 20:00 dose is 1 h into its window and its +30 min nudge has passed too.
    clock.advance(FIRST_DUE + timedelta(hours=13) - clock.now())
    report = await engine.tick()
    assert (report.closed_unreminded, report.reminded, report.nudged) == (1, 1, 0)
    rows = await outbox_of(store, patient_id)
    assert [(r.kind, r.dedupe_key.split(":")[0]) for r in rows] == [("reminder", "remind")]
    morning, evening = await store.doses.slots_between(
        patient_id, FIRST_DUE, FIRST_DUE + timedelta(hours=13)
    )
    assert morning.state is SlotState.MISSED
    assert evening.state is SlotState.REMINDED
    # The next timer is the +2 h nudge, not the one that passed while down.
    assert evening.next_check_at == FIRST_DUE + timedelta(hours=14)


async def test_change_of_times_pause_and_end_replan_pending_slots(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock)
    patient_id, enrolment_id = who.patient.id, who.enrolment_id
    record = await store.enrolments.get(patient_id, enrolment_id)
    changed = record.enrolment.with_time_change(
        TimeChange(START + timedelta(days=1), (plan_time("09:30"), plan_time("21:00")))
    )
    async with store.transaction() as tx:
        await tx.enrolments.replace(patient_id, enrolment_id, changed)
        await engine.enrolled(tx, patient_id, clock.now())
    slots = await store.doses.slots_between(patient_id, T0, T0 + timedelta(days=3))
    assert [s.dose["local"][11:16] for s in slots] == ["08:00", "20:00", "09:30", "21:00"]
    paused = changed.with_pause(Pause(START + timedelta(days=1), None))
    async with store.transaction() as tx:
        await tx.enrolments.replace(patient_id, enrolment_id, paused)
        await engine.enrolled(tx, patient_id, clock.now())
    slots = await store.doses.slots_between(patient_id, T0, T0 + timedelta(days=3))
    assert [s.dose["key"] for s in slots] == ["2026-12-01#0", "2026-12-01#1"]
    async with store.transaction() as tx:
        await tx.enrolments.end(patient_id, enrolment_id)
        await engine.enrolled(tx, patient_id, clock.now())
    assert await store.doses.slots_between(patient_id, T0, T0 + timedelta(days=3)) == []


def plan_time(text: str) -> time:
    return parse_time(text)


async def test_missed_dose_moves_the_phase_boundary_in_pending_slots(
    store: Store,
) -> None:
    # One dose a day at 08:00 Shanghai; the 56th dose (2027-01-25) ends the intensive phase.
    last_intensive = datetime(2027, 1, 25, 0, 0, tzinfo=UTC)
    clock = FakeClock(last_intensive - timedelta(hours=1))
    engine = make_engine(store, clock)
    who = await enrol_patient(
        store,
        engine,
        clock.now(),
        alias="Mina",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=START,
        chat_id=1001,
    )
    patient_id = who.patient.id
    tomorrow = last_intensive + timedelta(days=1)
    (next_slot,) = await store.doses.slots_between(
        patient_id, tomorrow, tomorrow + timedelta(hours=1)
    )
    assert next_slot.dose["phase"] == "continuation"
    await run_until(engine, clock, last_intensive + timedelta(hours=6))
    (next_slot,) = await store.doses.slots_between(
        patient_id, tomorrow, tomorrow + timedelta(hours=1)
    )
    assert next_slot.dose["phase"] == "intensive"  # one more intensive dose is needed
    assert {d["name"] for d in next_slot.dose["drugs"]} >= {"pyrazinamide", "ethambutol"}


async def test_window_close_alerts_active_helpers_when_the_patient_consented(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    who = await mina(store, engine, clock, consent=Consent(helper_alerts=True))
    silent = await enrol_patient(
        store,
        engine,
        clock.now(),
        alias="Wei",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=START,
        chat_id=1002,
    )
    await link_helper(store, who.patient.id, "2001", alias="Ana")
    await link_helper(store, silent.patient.id, "2002", alias="Ana", consent=False)
    await run_until(engine, clock, FIRST_DUE + timedelta(hours=6))
    alerts = [r for r in await outbox_of(store, who.patient.id) if r.kind == "helper_alert"]
    assert len(alerts) == 1 and alerts[0].recipient.startswith("helper:")
    assert alerts[0].dedupe_key.startswith("incident:")
    assert not [r for r in await outbox_of(store, silent.patient.id) if r.kind == "helper_alert"]


async def test_a_wake_up_costs_the_same_however_many_patients_exist(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append("x")

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        costs = []
        for batch in range(2):
            for i in range(10 if batch == 0 else 60):
                await enrol_patient(
                    store,
                    engine,
                    clock.now(),
                    alias=f"P{batch}-{i}",
                    zone="Asia/Shanghai",
                    times=["08:00"],
                    start=START,
                    chat_id=5000 + batch * 100 + i,
                )
            statements.clear()
            await engine.tick()  # nothing due yet
            await engine.next_due()
            costs.append(len(statements))
        # Per transaction a BEGIN on SQLite: helper timers (due incidents, due summaries),
        # the claim, and next_due (next slot check: pending, reminded and leased; next
        # escalation, next summary).
        assert costs[0] == costs[1] <= 11
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)


async def test_two_workers_ticking_together_remind_each_dose_once(
    store: Store, clock: FakeClock
) -> None:
    engines = [
        Engine(store, clock, PlainComposer(), config=EngineConfig(batch_size=7), worker_id=f"w{i}")
        for i in range(2)
    ]
    people = [
        await enrol_patient(
            store,
            engines[0],
            clock.now(),
            alias=f"P{i}",
            zone="Asia/Shanghai",
            times=["08:00"],
            start=START,
            chat_id=7000 + i,
        )
        for i in range(30)
    ]
    clock.advance(FIRST_DUE - clock.now())
    for _ in range(10):
        await asyncio.gather(*(engine.tick() for engine in engines))
    for person in people:
        kinds = [r.kind for r in await outbox_of(store, person.patient.id)]
        assert kinds == ["reminder"]


async def test_run_forever_wakes_when_poked_for_a_sooner_timer(store: Store) -> None:
    """Real time, but nothing waits for a reminder to come due: the dose is due already when
    the engine is poked; the bound is how quickly the poke re-arms the APScheduler wake-up."""
    clock = SystemClock()
    engine = Engine(
        store,
        clock,
        PlainComposer(),
        config=EngineConfig(max_idle=timedelta(minutes=10)),
        worker_id="forever",
        wakeup=ApschedulerWakeup(),
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(engine.run_forever(stop))
    try:
        await asyncio.sleep(0.2)  # let it arm a long idle wake-up
        now = clock.now()
        due = now.replace(second=0, microsecond=0)  # already due when planned
        who = await enrol_patient(
            store,
            engine,
            due - timedelta(minutes=1),
            alias="Mina",
            zone="UTC",
            times=[due.strftime("%H:%M")],
            start=due.date(),
            chat_id=1001,
        )
        engine.poke()
        for _ in range(100):
            rows = await outbox_of(store, who.patient.id)
            if rows:
                break
            await asyncio.sleep(0.02)
        assert [r.kind for r in rows] == ["reminder"]
        assert (await store.outbox.count_by_state())[OutboxState.PENDING] == 1
    finally:
        stop.set()
        await asyncio.wait_for(runner, 5)


async def test_horizon_job_plans_only_enrolments_running_short_a_chunk_at_a_time(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock, plan_chunk=2)
    people = []
    for i in range(5):
        patient = await store.patients.create(alias=f"P{i}", language="en", time_zone="UTC")
        await store.enrolments.add(patient.id, plan("Asia/Shanghai", ["08:00"], START))
        people.append(patient)
    # Enrolments stored without planning (as after an import): the job finds them by index.
    assert [await engine.extend_horizon(limit=2) for _ in range(4)] == [2, 2, 1, 0]
    for patient in people:
        slots = await store.doses.slots_between(patient.id, T0, T0 + timedelta(days=3))
        assert len(slots) == 2  # 48 h of once-daily doses
    # Half a horizon later nothing is due for planning; a day later all of them are again.
    clock.advance(timedelta(hours=11))
    assert await engine.extend_horizon() == 0
    clock.advance(timedelta(hours=14))
    assert await engine.extend_horizon() == 5
    for patient in people:
        slots = await store.doses.slots_between(patient.id, T0, T0 + timedelta(days=3))
        assert len(slots) == 3


async def test_a_burst_due_at_one_instant_is_queued_before_it_and_only_reminders_are_early(
    store: Store, clock: FakeClock
) -> None:
    engine = make_engine(store, clock, batch_size=500)
    due = FIRST_DUE
    people = await enrol_many(store, engine, 120, due, chat_base=9000)
    clock.advance(due - engine.config.lookahead - clock.now())
    assert await engine.next_due() == due - engine.config.lookahead
    report = await engine.tick()
    assert report.reminded == 120 and all(lat < 0 for lat in report.latencies)
    for person in people[:5]:
        (row,) = await outbox_of(store, person.patient.id)
        assert (row.kind, row.not_before) == ("reminder", due)
    # Nothing else is taken early: the next check is the first nudge, at its own instant.
    assert await engine.next_due() == due + timedelta(minutes=30)
    assert (await engine.tick()).claimed == 0
