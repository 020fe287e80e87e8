"""The engine waits through the injected clock: it asks to be woken at its next instant and
does its work when the clock gets there, with no one poking it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from scheduler.clock import FakeClock
from scheduler.config import EngineConfig
from scheduler.engine import Engine
from scheduler.wakeup import ClockWakeup
from storage.store import Store
from tests.scheduler.engine_support import PlainComposer, enrol_patient, outbox_of

T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
FIRST_DUE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


class HeldClock(FakeClock):
    """A test clock whose sleeps last until the test moves time past their end."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.asleep = asyncio.Event()
        self.wakes_at: datetime | None = None
        self._moved = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.wakes_at = self.now() + timedelta(seconds=max(0.0, seconds))
        self.asleep.set()
        while self.now() < self.wakes_at:
            self._moved.clear()
            await self._moved.wait()

    def move_to(self, at: datetime) -> None:
        self.asleep.clear()
        self.advance(at - self.now())
        self._moved.set()


async def test_the_engine_sleeps_on_the_injected_clock_until_the_first_reminder(
    store: Store,
) -> None:
    clock = HeldClock(T0)
    engine = Engine(
        store,
        clock,
        PlainComposer(),
        # Nothing periodic comes due before the reminder: only it decides the wake-up.
        config=EngineConfig(max_idle=timedelta(hours=12), sweep_every=timedelta(hours=6)),
        worker_id="held",
    )
    assert isinstance(engine.wakeup, ClockWakeup)  # the default, as in the demo and tests
    mina = await enrol_patient(
        store,
        engine,
        T0,
        alias="Mina",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=date(2026, 12, 1),
        chat_id=1001,
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(engine.run_forever(stop))
    try:
        await asyncio.wait_for(clock.asleep.wait(), 5)
        # Asleep until the first reminder is to be written, an hour away: nothing yet.
        assert clock.wakes_at == FIRST_DUE - engine.config.lookahead
        assert await outbox_of(store, mina.patient.id) == []

        clock.move_to(clock.wakes_at)
        await asyncio.wait_for(clock.asleep.wait(), 5)  # one round done, asleep again
        (reminder,) = await outbox_of(store, mina.patient.id)
        assert reminder.kind == "reminder" and reminder.not_before == FIRST_DUE
    finally:
        stop.set()
        await asyncio.wait_for(runner, 5)
