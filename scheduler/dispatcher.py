"""The dispatcher: takes due messages from the outbox and sends them, each over its channel.

It holds one `Lane` per channel (its sender and its own rate limiter) and runs one loop per
lane: each lane claims only its own channel's messages, keeps its own pace and its own pauses,
and has its own sends in flight. So a channel that is down (every send timing out) or
throttled (told to wait) holds up its own messages only, never another channel's.

Nothing here waits on the system clock directly: every instant comes from the injected `Clock`,
so tests drive a whole day of retries in milliseconds. Logs name messages by their outbox id and
kind only, never by address, recipient or text.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.clock import Clock
from scheduler.outbox import FailureReason, Kind, Outbox, OutboxMessage
from scheduler.sending import (
    Lane,
    Permanent,
    RetryLater,
    RetryReason,
    RowSender,
    SendResult,
    Sent,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter for transient failures.

    The delay after the n-th failed attempt is drawn from `[(1 - jitter) * c, c]`, where
    `c = min(cap, base * 2 ** (n - 1))`. Jitter spreads retries out so that a thousand messages
    that failed together during an outage do not all come back in the same second; with
    `jitter <= 0.5` the delays still never shrink from one attempt to the next below the cap.
    """

    base: float = 2.0
    cap: float = 600.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise ValueError("backoff needs 0 < base <= cap")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")

    def ceiling(self, attempt: int) -> float:
        """The longest delay after failed attempt number `attempt` (counting from 1)."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        # Beyond 2**64 the cap has long been reached; stopping early avoids float overflow.
        exponent = min(attempt - 1, 64)
        return float(min(self.cap, self.base * 2.0**exponent))

    def delay(self, attempt: int, random_fraction: float) -> float:
        """The delay for `attempt`, with `random_fraction` drawn uniformly from [0, 1)."""
        return self.ceiling(attempt) * (1.0 - self.jitter * random_fraction)


@dataclass(frozen=True)
class DispatcherConfig:
    """Per lane (channel): `max_in_flight` sends wait on the channel at once (a send that
    succeeded frees its place before its record is committed). At Telegram's usual 50 to
    300 ms per call, 8 keeps 25 messages a second flowing; more only adds connection-pool
    overhead (see bench/README.md). `lease` must outlast a cycle: `batch_size` sends at the
    global rate."""

    batch_size: int = 50
    lease: timedelta = timedelta(minutes=2)
    max_in_flight: int = 8
    max_attempts: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    idle_poll: float = 1.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_in_flight < 1 or self.max_attempts < 1:
            raise ValueError("batch_size, max_in_flight and max_attempts must be at least 1")
        if self.idle_poll <= 0:
            raise ValueError("idle_poll must be positive")


@dataclass(frozen=True)
class Unreachable:
    """A recipient can no longer be reached (blocked the bot, deleted the account...).

    For a patient this is itself worth a helper alert: the reminders have stopped arriving.
    """

    recipient: str
    reason: FailureReason
    kind: Kind
    outbox_message_id: str
    at: datetime


UnreachableHandler = Callable[[Unreachable], Awaitable[None]]


@dataclass
class CycleReport:
    """What one `run_once` did; `paused_until` is set while a channel has told us to wait (the
    earliest such end, over the lanes)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    failed: int = 0
    expired: int = 0
    paused_until: datetime | None = None

    def add(self, other: CycleReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.deferred += other.deferred
        self.failed += other.failed
        self.expired += other.expired
        pauses = [p for p in (self.paused_until, other.paused_until) if p is not None]
        self.paused_until = min(pauses, default=None)


class Dispatcher:
    """One loop per channel (`LaneDispatcher`), run side by side."""

    def __init__(
        self,
        outbox: Outbox,
        lanes: Iterable[Lane],
        clock: Clock,
        *,
        on_unreachable: UnreachableHandler,
        config: DispatcherConfig | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.outbox = outbox
        self.clock = clock
        self.config = config or DispatcherConfig()
        self.lanes: dict[str, Lane] = {}
        self._loops: list[LaneDispatcher] = []
        self._on_unreachable = on_unreachable
        self._random = random
        for lane in lanes:
            self.add_lane(lane)

    def add_lane(self, lane: Lane) -> None:
        """Send `lane`'s channel too; before `run_forever`, which runs the lanes it finds."""
        if lane.name in self.lanes:
            raise ValueError(f"two lanes for channel {lane.name!r}")
        self.lanes[lane.name] = lane
        self._loops.append(
            LaneDispatcher(
                self.outbox,
                lane,
                self.clock,
                on_unreachable=self._on_unreachable,
                config=self.config,
                random=self._random,
            )
        )

    async def run_once(self) -> CycleReport:
        """One cycle of every lane, side by side; the reports added up."""
        report = CycleReport()
        for lane_report in await asyncio.gather(*(loop.run_once() for loop in self._loops)):
            report.add(lane_report)
        return report

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Every lane's loop until `stop` is set (see `LaneDispatcher.run_forever`). With no
        lane (a process that delivers nothing), nothing runs."""
        await asyncio.gather(*(loop.run_forever(stop) for loop in self._loops))


class LaneDispatcher:
    """Sends one channel's due messages, within that channel's limits."""

    def __init__(
        self,
        outbox: Outbox,
        lane: Lane,
        clock: Clock,
        *,
        on_unreachable: UnreachableHandler,
        config: DispatcherConfig | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.outbox = outbox
        self.lane = lane
        self.clock = clock
        self.config = config or DispatcherConfig()
        self._on_unreachable = on_unreachable
        self._random = random
        # Shared by every cycle: sends still on the wire from one cycle count against the next.
        self._in_flight = asyncio.Semaphore(self.config.max_in_flight)

    async def run_once(self) -> CycleReport:
        """Send one batch of due messages and record every outcome (`_cycle`, then wait for
        its sends)."""
        report = CycleReport()
        await self._finish(await self._cycle(report))
        report.paused_until = self._pause_end()
        return report

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Run cycles until `stop` is set: at once while there is a backlog, otherwise after
        `idle_poll` seconds or when the channel's pause ends.

        With a backlog the next batch is claimed as soon as the last message of this one has
        started, while its sends are still on the wire: waiting for them first would leave
        the channel idle during every claim, and one slow answer would hold up every chat
        behind it. `max_in_flight` still bounds the sends of all
        cycles together. Before any wait, and when asked to stop, the sends already started
        are recorded first.
        """
        sends: set[asyncio.Task[None]] = set()
        try:
            while stop is None or not stop.is_set():
                report = CycleReport()
                started = await self._cycle(report)
                sends.update(started)
                for send in started:
                    send.add_done_callback(sends.discard)
                if report.claimed >= self.config.batch_size and self._pause_end() is None:
                    continue
                await self._finish(list(sends))
                pause = self._pause_end()
                if pause is not None:
                    wait = (pause - self.clock.now()).total_seconds()
                elif report.claimed >= self.config.batch_size:
                    wait = 0.0
                else:
                    wait = self.config.idle_poll
                await self.clock.sleep(wait)
        finally:
            await self._finish(list(sends))

    async def _cycle(self, report: CycleReport) -> list[asyncio.Task[None]]:
        """Claim one batch and start its sends; returns them still running.

        Steps:
        1. If the channel has paused all sending (Telegram's 429), claim nothing.
        2. Claim up to `batch_size` due messages under a lease, most urgent first.
        3. For each message, in that order, once fewer than `max_in_flight` sends are under way:
           a. its window has closed: mark it expired (not delivered), never send it late;
           b. it is longer than the channel takes (`ChannelSpec.length`): mark it failed;
           c. a pause began during this cycle: give it back until the pause ends;
           d. its chat is not free by the next global slot: give it back until the chat is
              free, so that one busy chat never holds up the others;
           e. book the rate-limit instant and wait for it; if the window closed meanwhile,
              mark it expired;
           f. send it in the background; its outcome is recorded when it completes
              (see `_record`).
        Giving a message back (c, d) does not count as an attempt.
        """
        if self._pause_end() is not None:
            return []
        batch = await self.outbox.claim_due(
            self.clock.now(), self.config.batch_size, self.config.lease, self.lane.name
        )
        report.claimed = len(batch)
        sends: list[asyncio.Task[None]] = []
        try:
            for message in batch:
                await self._in_flight.acquire()
                try:
                    started = await self._start(message, report)
                except BaseException:
                    self._in_flight.release()
                    raise
                if started is None:
                    self._in_flight.release()
                else:
                    sends.append(started)
        except BaseException:
            # Sends already on the wire get their outcome recorded; the messages not reached
            # keep their lease and come back when it ends.
            await self._finish(sends)
            raise
        return sends

    @staticmethod
    async def _finish(sends: list[asyncio.Task[None]]) -> None:
        if sends:
            await asyncio.gather(*sends)

    async def _start(
        self, message: OutboxMessage, report: CycleReport
    ) -> asyncio.Task[None] | None:
        """Steps 3a to 3f of `_cycle`; returns the send task, or None if nothing was sent."""
        now = self.clock.now()
        if message.is_expired(now):
            await self._expire(message, report)
            return None
        if not self.lane.spec.length.fits(message.payload.text):
            await self.outbox.mark_failed(message.id, FailureReason.BAD_REQUEST, now)
            report.failed += 1
            log.error("outbox %s (%s): too long for %s", message.id, message.kind, self.lane.name)
            return None
        pause = self._pause_end()
        if pause is not None:
            await self.outbox.defer(message.id, pause)
            report.deferred += 1
            return None
        limiter = self.lane.limiter
        mono = self.clock.monotonic()
        chat_free = limiter.chat_ready_at(message.address, mono)
        if chat_free > limiter.global_ready_at(mono):
            await self.outbox.defer(message.id, self._wall(chat_free))
            report.deferred += 1
            log.debug("outbox %s (%s): chat busy, deferred", message.id, message.kind)
            return None
        at = limiter.reserve(message.address, mono)
        if at > mono:
            await self.clock.sleep(at - mono)
        if message.is_expired(self.clock.now()):
            await self._expire(message, report)
            return None
        return asyncio.create_task(self._send_and_record(message, report))

    async def _send_and_record(self, message: OutboxMessage, report: CycleReport) -> None:
        holding = True
        try:
            try:
                sender = self.lane.sender
                if isinstance(sender, RowSender):
                    result = await sender.send_row(message)
                else:
                    result = await sender.send(message.address, message.payload)
            except Exception as exc:
                # Exception text may quote a request; only the type is safe to log.
                log.error("outbox %s: sender raised %s", message.id, type(exc).__name__)
                result = RetryLater(RetryReason.UNEXPECTED)
            if isinstance(result, Sent):
                # The slot limits sends waiting on the channel, not records waiting on the
                # disk: the next send starts while this one is committed.
                self._in_flight.release()
                holding = False
            await self._record(message, result, report)
        except Exception as exc:
            # The lease runs out and the message is claimed again: delayed, not lost.
            log.error("outbox %s: recording outcome failed: %s", message.id, type(exc).__name__)
        finally:
            if holding:
                self._in_flight.release()

    async def _record(
        self, message: OutboxMessage, result: SendResult, report: CycleReport
    ) -> None:
        """Record what became of one send.

        Steps:
        1. Sent: mark sent with the chat's message id.
        2. Flood control (429 with `retry_after`): pause all sending until then (Telegram's
           flood limits are per bot as much as per chat) and give the message back until
           then, without counting an attempt.
           If the pause outlasts the message's window, mark it expired now.
        3. Other transient failures: the attempt counts. At `max_attempts`, mark failed
           (gave up). Otherwise retry after the backoff delay; if that falls after the end of
           the message's window, mark it expired now rather than send it late.
        4. Permanent failure: mark failed with its reason; if no message can reach the
           recipient any more, raise `Unreachable` for the helper path.
        """
        now = self.clock.now()
        match result:
            case Sent(message_id=telegram_id):
                await self.outbox.mark_sent(message.id, telegram_id, now)
                report.sent += 1
                log.debug("outbox %s (%s): sent", message.id, message.kind)
            case RetryLater(reason=RetryReason.FLOOD, after=after) if after is not None:
                self.lane.limiter.pause(self.clock.monotonic() + after)
                until = now + timedelta(seconds=after)
                if message.is_expired(until):
                    await self._expire(message, report)
                    return
                await self.outbox.defer(message.id, until)
                report.deferred += 1
                log.warning("outbox %s: flood control, all sending paused %.1fs", message.id, after)
            case RetryLater(reason=reason):
                attempts = message.attempts + 1
                if attempts >= self.config.max_attempts:
                    await self.outbox.mark_failed(message.id, FailureReason.GAVE_UP, now)
                    report.failed += 1
                    log.warning("outbox %s: gave up after %d attempts", message.id, attempts)
                    return
                delay = self.config.backoff.delay(attempts, self._random())
                not_before = now + timedelta(seconds=delay)
                if message.is_expired(not_before):
                    await self._expire(message, report)
                    return
                await self.outbox.retry_later(message.id, not_before, reason.value)
                report.retried += 1
                log.info("outbox %s: %s, retry in %.1fs", message.id, reason.value, delay)
            case Permanent(reason=reason):
                await self.outbox.mark_failed(message.id, reason, now)
                report.failed += 1
                log.warning("outbox %s (%s): not deliverable: %s", message.id, message.kind, reason)
                if reason.unreachable:
                    await self._raise_unreachable(message, reason, now)

    async def _raise_unreachable(
        self, message: OutboxMessage, reason: FailureReason, now: datetime
    ) -> None:
        event = Unreachable(message.recipient, reason, message.kind, message.id, now)
        try:
            await self._on_unreachable(event)
        except Exception as exc:
            log.error("outbox %s: unreachable handler raised %s", message.id, type(exc).__name__)

    async def _expire(self, message: OutboxMessage, report: CycleReport) -> None:
        await self.outbox.mark_expired(message.id, self.clock.now())
        report.expired += 1
        log.info("outbox %s (%s): window closed, not delivered", message.id, message.kind)

    def _pause_end(self) -> datetime | None:
        until = self.lane.limiter.paused_until(self.clock.monotonic())
        return None if until is None else self._wall(until)

    def _wall(self, monotonic_instant: float) -> datetime:
        """The wall-clock instant of a monotonic one, for writing into the outbox."""
        return self.clock.now() + timedelta(seconds=monotonic_instant - self.clock.monotonic())
