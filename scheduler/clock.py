"""Time as an injected dependency, so that tests travel in time instead of waiting.

Two readings are offered because they answer different questions: `now()` is the wall clock
(what is due, what has expired), `monotonic()` measures intervals (rate limits, backoff) and
never jumps when the system clock is corrected.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that only moves forward; only differences are meaningful."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for `seconds` of this clock's time."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Virtual time for tests: `sleep` moves time forward at once instead of waiting.

    Time is kept in whole microseconds, the resolution of `datetime`, so that `now()` and
    `monotonic()` always agree and repeated small sleeps never drift below the instant a rate
    limit asked for: a sleep is rounded up, never down.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware start instant")
        self._start = start.astimezone(UTC)
        self._elapsed_us = 0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._start + timedelta(microseconds=self._elapsed_us)

    def monotonic(self) -> float:
        return self._elapsed_us / 1e6

    def advance(self, by: float | timedelta) -> None:
        seconds = by.total_seconds() if isinstance(by, timedelta) else by
        if seconds < 0:
            raise ValueError("time does not go backwards")
        # The small allowance keeps float noise (0.04 * 1e6 == 40000.000000000007) from adding
        # a microsecond to every sleep, without ever rounding a real fraction down.
        self._elapsed_us += math.ceil(seconds * 1e6 - 1e-4)

    async def sleep(self, seconds: float) -> None:
        """Advance virtual time by `seconds`, then yield once so other tasks can run."""
        if seconds > 0:
            self.slept.append(seconds)
            self.advance(seconds)
        await asyncio.sleep(0)
