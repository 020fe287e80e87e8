"""The port through which a channel is reached, and what a send can come to.

A channel's `Sender` (Telegram, the terminal, SMS...) carries out a `Payload` for an opaque
address and turns its own errors into one of three outcomes, so the dispatcher's retry rules
are written once, in terms of what the outcome means for the message rather than of any
library's exception classes.

A `Lane` is one channel's way out: its spec, its sender and a rate limiter of its own. The
dispatcher holds one lane per channel; replies to what a person just did go out through the
same lane (`Lane.send_now`), so they share the channel's pace and its error mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from scheduler.channels import ChannelSpec
from scheduler.clock import Clock
from scheduler.outbox import FailureReason, Payload
from scheduler.ratelimit import RateLimiter


class RetryReason(StrEnum):
    FLOOD = "flood"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    NETWORK = "network"
    UNAUTHORIZED = "unauthorized"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class Sent:
    """Delivered. `message_id` is the chat's id for the message, None for a deletion."""

    message_id: int | None


@dataclass(frozen=True)
class RetryLater:
    """Not delivered this time but may be later.

    `after` is set when the server said how long to wait (flood control); otherwise the
    dispatcher chooses the delay.
    """

    reason: RetryReason
    after: float | None = None


@dataclass(frozen=True)
class Permanent:
    """Will never be delivered."""

    reason: FailureReason


SendResult = Sent | RetryLater | Permanent


class Sender(Protocol):
    """One channel's delivery.

    `address` is opaque outside the channel: a Telegram chat id, a phone number in E.164, a
    terminal session. It is decrypted only to be handed to `send`, and never logged. A
    channel that cannot do what a payload asks (edit, delete, an attachment; see its
    `ChannelSpec`) answers `Permanent` rather than pretending.
    """

    async def send(self, address: str, payload: Payload) -> SendResult:
        """Carry out `payload` for `address`. Expected failures are results, never exceptions."""
        ...


@dataclass
class Lane:
    """One channel's way out: what it can do, how to reach it, and its own pace."""

    spec: ChannelSpec
    sender: Sender
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.spec.limits)

    @property
    def name(self) -> str:
        return self.spec.name

    async def send_now(self, clock: Clock, address: str, payload: Payload) -> SendResult:
        """Send an answer at once, within the channel's global pace (`RateLimiter.book_reply`).

        Used for replies to what a person just did; scheduled messages go through the
        dispatcher, which also keeps the per-address interval.
        """
        if not self.spec.length.fits(payload.text):
            return Permanent(FailureReason.BAD_REQUEST)
        mono = clock.monotonic()
        at = self.limiter.book_reply(address, mono)
        if at > mono:
            await clock.sleep(at - mono)
        return await self.sender.send(address, payload)
