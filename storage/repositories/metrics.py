"""The few counts the operator's metrics read from the database: plaintext columns only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.models import DoseSlotRow, OutboxRow
from storage.records import OutboxState, SlotPhase
from storage.repositories.base import Repository

_OPEN = (SlotPhase.PLANNED.value, SlotPhase.OPEN.value)
_WAITING = (OutboxState.PENDING.value, OutboxState.LEASED.value)


class MetricsRepository(Repository):
    async def snapshot(self, now: datetime) -> tuple[int, int, datetime | None]:
        """(open dose timers due at ``now``, outbox rows waiting to be sent, the earliest
        instant from which a waiting row was due): three indexed aggregates."""
        async with self._transaction() as session:
            due = await session.scalar(
                select(func.count())
                .select_from(DoseSlotRow)
                .where(DoseSlotRow.state.in_(_OPEN), DoseSlotRow.next_check_at <= now)
            )
            depth = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.state.in_(_WAITING))
            )
            oldest = await session.scalar(
                select(func.min(OutboxRow.not_before)).where(
                    OutboxRow.state.in_(_WAITING), OutboxRow.not_before <= now
                )
            )
            return int(due or 0), int(depth or 0), oldest
