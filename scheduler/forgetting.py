"""Forgetting a patient, and what is left to do in chats once they are gone.

`forget_patient` is the one way the program forgets someone (their `/forget`, the retention
rule): the store erases every row and key of theirs, and what their helpers were sent about
them (and deletions still due in their own chat) moves to ``chat_cleanups``, sealed under a
key that is no patient's (`storage.repositories.cleanups`). The channel registry says which
channels delete and for how long after sending (Telegram: 48 hours; SMS cannot).

`ChatCleaner` carries those deletions out, through the lanes of this process, at the pace of
each channel:

1. Claim the due clean-ups of the channels this process has lanes for (a lease each).
2. Send each through its lane. Done, or refused for good (the message is already gone, too
   old, the chat blocked us): the row goes. Told to wait, or a fault: tried again later, with
   backoff, until the channel's time limit, after which the row goes untried.
3. With nothing due, look again after `poll` (or at the next due instant, if sooner).
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections.abc import Callable, Mapping
from datetime import timedelta

from scheduler.channels import ChannelRegistry
from scheduler.clock import Clock
from scheduler.dispatcher import Backoff
from scheduler.outbox import Payload
from scheduler.sending import Lane, Permanent, RetryLater, RetryReason, Sent
from storage.records import ForgetReport
from storage.repositories.cleanups import ChatCleanup
from storage.store import Store

log = logging.getLogger(__name__)


async def nap(clock: Clock, seconds: float, stop: asyncio.Event) -> None:
    """Wait `seconds` of `clock`'s time, or until `stop` is set, whichever comes first (a
    stop must not wait out a long sleep: `bot.lifecycle`)."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        stopper.cancel()


def chat_deletes(channels: ChannelRegistry) -> dict[str, timedelta | None]:
    """Each channel that can delete a sent message, and for how long after sending."""
    return {spec.name: spec.delete_within for spec in channels if spec.deletes}


async def forget_patient(
    store: Store, channels: ChannelRegistry, patient_id: str, *, farewell: Payload | None = None
) -> ForgetReport:
    """Forget the patient (`Store.forget`), leaving the deletions in chats to be done, and
    `farewell` to be sent to them."""
    return await store.forget(
        patient_id,
        chat_deletes=chat_deletes(channels),
        farewell=None if farewell is None else farewell.to_dict(),
    )


class ChatCleaner:
    """Carries out ``chat_cleanups`` (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        lanes: Mapping[str, Lane],
        clock: Clock,
        *,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=2),
        poll: timedelta = timedelta(seconds=5),
        backoff: Backoff | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.store = store
        self.lanes = lanes
        self.clock = clock
        self.batch_size = batch_size
        self.lease = lease
        self.poll = poll
        self.backoff = backoff or Backoff()
        self._random = random

    async def run_once(self) -> int:
        """Steps 1 and 2 of the module docstring, one batch; how many were claimed."""
        now = self.clock.now()
        claimed = await self.store.cleanups.claim_due(
            now, channels=self.lanes.keys(), limit=self.batch_size, lease=self.lease
        )
        for item in claimed:
            await self._carry_out(item)
        return len(claimed)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self.run_once()
                if claimed >= self.batch_size:
                    continue
                wait = self.poll.total_seconds()
                due = await self.store.cleanups.next_due(self.lanes.keys())
            except Exception as exc:
                log.error("chat clean-up round failed: %s", type(exc).__name__)
                due, wait = None, self.poll.total_seconds()
            if due is not None:
                wait = min(wait, max(0.0, (due - self.clock.now()).total_seconds()))
            await nap(self.clock, wait, stop)

    async def _carry_out(self, item: ChatCleanup) -> None:
        lane = self.lanes[item.channel]
        try:
            result = await lane.send_now(self.clock, item.address, Payload.from_dict(item.payload))
        except Exception as exc:
            log.error("chat clean-up %s: sender raised %s", item.id, type(exc).__name__)
            result = RetryLater(RetryReason.UNEXPECTED)
        if isinstance(result, Sent | Permanent):
            if isinstance(result, Permanent):
                log.info("chat clean-up %s refused: %s", item.id, result.reason)
            await self.store.cleanups.done(item.id)
            return
        delay = result.after
        if delay is None:
            delay = self.backoff.delay(item.attempts + 1, self._random())
        await self.store.cleanups.retry(item.id, self.clock.now() + timedelta(seconds=delay))
