"""Mood screenings (PHQ-2, PHQ-9): instrument, answers, score and instant sealed; the day
readable."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storage.models import MoodScreeningRow
from storage.records import MoodScreening
from storage.repositories.base import Repository
from storage.sealed import new_id


def to_screening(row: MoodScreeningRow) -> MoodScreening:
    return MoodScreening(
        id=row.id,
        patient_id=row.patient_id,
        instrument=row.instrument,
        answers=tuple(int(answer) for answer in row.answers),
        score=row.score,
        recorded_at=row.recorded_at,
    )


class MoodRepository(Repository):
    async def add(
        self, patient_id: str, *, instrument: str, answers: Sequence[int], score: int
    ) -> MoodScreening:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            now = self._now()
            row = MoodScreeningRow(
                id=new_id(),
                patient_id=patient_id,
                recorded_on=now.date(),
                recorded_at=now,
                instrument=instrument,
                answers=list(answers),
                score=score,
            )
            session.add(row)
            await session.flush()
            return to_screening(row)

    async def for_patient(self, patient_id: str) -> list[MoodScreening]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = list(
                await session.scalars(
                    select(MoodScreeningRow).where(MoodScreeningRow.patient_id == patient_id)
                )
            )
            rows.sort(key=lambda row: (row.recorded_at, row.id))
            return [to_screening(row) for row in rows]
