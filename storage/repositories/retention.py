"""What the retention rule (`scheduler.retention`) keeps about each patient.

Plaintext on ``patients``, for scheduling only: ``seen_on`` (the last UTC day the patient
wrote; a day, so it is written at most once a day) and ``retention_at`` (when the rule next
looks at the patient, at day precision). Sealed under the patient's key, in
``patients.retention``: whether they were told their data will go and on which day
(``notice_on``, ``erase_on``), and the last day they asked to keep it (``kept_on``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import PatientRow
from storage.repositories.base import Repository


@dataclass(frozen=True)
class RetentionState:
    """One patient's facts for the retention rule."""

    patient_id: str
    created_on: date
    seen_on: date | None
    notice_on: date | None = None
    erase_on: date | None = None
    kept_on: date | None = None


def _due(now: datetime, limit: int) -> Select[str]:
    return (
        select(PatientRow.id)
        .where(PatientRow.retention_at <= now)
        .order_by(PatientRow.retention_at)
        .limit(limit)
    )


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


class RetentionRepository(Repository):
    async def seen(self, patient_id: str, today: date) -> None:
        """The patient wrote today: one conditional UPDATE, nothing decrypted; a no-op when
        today is already recorded."""
        async with self._transaction() as session:
            await session.execute(
                update(PatientRow)
                .where(
                    PatientRow.id == patient_id,
                    or_(PatientRow.seen_on.is_(None), PatientRow.seen_on < today),
                )
                .values(seen_on=today)
                .execution_options(synchronize_session=False)
            )

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Patients the rule should look at now, longest waiting first (index order)."""
        async with self._transaction() as session:
            return list(await session.scalars(_due(now, limit)))

    async def claim(self, now: datetime, limit: int, until: datetime) -> list[str]:
        """Take up to ``limit`` of the patients `due` now, longest waiting first, for one
        worker: their next look moves to ``until`` in the same transaction, so another
        worker's claim skips them (on PostgreSQL, rows a concurrent claim holds are skipped
        too, ``FOR UPDATE SKIP LOCKED``; SQLite's ``BEGIN IMMEDIATE`` serialises claims).
        Looking at a patient then saves the real next look; a patient whose look never ends
        (the worker died) comes back at ``until``."""
        async with self._transaction() as session:
            ids = list(await session.scalars(_due(now, limit).with_for_update(skip_locked=True)))
            if ids:
                await session.execute(
                    update(PatientRow)
                    .where(PatientRow.id.in_(ids))
                    .values(retention_at=until)
                    .execution_options(synchronize_session=False)
                )
            return ids

    async def next_due(self) -> datetime | None:
        async with self._transaction() as session:
            found: datetime | None = await session.scalar(select(func.min(PatientRow.retention_at)))
            return found

    async def get(self, patient_id: str) -> RetentionState:
        async with self._transaction() as session:
            row = await self._row(session, patient_id)
            sealed = row.retention if row._retention is not None else {}
            return RetentionState(
                patient_id=row.id,
                created_on=row.created_at.date(),
                seen_on=row.seen_on,
                notice_on=_day(sealed.get("notice_on")),
                erase_on=_day(sealed.get("erase_on")),
                kept_on=_day(sealed.get("kept_on")),
            )

    async def save(self, state: RetentionState, next_look: datetime) -> None:
        """Store what the patient was told or answered, and when the rule looks next."""
        async with self._transaction() as session:
            row = await self._row(session, state.patient_id)
            row.retention = {
                name: None if value is None else value.isoformat()
                for name, value in (
                    ("notice_on", state.notice_on),
                    ("erase_on", state.erase_on),
                    ("kept_on", state.kept_on),
                )
            }
            row.retention_at = next_look
            await session.flush()

    async def _row(self, session: AsyncSession, patient_id: str) -> PatientRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(PatientRow, patient_id)
        if row is None:
            raise NotFound("patients", patient_id)
        return row
