"""Enrolments: a patient's course of treatment, sealed as ``Enrolment.to_dict()`` JSON.

The treatment domain owns the format (versioned, see `treatment.enrolment`); the store keeps it
opaque and encrypted, and reads it back through ``Enrolment.from_dict``, which validates it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import EnrolmentRow
from storage.records import EnrolmentRecord
from storage.repositories.base import Repository, day_start, made_on
from storage.sealed import new_id
from storage.session import SessionCrypto
from treatment.enrolment import Enrolment


def to_enrolment(row: EnrolmentRow) -> EnrolmentRecord:
    return EnrolmentRecord(
        id=row.id,
        patient_id=row.patient_id,
        active=row.active,
        enrolment=Enrolment.from_dict(row.plan),
        created_at=_made_at(row),
        updated_at=row.updated_at,
        planned_until=row.planned_until,
    )


def _made_at(row: EnrolmentRow) -> datetime:
    try:
        return row.created_exact
    except AttributeError:  # NULL in the column and nothing pending: see `made_at`
        return row.created_at


def made_at(
    crypto: SessionCrypto, patient_id: str, row_id: str, sealed: bytes | None, day: datetime
) -> datetime:
    """When an enrolment read as columns was made: its sealed exact instant, or the readable
    day for a row written around the store without one (revision 0016 sealed every row
    before it)."""
    if sealed is None:
        return day
    return EnrolmentRow.created_exact.open_value(crypto, _TABLE, patient_id, row_id, sealed)


_TABLE = EnrolmentRow.__tablename__


class EnrolmentRepository(Repository):
    async def add(self, patient_id: str, enrolment: Enrolment) -> EnrolmentRecord:
        """Store a new active enrolment."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            now = self._now()
            row = EnrolmentRow(
                id=new_id(),
                patient_id=patient_id,
                active=True,
                created_at=await made_on(
                    session, EnrolmentRow.created_at, EnrolmentRow.patient_id, patient_id, now
                ),
                updated_at=day_start(now),
                plan=enrolment.to_dict(),
                created_exact=now,
            )
            session.add(row)
            await session.flush()
            return to_enrolment(row)

    async def get(self, patient_id: str, enrolment_id: str) -> EnrolmentRecord:
        async with self._transaction() as session:
            return to_enrolment(await self._row(session, patient_id, enrolment_id))

    async def active(self, patient_id: str) -> list[EnrolmentRecord]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(EnrolmentRow)
                .where(EnrolmentRow.patient_id == patient_id, EnrolmentRow.active.is_(True))
                .order_by(EnrolmentRow.created_at, EnrolmentRow.id)
            )
            return [to_enrolment(row) for row in rows]

    async def replace(
        self, patient_id: str, enrolment_id: str, enrolment: Enrolment
    ) -> EnrolmentRecord:
        """Store a changed enrolment (a pause, a weight, a zone change, a switch)."""
        async with self._transaction() as session:
            row = await self._row(session, patient_id, enrolment_id)
            row.plan = enrolment.to_dict()
            row.updated_at = self._today()
            await session.flush()
            return to_enrolment(row)

    async def end(self, patient_id: str, enrolment_id: str) -> EnrolmentRecord:
        async with self._transaction() as session:
            row = await self._row(session, patient_id, enrolment_id)
            row.active = False
            row.updated_at = self._today()
            await session.flush()
            return to_enrolment(row)

    async def mark_planned(self, enrolment_id: str, until: datetime | None) -> None:
        """Note how far the enrolment's dose slots are materialised (plaintext, no decryption)."""
        async with self._transaction() as session:
            await session.execute(
                update(EnrolmentRow)
                .where(EnrolmentRow.id == enrolment_id)
                .values(planned_until=until)
            )

    async def due_for_planning(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        """(patient id, enrolment id) of active enrolments planned only up to before ``before``
        (or never), at most ``limit``: never planned first, then least planned first.

        Two queries that read the (active, planned_until) index in order and stop at
        ``limit`` rows, so the horizon job touches only the enrolments it plans, whatever
        the number of patients (one query with OR and ORDER BY would sort every candidate).
        """
        async with self._transaction() as session:
            never = await session.execute(
                select(EnrolmentRow.patient_id, EnrolmentRow.id)
                .where(EnrolmentRow.active.is_(True), EnrolmentRow.planned_until.is_(None))
                .limit(limit)
            )
            found = [(patient_id, enrolment_id) for patient_id, enrolment_id in never]
            if len(found) < limit:
                short = await session.execute(
                    select(EnrolmentRow.patient_id, EnrolmentRow.id)
                    .where(EnrolmentRow.active.is_(True), EnrolmentRow.planned_until < before)
                    .order_by(EnrolmentRow.planned_until)
                    .limit(limit - len(found))
                )
                found.extend((patient_id, enrolment_id) for patient_id, enrolment_id in short)
            return found

    async def _row(self, session: AsyncSession, patient_id: str, enrolment_id: str) -> EnrolmentRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(EnrolmentRow, enrolment_id)
        if row is None or row.patient_id != patient_id:
            raise NotFound("enrolments", enrolment_id)
        return row
