"""Queueing outbox messages, addressed from their recipients' accounts, and withdrawing one
still waiting for its time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import exc as sa_exc

from storage.models import OutboxRow
from storage.records import Address, OutboxEntry, OutboxMessage, OutboxState
from storage.repositories.base import Repository
from storage.repositories.outbox.addresses import addresses_now
from storage.repositories.outbox.entries import to_entry
from storage.repositories.outbox.keys import stored_key, stored_topic
from storage.sealed import new_id


class OutboxQueueing(Repository):
    async def enqueue(self, message: OutboxMessage) -> OutboxEntry | None:
        """Queue a message; None if one with the same ``dedupe_key`` was queued before.

        The insert runs in a savepoint, so a duplicate leaves the caller's transaction usable.
        """
        async with self._transaction() as session:
            await self._load_keys(session, [message.patient_id])
            row = self._new_row(message, await addresses_now(session, [message]))
            try:
                async with session.begin_nested():
                    session.add(row)
            except sa_exc.IntegrityError:
                return None
            return to_entry(row)

    async def enqueue_many(self, messages: Sequence[OutboxMessage]) -> int:
        """Queue several messages with one flush; returns how many were new.

        All are inserted in one savepoint; if any ``dedupe_key`` was queued before, that
        savepoint is rolled back and they are queued one by one (`enqueue`), so the duplicates
        alone are skipped. The engine's batches rarely meet a duplicate, so they pay one flush.
        """
        if not messages:
            return 0
        async with self._transaction() as session:
            await self._load_keys(session, {m.patient_id for m in messages})
            addresses = await addresses_now(session, messages)
            try:
                async with session.begin_nested():
                    session.add_all([self._new_row(m, addresses) for m in messages])
                return len(messages)
            except sa_exc.IntegrityError:
                pass
        return sum([await self.enqueue(m) is not None for m in messages])

    def _new_row(
        self, message: OutboxMessage, addresses: Mapping[tuple[str, str], Address]
    ) -> OutboxRow:
        to = message.to or addresses.get((message.patient_id, message.recipient))
        row = OutboxRow(
            id=new_id(),
            patient_id=message.patient_id,
            recipient=message.recipient,
            kind=message.kind,
            priority=message.priority,
            dedupe_key=stored_key(self._context.blind_index, message.dedupe_key),
            topic=stored_topic(self._context.blind_index, message.dedupe_key),
            dedupe=message.dedupe_key,
            state=OutboxState.PENDING.value,
            not_before=message.not_before,
            expires_at=message.expires_at,
            attempts=0,
            lease_owner=None,
            lease_until=None,
            last_error=None,
            created_at=self._now(),
            sent_at=None,
            payload=dict(message.payload),
            sent_message_id=None,
            channel=None if to is None else to.channel,
        )
        if to is not None:
            row.destination = {"address": to.address, "chat": to.chat}
        return row

    async def cancel_waiting(self, patient_id: str, dedupe_key: str, now: datetime) -> int:
        """Delete the patient's message `dedupe_key` if it is still waiting for a later
        instant (e.g. a reminder written ahead of its due time, for a dose just answered)."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.dedupe_key == stored_key(self._context.blind_index, dedupe_key),
                    OutboxRow.state == OutboxState.PENDING.value,
                    OutboxRow.not_before > now,
                )
            )
            return int(getattr(result, "rowcount", 0))
