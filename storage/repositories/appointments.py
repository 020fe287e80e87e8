"""Appointments: clinic visits and tests the patient noted, sealed, with the next reminder's
instant as the only plain value (the engine's timer).

`details` is a JSON object the caller owns (`bot.visits` writes what the visit is and when, in
the patient's zone); the store only keeps it sealed. A reminder moves on with `advance`, a
conditional update on the instant it was claimed at, so two workers cannot both take one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from storage.models import AppointmentRow
from storage.repositories.base import Repository
from storage.sealed import new_id


@dataclass(frozen=True)
class Appointment:
    id: str
    patient_id: str
    due_at: datetime | None
    details: Mapping[str, Any]


def _record(row: AppointmentRow) -> Appointment:
    return Appointment(row.id, row.patient_id, row.due_at, dict(row.details))


class AppointmentRepository(Repository):
    async def add(
        self, patient_id: str, details: Mapping[str, Any], due_at: datetime | None
    ) -> Appointment:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = AppointmentRow(id=new_id(), patient_id=patient_id, due_at=due_at)
            row.details = dict(details)
            session.add(row)
            await session.flush()
            return _record(row)

    async def for_patient(self, patient_id: str) -> list[Appointment]:
        """The patient's appointments, in no particular order (the order is sealed)."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(AppointmentRow).where(AppointmentRow.patient_id == patient_id)
            )
            return [_record(row) for row in rows]

    async def cancel(self, patient_id: str, appointment_id: str) -> bool:
        """Delete one of the patient's appointments (another patient's id deletes nothing)."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(AppointmentRow).where(
                    AppointmentRow.id == appointment_id, AppointmentRow.patient_id == patient_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def due(self, now: datetime, limit: int) -> list[Appointment]:
        """Appointments whose reminder instant has come, earliest first."""
        async with self._transaction() as session:
            rows = list(
                await session.scalars(
                    select(AppointmentRow)
                    .where(AppointmentRow.due_at <= now)
                    .order_by(AppointmentRow.due_at, AppointmentRow.id)
                    .limit(limit)
                )
            )
            await self._load_keys(session, {row.patient_id for row in rows})
            return [_record(row) for row in rows]

    async def next_due(self) -> datetime | None:
        async with self._transaction() as session:
            earliest = select(func.min(AppointmentRow.due_at))
            found: datetime | None = await session.scalar(earliest)
            return found

    async def advance(self, appointment_id: str, claimed: datetime, then: datetime | None) -> bool:
        """Move the reminder from `claimed` to `then`, only if nobody moved it meanwhile."""
        async with self._transaction() as session:
            result = await session.execute(
                update(AppointmentRow)
                .where(AppointmentRow.id == appointment_id, AppointmentRow.due_at == claimed)
                .values(due_at=then)
            )
            return bool(getattr(result, "rowcount", 0))
