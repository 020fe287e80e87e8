"""Several phones sharing the load: each number always hears from the same phone.

Sticky, not round-robin: a person replies to the number that texted them, and a patient who
received reminders from two numbers would not know which one is the bot. So a number's phone
is chosen by a hash of the number (stable across restarts and workers), and the dispatcher's
pace for the channel is the phones' paces added up. A phone that is down holds up only the
people it serves; their texts wait in the outbox until it is back.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

from bot.sms.transport import Health, OutgoingSms, SendOutcome, SmsTransport, StatusReport


class PooledTransport:
    def __init__(self, phones: Sequence[SmsTransport]) -> None:
        if not phones:
            raise ValueError("a pool needs at least one phone")
        self.phones = tuple(phones)

    def phone_for(self, number: str) -> SmsTransport:
        digest = hashlib.sha256(number.encode()).digest()
        return self.phones[int.from_bytes(digest[:8], "big") % len(self.phones)]

    async def send(self, message: OutgoingSms) -> SendOutcome:
        return await self.phone_for(message.to).send(message)

    async def status(self, message_id: str) -> StatusReport | None:
        for phone in self.phones:
            report = await phone.status(message_id)
            if report is not None:
                return report
        return None

    async def health(self) -> Health:
        """Healthy when every phone is; the detail names the phones by their position."""
        checks = await asyncio.gather(*(phone.health() for phone in self.phones))
        if len(checks) == 1:
            return checks[0]
        detail = "; ".join(f"phone {n}: {h.detail}" for n, h in enumerate(checks, 1))
        return Health(
            reachable=all(h.reachable for h in checks), ok=all(h.ok for h in checks), detail=detail
        )

    async def close(self) -> None:
        for phone in self.phones:
            await phone.close()
