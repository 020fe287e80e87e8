"""An in-memory `Outbox` for dispatcher tests: a test double, not a product implementation.

It keeps the contract the SQL outbox must keep (claim order, leases, attempts) and refuses calls
on messages the caller has not leased, so a dispatcher that breaks the protocol fails loudly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from scheduler.outbox import FailureReason, Kind, OutboxMessage, Payload


@dataclass
class Row:
    message: OutboxMessage
    seq: int
    state: str = "pending"
    lease_until: datetime | None = None
    telegram_message_id: int | None = None
    failure: FailureReason | None = None
    retry_reasons: list[str] = field(default_factory=list)
    deferrals: int = 0


class MemoryOutbox:
    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self._seq = itertools.count(1)

    def enqueue(
        self,
        recipient: str,
        chat_id: int,
        kind: Kind,
        payload: Payload,
        *,
        not_before: datetime,
        expires_at: datetime | None = None,
        dedupe_key: str | None = None,
        channel: str = "telegram",
    ) -> str | None:
        """Add a message; a second message with the same dedupe key is dropped (None)."""
        if dedupe_key is not None and any(
            r.message.dedupe_key == dedupe_key for r in self.rows.values()
        ):
            return None
        seq = next(self._seq)
        message = OutboxMessage(
            id=f"msg-{seq}",
            recipient=recipient,
            channel=channel,
            address=str(chat_id),
            kind=kind,
            payload=payload,
            not_before=not_before,
            expires_at=expires_at,
            dedupe_key=dedupe_key,
        )
        self.rows[message.id] = Row(message, seq)
        return message.id

    def state(self, message_id: str) -> str:
        return self.rows[message_id].state

    def next_due(self) -> datetime | None:
        pending = [r.message.not_before for r in self.rows.values() if r.state == "pending"]
        return min(pending, default=None)

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, channel: str
    ) -> list[OutboxMessage]:
        due = [
            r
            for r in self.rows.values()
            if r.message.channel == channel
            and r.state == "pending"
            and r.message.not_before <= now
            and (r.lease_until is None or r.lease_until <= now)
        ]
        due.sort(key=lambda r: (r.message.priority, r.message.not_before, r.seq))
        for row in due[:limit]:
            row.lease_until = now + lease
        return [r.message for r in due[:limit]]

    async def mark_sent(
        self, message_id: str, telegram_message_id: int | None, now: datetime
    ) -> None:
        row = self._leased(message_id)
        row.state, row.telegram_message_id, row.lease_until = "sent", telegram_message_id, None

    async def retry_later(self, message_id: str, not_before: datetime, reason: str) -> None:
        row = self._leased(message_id)
        row.message = replace(row.message, attempts=row.message.attempts + 1, not_before=not_before)
        row.retry_reasons.append(reason)
        row.lease_until = None

    async def defer(self, message_id: str, not_before: datetime) -> None:
        row = self._leased(message_id)
        row.message = replace(row.message, not_before=not_before)
        row.deferrals += 1
        row.lease_until = None

    async def mark_failed(self, message_id: str, reason: FailureReason, now: datetime) -> None:
        row = self._leased(message_id)
        row.state, row.failure, row.lease_until = "failed", reason, None

    async def mark_expired(self, message_id: str, now: datetime) -> None:
        row = self._leased(message_id)
        row.state, row.lease_until = "expired", None

    def _leased(self, message_id: str) -> Row:
        row = self.rows[message_id]
        if row.state != "pending" or row.lease_until is None:
            raise AssertionError(f"{message_id} is not leased (state {row.state})")
        return row
