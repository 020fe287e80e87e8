"""Engine wake-ups other than dose slots, in one table that says only when and for whom.

A timer is named by what it is for (``escalate:<incident id>``, ``summary:<helper id>``,
``recheck:<report id>``; see `timer_key`), but that name never reaches the database: the row
id is its keyed hash (the blind index), so the owner of a timer finds it again while a reader
of the database sees random ids, due instants and sealed tasks. One timer per name: scheduling it
again moves it.

Claims work like the dose slots' (`DoseRepository.claim_timers`): a lease with a claim token;
a task that moved or cancelled its own timer while running leaves nothing for `finish` to do.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from storage.models import TimerRow
from storage.records import Timer
from storage.repositories.base import Repository

TIMER_ID_CHARS = 32


def timer_key(task: str, subject_id: str) -> str:
    """The name of the timer that does ``task`` for the row ``subject_id``."""
    return f"{task}:{subject_id}"


def to_timer(row: TimerRow) -> Timer:
    return Timer(id=row.id, patient_id=row.patient_id, due_at=row.due_at, task=row.task)


class TimerRepository(Repository):
    def timer_id(self, key: str) -> str:
        return self._context.blind_index.lookup("timer", key).hex()[:TIMER_ID_CHARS]

    async def schedule(
        self, patient_id: str, key: str, due_at: datetime | None, task: Mapping[str, Any]
    ) -> None:
        """Set (or move) the timer ``key`` to ``due_at``; None cancels it."""
        if due_at is None:
            await self.cancel([key])
            return
        timer_id = self.timer_id(key)
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.get(TimerRow, timer_id, with_for_update=True)
            if row is None:
                row = TimerRow(id=timer_id, patient_id=patient_id)
                session.add(row)
            row.due_at = due_at
            row.lease_owner = None
            row.lease_until = None
            row.task = dict(task)
            await session.flush()

    async def cancel(self, keys: Collection[str]) -> None:
        if not keys:
            return
        async with self._transaction() as session:
            await session.execute(
                delete(TimerRow).where(TimerRow.id.in_([self.timer_id(key) for key in keys]))
            )

    async def due_at(self, keys: Collection[str]) -> dict[str, datetime]:
        """When the timers among ``keys`` that are set are due, by key; nothing decrypted."""
        ids = {self.timer_id(key): key for key in keys}
        if not ids:
            return {}
        async with self._transaction() as session:
            rows = await session.execute(
                select(TimerRow.id, TimerRow.due_at).where(TimerRow.id.in_(list(ids)))
            )
            return {ids[timer_id]: due for timer_id, due in rows}

    async def claim(self, now: datetime, limit: int, lease: timedelta, owner: str) -> list[Timer]:
        """Lease up to ``limit`` due timers to ``owner``, earliest first (expired leases are
        claimed again: a crashed worker's timers come back)."""
        async with self._transaction() as session:
            rows = list(
                await session.scalars(
                    select(TimerRow)
                    .where(
                        TimerRow.due_at <= now,
                        or_(TimerRow.lease_until.is_(None), TimerRow.lease_until < now),
                    )
                    .order_by(TimerRow.due_at, TimerRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                row.lease_owner = owner
                row.lease_until = now + lease
            await session.flush()
            await self._load_keys(session, {row.patient_id for row in rows})
            return [to_timer(row) for row in rows]

    async def finish(self, timer_id: str, owner: str) -> None:
        """Delete a claimed timer once its task ran, unless the task set it again."""
        async with self._transaction() as session:
            await session.execute(
                delete(TimerRow).where(TimerRow.id == timer_id, TimerRow.lease_owner == owner)
            )

    async def lease_owners(self) -> set[str]:
        """The owners of the timer leases held now, live or run out."""
        async with self._transaction() as session:
            owners = await session.scalars(
                select(TimerRow.lease_owner).where(TimerRow.lease_owner.is_not(None)).distinct()
            )
            return {owner for owner in owners if owner is not None}

    async def release_leases(self, owners: Collection[str]) -> int:
        """Clear the timer leases of `owners` (workers known to be dead); how many."""
        if not owners:
            return 0
        async with self._transaction() as session:
            result = await session.execute(
                update(TimerRow)
                .where(TimerRow.lease_owner.in_(list(owners)))
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))

    async def next_due(self, now: datetime) -> datetime | None:
        """When the earliest timer needs attention: its due instant, or when another
        worker's lease on it runs out."""
        async with self._transaction() as session:
            free: datetime | None = await session.scalar(
                select(func.min(TimerRow.due_at)).where(
                    or_(TimerRow.lease_until.is_(None), TimerRow.lease_until < now)
                )
            )
            held: datetime | None = await session.scalar(
                select(func.min(TimerRow.lease_until)).where(TimerRow.lease_until >= now)
            )
            instants = [instant for instant in (free, held) if instant is not None]
            return min(instants) if instants else None
