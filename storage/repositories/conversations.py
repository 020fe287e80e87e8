"""Conversation state per party, with optimistic versions so two workers cannot interleave."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy import exc as sa_exc

from storage.errors import StaleWrite
from storage.models import ConversationRow
from storage.records import Conversation
from storage.repositories.base import Repository
from storage.sealed import new_id


def to_conversation(row: ConversationRow) -> Conversation:
    return Conversation(
        patient_id=row.patient_id,
        party=row.party,
        state=row.state,
        version=row.version,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
    )


class ConversationRepository(Repository):
    async def get(self, patient_id: str, party: str = "patient") -> Conversation | None:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.scalar(
                select(ConversationRow).where(
                    ConversationRow.patient_id == patient_id, ConversationRow.party == party
                )
            )
            return None if row is None else to_conversation(row)

    async def save(
        self,
        patient_id: str,
        state: Mapping[str, Any],
        *,
        party: str = "patient",
        expected_version: int | None,
        expires_at: datetime | None = None,
    ) -> Conversation:
        """Store the new state if nobody saved since ``expected_version`` (None: first save).

        Raises `StaleWrite` when another worker moved the conversation on first.
        """
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.scalar(
                select(ConversationRow)
                .where(ConversationRow.patient_id == patient_id, ConversationRow.party == party)
                .with_for_update()
            )
            current = None if row is None else row.version
            if current != expected_version:
                raise StaleWrite("conversations", party)
            if row is not None:
                row.version += 1
                row.state = dict(state)
                row.updated_at = self._today()  # changed at every turn: only the day
                row.expires_at = expires_at
                await session.flush()
                return to_conversation(row)
            row = ConversationRow(
                id=new_id(),
                patient_id=patient_id,
                party=party,
                version=0,
                state=dict(state),
                updated_at=self._today(),
                expires_at=expires_at,
            )
            try:
                async with session.begin_nested():
                    session.add(row)
            except sa_exc.IntegrityError:
                raise StaleWrite("conversations", party) from None
            return to_conversation(row)

    async def clear(self, patient_id: str, party: str = "patient") -> None:
        async with self._transaction() as session:
            await session.execute(
                delete(ConversationRow).where(
                    ConversationRow.patient_id == patient_id, ConversationRow.party == party
                )
            )
