"""Dose slots (planned doses with due instants) and dose events (what happened to them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import DoseEventRow, DoseSlotRow, EnrolmentRow
from storage.records import (
    DoseEvent,
    DoseOutcome,
    DoseSlot,
    NewDoseSlot,
    ReportedVia,
    SlotState,
)
from storage.repositories.base import Repository
from storage.sealed import new_id


def to_slot(row: DoseSlotRow) -> DoseSlot:
    return DoseSlot(
        id=row.id,
        patient_id=row.patient_id,
        enrolment_id=row.enrolment_id,
        due_at=row.due_at,
        window_ends_at=row.window_ends_at,
        state=SlotState(row.state),
        next_check_at=row.next_check_at,
        version=row.version,
        dose=row.dose,
    )


def to_event(row: DoseEventRow) -> DoseEvent:
    return DoseEvent(
        id=row.id,
        patient_id=row.patient_id,
        slot_id=row.slot_id,
        outcome=DoseOutcome(row.outcome),
        via=ReportedVia(row.via),
        reported_at=row.reported_at,
        note=row.note,
        recorded_at=row.recorded_at,
    )


class DoseRepository(Repository):
    async def add_slots(
        self, patient_id: str, enrolment_id: str, slots: Sequence[NewDoseSlot]
    ) -> list[DoseSlot]:
        """Materialise planned doses; each is pending and first checked at its due instant."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            owner = await session.scalar(
                select(EnrolmentRow.patient_id).where(EnrolmentRow.id == enrolment_id)
            )
            if owner != patient_id:
                raise NotFound("enrolments", enrolment_id)
            rows = [
                DoseSlotRow(
                    id=new_id(),
                    patient_id=patient_id,
                    enrolment_id=enrolment_id,
                    due_at=slot.due_at,
                    window_ends_at=slot.window_ends_at,
                    state=SlotState.PENDING.value,
                    next_check_at=slot.due_at,
                    version=0,
                    dose=dict(slot.dose),
                )
                for slot in slots
            ]
            session.add_all(rows)
            await session.flush()
            return [to_slot(row) for row in rows]

    async def slot(self, patient_id: str, slot_id: str) -> DoseSlot:
        """A slot, only if it belongs to ``patient_id`` (ids in buttons are client input)."""
        async with self._transaction() as session:
            return to_slot(await self._slot_row(session, patient_id, slot_id))

    async def slots_between(
        self, patient_id: str, start: datetime, end: datetime
    ) -> list[DoseSlot]:
        """Slots due in ``[start, end)``, earliest first."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(DoseSlotRow)
                .where(
                    DoseSlotRow.patient_id == patient_id,
                    DoseSlotRow.due_at >= start,
                    DoseSlotRow.due_at < end,
                )
                .order_by(DoseSlotRow.due_at, DoseSlotRow.id)
            )
            return [to_slot(row) for row in rows]

    async def set_slot_state(
        self,
        slot_id: str,
        *,
        expected_version: int,
        state: SlotState,
        next_check_at: datetime | None,
    ) -> bool:
        """Move a slot on only if nobody else did since ``expected_version`` was read.

        One conditional UPDATE, so two workers (or a worker and a patient's button) cannot both
        win; the loser gets False and re-reads.
        """
        async with self._transaction() as session:
            result = await session.execute(
                update(DoseSlotRow)
                .where(DoseSlotRow.id == slot_id, DoseSlotRow.version == expected_version)
                .values(
                    state=state.value,
                    next_check_at=next_check_at,
                    version=expected_version + 1,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def record(
        self,
        patient_id: str,
        slot_id: str,
        outcome: DoseOutcome,
        via: ReportedVia,
        *,
        reported_at: datetime | None = None,
        note: str | None = None,
    ) -> DoseEvent:
        """Record what happened to a dose and settle its slot, in one transaction.

        1. Check the slot belongs to the patient (a forged button names someone else's slot).
        2. Write the event (sealed: outcome, when the patient says, how, any note).
        3. Set the slot's state to the outcome, stop its timer and bump its version.
        """
        async with self._transaction() as session:
            slot = await self._slot_row(session, patient_id, slot_id, lock=True)
            row = DoseEventRow(
                id=new_id(),
                patient_id=patient_id,
                slot_id=slot_id,
                recorded_at=self._now(),
                outcome=outcome.value,
                via=via.value,
                reported_at=reported_at,
                note=note,
            )
            session.add(row)
            slot.state = SlotState(outcome.value).value
            slot.next_check_at = None
            slot.lease_owner = None
            slot.lease_until = None
            slot.version += 1
            await session.flush()
            return to_event(row)

    async def events(self, patient_id: str, since: datetime | None = None) -> list[DoseEvent]:
        """The patient's dose events, oldest first, optionally from ``since`` on."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            query = select(DoseEventRow).where(DoseEventRow.patient_id == patient_id)
            if since is not None:
                query = query.where(DoseEventRow.recorded_at >= since)
            rows = await session.scalars(query.order_by(DoseEventRow.recorded_at, DoseEventRow.id))
            return [to_event(row) for row in rows]

    async def _slot_row(
        self, session: AsyncSession, patient_id: str, slot_id: str, *, lock: bool = False
    ) -> DoseSlotRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(DoseSlotRow, slot_id, with_for_update=lock)
        if row is None or row.patient_id != patient_id:
            raise NotFound("dose_slots", slot_id)
        return row
