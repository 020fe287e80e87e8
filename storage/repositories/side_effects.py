"""Side-effect reports: symptom codes, the triage level, any free text, a follow-up instant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from storage.models import SideEffectReportRow
from storage.records import SideEffectReport
from storage.repositories.base import Repository
from storage.sealed import new_id


def to_report(row: SideEffectReportRow) -> SideEffectReport:
    return SideEffectReport(
        id=row.id,
        patient_id=row.patient_id,
        symptoms=tuple(str(code) for code in row.symptoms),
        level=row.level,
        free_text=row.free_text,
        recorded_at=row.recorded_at,
        follow_up_at=row.follow_up_at,
    )


class SideEffectRepository(Repository):
    async def add(
        self,
        patient_id: str,
        *,
        symptoms: Sequence[str],
        level: str,
        free_text: str | None = None,
        follow_up_at: datetime | None = None,
    ) -> SideEffectReport:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = SideEffectReportRow(
                id=new_id(),
                patient_id=patient_id,
                recorded_at=self._now(),
                follow_up_at=follow_up_at,
                symptoms=list(symptoms),
                level=level,
                free_text=free_text,
            )
            session.add(row)
            await session.flush()
            return to_report(row)

    async def for_patient(self, patient_id: str) -> list[SideEffectReport]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(SideEffectReportRow)
                .where(SideEffectReportRow.patient_id == patient_id)
                .order_by(SideEffectReportRow.recorded_at, SideEffectReportRow.id)
            )
            return [to_report(row) for row in rows]
