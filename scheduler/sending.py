"""The port through which the dispatcher reaches a chat, and what a send can come to.

A channel adapter (Telegram today, SMS later) turns its own errors into one of three outcomes,
so the dispatcher's retry rules are written once, in terms of what the outcome means for the
message rather than of any library's exception classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from scheduler.outbox import FailureReason, Payload


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
    async def send(self, chat_id: int, payload: Payload) -> SendResult:
        """Carry out `payload` in `chat_id`. Expected failures are results, never exceptions."""
        ...
