"""How the reminder engine waits for its next instant.

The engine computes when it next has work (the earliest timer, a periodic job, `max_idle`)
and asks a `Wakeup` to return then, or sooner when it is poked. Two ways to wait:

- `ApschedulerWakeup`, in production (`tbbot run`): APScheduler's AsyncIOScheduler holds one
  date job, re-armed at each new instant, on the system's wall clock;
- `ClockWakeup`, in the demo and in tests: the injected `Clock`'s own `sleep`, so a fast demo
  clock or a test clock wakes the engine at its instants with no one nudging it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.clock import Clock

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler


class Wakeup(Protocol):
    async def until(self, at: datetime, poked: asyncio.Event) -> None:
        """Return once `at` has come, or as soon as `poked` is set."""
        ...

    def close(self) -> None:
        """Release what waiting held (a scheduler's thread of jobs)."""
        ...


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class ClockWakeup:
    """Waits on the injected clock: `Clock.sleep` until the instant, or a poke."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def until(self, at: datetime, poked: asyncio.Event) -> None:
        if poked.is_set():
            return
        seconds = (at - self.clock.now()).total_seconds()
        await _first(self.clock.sleep(seconds), poked.wait())

    def close(self) -> None:
        return None


class ApschedulerWakeup:
    """APScheduler's one-off ``wake`` date job, replaced at each call; started on first use."""

    def __init__(self) -> None:
        self._scheduler: AsyncIOScheduler | None = None

    async def until(self, at: datetime, poked: asyncio.Event) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        if self._scheduler is None:
            self._scheduler = AsyncIOScheduler(timezone=UTC)
            self._scheduler.start()
        rang = asyncio.Event()
        # A date in the past runs at once; `misfire_grace_time=None` never drops it.
        self._scheduler.add_job(
            rang.set,
            "date",
            run_date=at,
            id="wake",
            replace_existing=True,
            misfire_grace_time=None,
        )
        await _first(rang.wait(), poked.wait())

    def close(self) -> None:
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
