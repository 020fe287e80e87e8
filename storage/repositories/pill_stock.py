"""Pill stock: tablets left per product, one sealed row per patient, and every change of it
in the history (`storage.repositories.measurements`), written in the same transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select

from storage.models import PillStockRow
from storage.records import PillStock, StockChange
from storage.repositories.base import Repository
from storage.repositories.measurements import add_rows
from storage.sealed import new_id
from treatment.stock import Movement


def to_stock(row: PillStockRow) -> PillStock:
    return PillStock(
        patient_id=row.patient_id,
        counts={str(name): int(count) for name, count in row.counts.items()},
        updated_at=row.updated_at,
    )


class PillStockRepository(Repository):
    async def set(
        self,
        patient_id: str,
        counts: Mapping[str, int],
        movement: Movement,
        *,
        touched: Collection[str] = (),
        short: Collection[str] = (),
    ) -> PillStock:
        """Replace the patient's stock counts, and add to the history one change per product
        whose count moved, and per product in `touched` (a recount that found the count the
        bot expected is still a count). `short`: products a dose found empty."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.scalar(
                select(PillStockRow).where(PillStockRow.patient_id == patient_id).with_for_update()
            )
            if row is None:
                row = PillStockRow(id=new_id(), patient_id=patient_id)
                session.add(row)
                before: dict[str, int] = {}
            else:
                before = {str(name): int(count) for name, count in row.counts.items()}
            now = self._now()
            row.counts = dict(counts)
            row.updated_at = self._today()  # updated with each dose taken: only the day
            add_rows(
                session,
                patient_id,
                [
                    StockChange(
                        now,
                        product,
                        movement,
                        count - before.get(product, 0),
                        count,
                        short=product in short,
                    )
                    for product, count in sorted(counts.items())
                    if count != before.get(product, 0) or product in touched or product in short
                ],
            )
            await session.flush()
            return to_stock(row)

    async def get(self, patient_id: str) -> PillStock | None:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.scalar(
                select(PillStockRow).where(PillStockRow.patient_id == patient_id)
            )
            return None if row is None else to_stock(row)
