"""The history of weights and tablet counts: one sealed row per entry, a plaintext day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MeasurementRow
from storage.records import (
    Measurement,
    StockChange,
    WeightEntry,
    WeightSource,
    measurement_from_dict,
)
from storage.repositories.base import Repository
from storage.sealed import new_id


def add_rows(session: AsyncSession, patient_id: str, entries: Iterable[Measurement]) -> None:
    """Add entries to the caller's session (its keys already loaded); the day is UTC."""
    for entry in entries:
        session.add(
            MeasurementRow(
                id=new_id(),
                patient_id=patient_id,
                recorded_on=entry.at.date(),
                entry=entry.to_dict(),
            )
        )


class MeasurementRepository(Repository):
    async def add_weight(self, patient_id: str, kg: float, source: WeightSource) -> WeightEntry:
        entry = WeightEntry(self._now(), kg, source)
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            add_rows(session, patient_id, [entry])
            await session.flush()
        return entry

    async def history(self, patient_id: str) -> list[Measurement]:
        """Every entry, oldest first (by the sealed instant: rows of a day are unordered;
        the products of one change by name)."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(MeasurementRow).where(MeasurementRow.patient_id == patient_id)
            )
            entries = [measurement_from_dict(row.entry) for row in rows]
        return sorted(entries, key=_order)

    async def weights(self, patient_id: str) -> list[WeightEntry]:
        return [e for e in await self.history(patient_id) if isinstance(e, WeightEntry)]

    async def stock_changes(self, patient_id: str) -> list[StockChange]:
        return [e for e in await self.history(patient_id) if isinstance(e, StockChange)]


def _order(entry: Measurement) -> tuple[datetime, str]:
    return entry.at, entry.product if isinstance(entry, StockChange) else ""
