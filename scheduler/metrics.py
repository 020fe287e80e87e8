"""What the operator's Prometheus sees: reminders, the outbox, sends per channel, planning.

No label ever carries a patient, a chat, an address or a text: labels are a channel name, a
message kind and a failure reason, each from a short fixed list, so the series are few and say
nothing about anyone. Counts that live in the database (timers due, the outbox's depth and the
age of its oldest row) are read when Prometheus scrapes, through `StoreCollector`, so every
worker reports the same figures whichever process did the work.

- The engine counts reminders written to the outbox and times planning (`Metrics`).
- `MeteredOutbox` wraps the dispatcher's outbox: sends by kind, and how late each reminder
  went out after its due instant (a histogram).
- `MeteredSender` wraps a channel's sender: flood control (429) and failures per channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scheduler.outbox import FailureReason, Kind, Outbox, OutboxMessage, Payload
from scheduler.sending import (
    Permanent,
    RetryLater,
    RetryReason,
    RowSender,
    Sender,
    SendResult,
    Sent,
)

LATENESS_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600)
"""Seconds after the due instant: the engine aims at 0 (it writes ahead); the rate limits
spread a burst over seconds to minutes; an hour late is an outage."""


class Metrics:
    """The process's metrics, in a registry of their own (tests get a fresh one each)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.reminders_queued = Counter(
            "tbbot_reminders_queued",
            "First reminders written to the outbox by the engine (nudges not counted).",
            registry=self.registry,
        )
        self.nudges_queued = Counter(
            "tbbot_nudges_queued",
            "Nudges written to the outbox by the engine.",
            registry=self.registry,
        )
        self.doses_closed = Counter(
            "tbbot_doses_closed_unanswered",
            "Dose windows that closed with no answer (recorded missed, no reply).",
            registry=self.registry,
        )
        self.sent = Counter(
            "tbbot_messages_sent",
            "Messages delivered, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.reminder_lateness = Histogram(
            "tbbot_reminder_lateness_seconds",
            "From a first reminder's due instant to its delivery.",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.expired = Counter(
            "tbbot_messages_expired",
            "Messages not delivered because their window closed first, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.flood_waits = Counter(
            "tbbot_flood_waits",
            "Sends answered with flood control (HTTP 429: wait), by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.send_failures = Counter(
            "tbbot_send_failures",
            "Sends that failed, by channel and reason (transient ones are retried).",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.planning = Histogram(
            "tbbot_planning_seconds",
            "The horizon job planning one chunk of patients (one transaction).",
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.patients_planned = Counter(
            "tbbot_patients_planned",
            "Patients whose dose slots were planned by the horizon job.",
            registry=self.registry,
        )
        # Every kind the outbox sends has its series from the start (a rate of 0, not a gap).
        # A kept reply was sent directly, never through the outbox: it has none.
        for kind in Kind:
            if kind is not Kind.REPLY:
                self.sent.labels(kind.value)


Snapshot = Callable[[datetime], Awaitable[tuple[int, int, datetime | None]]]


class StoreCollector(Collector):
    """Gauges read from the database at each scrape: open dose timers already due, messages
    waiting in the outbox, and the age of the oldest of them."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._values: tuple[int, int, float] = (0, 0, 0.0)

    async def refresh(self, snapshot: Snapshot) -> None:
        """Read the figures (the scrape handler awaits this before rendering)."""
        now = self._now()
        due, depth, oldest = await snapshot(now)
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        self._values = (due, depth, age)

    def collect(self) -> Iterator[Metric]:
        due, depth, age = self._values
        yield GaugeMetricFamily(
            "tbbot_timers_due", "Open dose timers whose instant has come (engine backlog).", due
        )
        yield GaugeMetricFamily(
            "tbbot_outbox_depth", "Messages waiting to be sent (pending or being sent).", depth
        )
        yield GaugeMetricFamily(
            "tbbot_outbox_oldest_age_seconds",
            "How long the oldest message due for sending has waited (0: none waiting).",
            age,
        )


class MeteredOutbox:
    """The dispatcher's outbox, counting what becomes of each claimed message.

    A message given back to wait (flood control, a retry) comes back with a later
    ``not_before``; lateness is measured from the instant it was first claimed as due, which
    this process remembers until the message is sent, fails or expires.
    """

    def __init__(self, outbox: Outbox, metrics: Metrics) -> None:
        self._outbox = outbox
        self._metrics = metrics
        self._due: dict[str, tuple[Kind, datetime]] = {}

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, channel: str
    ) -> Sequence[OutboxMessage]:
        messages = await self._outbox.claim_due(now, limit, lease, channel)
        for message in messages:
            self._due.setdefault(message.id, (message.kind, message.not_before))
        return messages

    async def mark_sent(
        self, message_id: str, telegram_message_id: int | None, now: datetime
    ) -> None:
        await self._outbox.mark_sent(message_id, telegram_message_id, now)
        claimed = self._due.pop(message_id, None)
        if claimed is None:
            return
        kind, due = claimed
        self._metrics.sent.labels(kind.value).inc()
        if kind is Kind.REMINDER:
            self._metrics.reminder_lateness.observe(max(0.0, (now - due).total_seconds()))

    async def retry_later(self, message_id: str, not_before: datetime, reason: str) -> None:
        await self._outbox.retry_later(message_id, not_before, reason)

    async def defer(self, message_id: str, not_before: datetime) -> None:
        await self._outbox.defer(message_id, not_before)

    async def mark_failed(self, message_id: str, reason: FailureReason, now: datetime) -> None:
        self._due.pop(message_id, None)
        await self._outbox.mark_failed(message_id, reason, now)

    async def mark_expired(self, message_id: str, now: datetime) -> None:
        claimed = self._due.pop(message_id, None)
        await self._outbox.mark_expired(message_id, now)
        if claimed is not None:
            self._metrics.expired.labels(claimed[0].value).inc()


class MeteredSender:
    """A channel's sender, counting flood control and failures under the channel's name."""

    def __init__(self, sender: Sender, metrics: Metrics, channel: str) -> None:
        self._sender = sender
        self._metrics = metrics
        self._channel = channel

    async def send(self, address: str, payload: Payload) -> SendResult:
        return self._count(await self._sender.send(address, payload))

    async def send_row(self, message: OutboxMessage) -> SendResult:
        """A scheduled message, handed on whole to a sender that wants its row (the SMS
        gateway's idempotency key and window: `scheduler.sending.RowSender`)."""
        if isinstance(self._sender, RowSender):
            return self._count(await self._sender.send_row(message))
        return self._count(await self._sender.send(message.address, message.payload))

    def _count(self, result: SendResult) -> SendResult:
        match result:
            case Sent():
                pass
            case RetryLater(reason=RetryReason.FLOOD):
                self._metrics.flood_waits.labels(self._channel).inc()
            case RetryLater(reason=reason):
                self._metrics.send_failures.labels(self._channel, reason.value).inc()
            case Permanent(reason=reason):
                self._metrics.send_failures.labels(self._channel, reason.value).inc()
        return result
