"""One channel's global rate kept by every process together, through the database.

Telegram counts about 30 messages a second for the whole bot, whichever process sends them. A
limiter in each process (`scheduler.ratelimit`) keeps one process's pace; with several workers,
dividing the rate between them would waste the share of any worker that is idle or dead, and
their sends, paced apart, would still bunch up. Instead a process takes the channel's turn in
one row (`storage.repositories.pace`) at the moment it sends: turns are at least `1/rate` apart
across all processes, whoever asks, so the workers together send at the channel's rate and
never above it.

A process books turns shortly before it would send (`AHEAD`), and as many at once as it has
sends waiting (at most `MOST_TURNS`), so that one round trip to the database serves several
messages and overlaps the turns before them; its sends then take those turns in order. The cost
is one short UPDATE per few messages, on the database the workers already share. A process that
dies or falls idle wastes the turns it booked, a fraction of a second of the channel's rate.

Wall-clock instants (seconds since the epoch), since that is all the processes have in common:
workers on different hosts need their clocks in step (NTP), as they already do for leases.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from sqlalchemy.exc import SQLAlchemyError

from scheduler.clock import Clock
from scheduler.outbox import Payload
from scheduler.sending import RetryLater, RetryReason, Sender, SendResult
from storage.errors import StoreError
from storage.store import Store

log = logging.getLogger(__name__)

AHEAD = 0.2
"""Seconds before its first turn a process may book turns: longer than a round trip to the
database on a busy machine, short enough that few turns are held at once."""
MOST_TURNS = 8
"""Turns booked at once, at most (a dispatcher's sends in flight)."""


class SharedPace:
    """`inner`, sending on `channel` no faster than `rate` a second with all other processes
    that share `store` (the in-process limiter then keeps only the per-chat interval)."""

    def __init__(
        self, inner: Sender, store: Store, channel: str, rate: float, clock: Clock
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.inner = inner
        self.store = store
        self.channel = channel
        self.interval = 1.0 / rate
        self.clock = clock
        self._turn = asyncio.Lock()
        self._turns: deque[float] = deque()
        self._waiting = 0

    async def send(self, address: str, payload: Payload) -> SendResult:
        """1. Queue for this process's turns; 2. with none left, book as many as sends are
        waiting, or sleep until the next free one is near and ask again; 3. wait for the
        first turn and send. The database out of reach is a retryable failure, like the
        network."""
        self._waiting += 1
        try:
            async with self._turn:
                if not self._turns:
                    try:
                        await self._book()
                    except (StoreError, SQLAlchemyError, OSError) as exc:
                        log.warning(
                            "send pace unavailable (%s); retrying later", type(exc).__name__
                        )
                        return RetryLater(RetryReason.NETWORK)
                await self._sleep_until(self._turns.popleft())
        finally:
            self._waiting -= 1
        return await self.inner.send(address, payload)

    async def _book(self) -> None:
        count = max(1, min(self._waiting, MOST_TURNS))
        while True:
            now = self.clock.now().timestamp()
            mine, at = await self.store.pace.book(self.channel, self.interval, now, AHEAD, count)
            if mine:
                self._turns.extend(at + n * self.interval for n in range(count))
                return
            await self._sleep_until(at - AHEAD)

    async def _sleep_until(self, instant: float) -> None:
        left = instant - self.clock.now().timestamp()
        if left > 0:
            await self.clock.sleep(left)
