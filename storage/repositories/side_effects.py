"""Side-effect reports: symptom codes, the triage level, any free text, a follow-up instant.

Only the day of a report is readable; the instant is sealed, and the follow-up (whose delay is
the triage level's) is a generic timer (``recheck:<report id>``, `storage.repositories.timers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from storage.models import SideEffectReportRow
from storage.records import SideEffectReport
from storage.repositories.base import Repository, day_start
from storage.repositories.timers import TimerRepository, timer_key
from storage.sealed import new_id

RECHECK = "recheck"


def recheck_key(report_id: str) -> str:
    return timer_key(RECHECK, report_id)


def to_report(row: SideEffectReportRow, follow_up_at: datetime | None) -> SideEffectReport:
    return SideEffectReport(
        id=row.id,
        patient_id=row.patient_id,
        symptoms=tuple(str(code) for code in row.symptoms),
        level=row.level,
        free_text=row.free_text,
        recorded_at=row.recorded_at,
        follow_up_at=follow_up_at,
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
            now = self._now()
            row = SideEffectReportRow(
                id=new_id(),
                patient_id=patient_id,
                recorded_on=now.date(),
                recorded_at=now,
                symptoms=list(symptoms),
                level=level,
                free_text=free_text,
            )
            session.add(row)
            await session.flush()
            # The day only: an instant would give the report's time of day away, and asking
            # again is a matter of days.
            follow_up_at = None if follow_up_at is None else day_start(follow_up_at)
            task = {"do": RECHECK, "report": row.id}
            timers = TimerRepository(self._context, session)
            await timers.schedule(patient_id, recheck_key(row.id), follow_up_at, task)
            return to_report(row, follow_up_at)

    async def for_patient(self, patient_id: str) -> list[SideEffectReport]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = list(
                await session.scalars(
                    select(SideEffectReportRow).where(SideEffectReportRow.patient_id == patient_id)
                )
            )
            rows.sort(key=lambda row: (row.recorded_at, row.id))
            timers = TimerRepository(self._context, session)
            due = await timers.due_at([recheck_key(row.id) for row in rows])
            return [to_report(row, due.get(recheck_key(row.id))) for row in rows]
