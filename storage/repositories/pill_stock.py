"""Pill stock: tablets left per product, one sealed row per patient."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from storage.models import PillStockRow
from storage.records import PillStock
from storage.repositories.base import Repository
from storage.sealed import new_id


def to_stock(row: PillStockRow) -> PillStock:
    return PillStock(
        patient_id=row.patient_id,
        counts={str(name): int(count) for name, count in row.counts.items()},
        updated_at=row.updated_at,
    )


class PillStockRepository(Repository):
    async def set(self, patient_id: str, counts: Mapping[str, int]) -> PillStock:
        """Replace the patient's stock counts."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.scalar(
                select(PillStockRow).where(PillStockRow.patient_id == patient_id).with_for_update()
            )
            if row is None:
                row = PillStockRow(id=new_id(), patient_id=patient_id)
                session.add(row)
            row.counts = dict(counts)
            row.updated_at = self._today()  # updated with each dose taken: only the day
            await session.flush()
            return to_stock(row)

    async def get(self, patient_id: str) -> PillStock | None:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.scalar(
                select(PillStockRow).where(PillStockRow.patient_id == patient_id)
            )
            return None if row is None else to_stock(row)
