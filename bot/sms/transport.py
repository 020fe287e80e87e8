"""The port between the SMS channel and whatever carries the texts: a phone gateway today,
an SMPP link or an aggregator's API tomorrow.

A transport sends one text to one number and says what became of it in the outcomes the
dispatcher already knows (`scheduler.sending`): accepted, retry later, or never. What happens
after acceptance (sent, delivered, failed) comes back asynchronously as `StatusReport`s, and
texts people send come in as `InboundSms`; a transport hands both to the `SmsEvents` it is
given, however it learns of them (the gateway's webhooks, SMPP's ``deliver_sm``, an
aggregator's callbacks). Nothing above this port knows which transport is in use.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scheduler.sending import Permanent, RetryLater


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One text to one number. `id` is ours and makes the send idempotent: a second send with
    the same id (after a crash or a lost answer) must not send the text twice. `valid_until`
    is when the text stops being worth sending (a reminder after its dose window)."""

    id: str
    to: str
    text: str
    valid_until: datetime | None = None

    def __repr__(self) -> str:  # the number and the text never reach a log
        return f"OutgoingSms(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class Accepted:
    """The transport took the text and will try to send it; `StatusReport`s follow."""

    message_id: str


SendOutcome = Accepted | RetryLater | Permanent


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # accepted, not yet handed to the network (the phone may be offline)
    SENT = "sent"  # handed to the network
    DELIVERED = "delivered"  # the handset confirmed it
    FAILED = "failed"  # will not arrive

    @property
    def final(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.FAILED)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What became of a text we sent. `parts` is known once sent; `error` only on failure."""

    message_id: str
    state: DeliveryState
    at: datetime
    parts: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text someone sent. `sender` is E.164; `ref` is unique per delivery attempt of the
    transport's (to drop re-deliveries)."""

    sender: str
    text: str
    received_at: datetime
    ref: str

    def __repr__(self) -> str:
        return f"InboundSms(ref={self.ref!r})"


class SmsEvents(Protocol):
    """Where a transport hands what it hears. Both must be idempotent: transports deliver at
    least once. Returning means the effects are committed."""

    async def received(self, sms: InboundSms) -> None: ...

    async def status(self, report: StatusReport) -> None: ...


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the transport can send now. `detail` is for the operator; never a secret."""

    reachable: bool
    ok: bool
    detail: str


class SmsTransport(Protocol):
    async def send(self, message: OutgoingSms) -> SendOutcome:
        """Hand one text over. Expected failures are outcomes, never exceptions."""
        ...

    async def status(self, message_id: str) -> StatusReport | None:
        """Ask what became of a text (None: the transport does not know it)."""
        ...

    async def health(self) -> Health: ...

    async def close(self) -> None: ...
