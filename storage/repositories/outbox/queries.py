"""Read-only outbox queries: entries, what was sent to whom, and the counts for health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.errors import NotFound
from storage.models import OutboxRow
from storage.records import PATIENT, OutboxEntry, OutboxState
from storage.repositories.base import Repository
from storage.repositories.outbox.entries import to_entry
from storage.repositories.outbox.keys import dose_topic


class OutboxQueries(Repository):
    async def get(self, entry_id: str) -> OutboxEntry:
        async with self._transaction() as session:
            row = await session.get(OutboxRow, entry_id)
            if row is None:
                raise NotFound("outbox", entry_id)
            await self._load_keys(session, [row.patient_id])
            return to_entry(row)

    async def for_patient(self, patient_id: str) -> list[OutboxEntry]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.patient_id == patient_id)
                .order_by(OutboxRow.not_before, OutboxRow.id)
            )
            return [to_entry(row) for row in rows]

    async def sent_reminders(self, patient_id: str, slot_id: str) -> list[str]:
        """The channel message ids of the reminders and nudges sent to the patient for one
        dose (keys ``remind:<slot>``, ``remind:<slot>:<n>``, ``nudge:<slot>:...``), oldest first."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.recipient == PATIENT,
                    OutboxRow.state == OutboxState.SENT.value,
                    OutboxRow.topic == dose_topic(self._context.blind_index, slot_id),
                )
                .order_by(OutboxRow.sent_at, OutboxRow.id)
            )
            return [row.sent_message_id for row in rows if row.sent_message_id]

    async def sent_to(self, patient_id: str, recipient: str, since: datetime) -> list[str]:
        """The channel message ids of what was sent to `recipient` since `since` and is still
        in the recipient's chat (not a delete itself), oldest first: what removing a helper
        deletes from their chat."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.recipient == recipient,
                    OutboxRow.state == OutboxState.SENT.value,
                    OutboxRow.sent_at >= since,
                )
                .order_by(OutboxRow.sent_at, OutboxRow.id)
            )
            return [
                row.sent_message_id
                for row in rows
                if row.sent_message_id and row.payload.get("action") != "delete"
            ]

    async def backlog(self, now: datetime) -> tuple[datetime | None, int]:
        """For the health report, through the state index and with nothing decrypted:

        - since when the longest-waiting message has been due (a pending one whose
          ``not_before`` came, first try or retry, or a leased one whose lease ran out):
          this grows when nothing sends; None when nothing waits;
        - how many messages wait for a retry after a failed attempt.
        """
        async with self._transaction() as session:
            pending: datetime | None = await session.scalar(
                select(func.min(OutboxRow.not_before)).where(
                    OutboxRow.state == OutboxState.PENDING.value, OutboxRow.not_before <= now
                )
            )
            stale: datetime | None = await session.scalar(
                select(func.min(OutboxRow.lease_until)).where(
                    OutboxRow.state == OutboxState.LEASED.value, OutboxRow.lease_until < now
                )
            )
            retrying = await session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.state == OutboxState.PENDING.value, OutboxRow.attempts > 0)
            )
        found = [t for t in (pending, stale) if t is not None]
        return (min(found) if found else None), int(retrying or 0)

    async def count_by_state(self) -> dict[OutboxState, int]:
        """How many messages are in each state (plaintext columns only)."""
        async with self._transaction() as session:
            rows = await session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            )
            return {OutboxState(state): int(count) for state, count in rows}
