"""Queueing outbox messages, addressed from their recipients' accounts, and withdrawing one
still waiting for its time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blind_index import BlindIndex
from storage.errors import NotFound
from storage.models import Base, OutboxRow
from storage.records import Address, OutboxEntry, OutboxMessage, OutboxState
from storage.repositories.base import Repository
from storage.repositories.outbox.addresses import addresses_now
from storage.repositories.outbox.entries import to_entry
from storage.repositories.outbox.keys import stored_key, stored_topic
from storage.sealed import SealedField, new_id
from storage.session import SessionCrypto, session_crypto


class OutboxQueueing(Repository):
    async def enqueue(self, message: OutboxMessage) -> OutboxEntry | None:
        """Queue a message; None if one with the same ``dedupe_key`` was queued before.

        The insert runs in a savepoint, so a duplicate leaves the caller's transaction usable.
        """
        async with self._transaction() as session:
            await self._load_keys(session, [message.patient_id])
            addresses = await addresses_now(session, [message])
            cells = _cells(
                session_crypto(session.sync_session),
                self._context.blind_index,
                message,
                addresses,
                self._now(),
            )
            if not await _insert_new(session, cells):
                return None
            row = await session.get(OutboxRow, cells["id"])
            if row is None:  # inserted just above, in this transaction
                raise NotFound(_TABLE, str(cells["id"]))
            return to_entry(row)

    async def enqueue_many(self, messages: Sequence[OutboxMessage]) -> int:
        """Queue several messages with one INSERT; returns how many were new.

        All are inserted in one savepoint; if any ``dedupe_key`` was queued before, that
        savepoint is rolled back and they are queued one by one (`enqueue`), so the duplicates
        alone are skipped. The engine's batches rarely meet a duplicate, so they pay one
        statement.
        """
        if not messages:
            return 0
        async with self._transaction() as session:
            await self._load_keys(session, {m.patient_id for m in messages})
            addresses = await addresses_now(session, messages)
            crypto = session_crypto(session.sync_session)
            index = self._context.blind_index
            now = self._now()
            # One Core INSERT of sealed cells, not ORM objects: a burst queues thousands
            # of rows that this transaction never reads back.
            rows = [_cells(crypto, index, m, addresses, now) for m in messages]
            try:
                async with session.begin_nested():
                    await session.execute(insert(_OUTBOX), rows)
                return len(messages)
            except sa_exc.IntegrityError:
                pass
        return sum([await self.enqueue(m) is not None for m in messages])

    async def record_sent(self, message: OutboxMessage, message_id: str, at: datetime) -> bool:
        """Keep a message that was sent directly (a reply, not through the outbox) as a sent
        row, addressed to ``message.to``, so it is deleted as sent outbox messages are: when its
        recipient is removed, or its patient forgotten. False if ``dedupe_key`` was kept."""
        async with self._transaction() as session:
            await self._load_keys(session, [message.patient_id])
            crypto = session_crypto(session.sync_session)
            cells = _cells(crypto, self._context.blind_index, message, {}, self._now())
            cells["state"] = OutboxState.SENT.value
            cells["sent_at"] = at
            cells["sent_message_id"] = OutboxRow.sent_message_id.seal_value(
                crypto, _TABLE, message.patient_id, str(cells["id"]), message_id
            )
            return await _insert_new(session, cells)

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


_OUTBOX = Base.metadata.tables[OutboxRow.__tablename__]
_TABLE = OutboxRow.__tablename__


async def _insert_new(session: AsyncSession, cells: Mapping[str, Any]) -> bool:
    """Insert one row in a savepoint; False, and the caller's transaction still usable, if
    its ``dedupe_key`` is there already."""
    try:
        async with session.begin_nested():
            await session.execute(insert(_OUTBOX), [cells])
    except sa_exc.IntegrityError:
        return False
    return True


def _cells(
    crypto: SessionCrypto,
    index: BlindIndex,
    message: OutboxMessage,
    addresses: Mapping[tuple[str, str], Address],
    now: datetime,
) -> dict[str, Any]:
    """The row queueing ``message`` writes, its cells sealed by `OutboxRow`'s fields."""
    to = message.to or addresses.get((message.patient_id, message.recipient))
    row_id = new_id()
    owner = message.patient_id

    def seal(field: SealedField[Any], value: Any) -> bytes:
        return field.seal_value(crypto, _TABLE, owner, row_id, value)

    return {
        "id": row_id,
        "patient_id": owner,
        "recipient": message.recipient,
        "priority": message.priority,
        # Keyed hashes, the key itself sealed: `storage.repositories.outbox.keys`.
        "dedupe_key": stored_key(index, message.dedupe_key),
        "topic": stored_topic(index, message.dedupe_key),
        "state": OutboxState.PENDING.value,
        "not_before": message.not_before,
        "expires_at": message.expires_at,
        "attempts": 0,
        "created_at": now,
        "channel": None if to is None else to.channel,
        # Not given, so NULL: no lease, error, sending or delivery yet (none has a default).
        "kind": seal(OutboxRow.kind, message.kind),
        "dedupe": seal(OutboxRow.dedupe, message.dedupe_key),
        "payload": seal(OutboxRow.payload, dict(message.payload)),
        "sent_message_id": OutboxRow.sent_message_id.blank_value(),
        "destination": None
        if to is None
        else seal(OutboxRow.destination, {"address": to.address, "chat": to.chat}),
    }
