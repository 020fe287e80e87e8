"""Dose slots (planned doses with due instants) and dose events (what happened to them)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import DoseEventRow, DoseSlotRow, EnrolmentRow
from storage.records import (
    DoseEvent,
    DoseOutcome,
    DoseSlot,
    NewDoseSlot,
    ReportedVia,
    SlotPhase,
    SlotState,
)
from storage.repositories.base import Repository
from storage.repositories.history import EXACT, blur_at
from storage.sealed import new_id
from storage.session import SessionCrypto

# A blurred slot shows the start of its UTC day: a query by due instant looks a day earlier
# and keeps what is due in its range by the exact instant.
BLURRED_BY = timedelta(days=1)


def _in_order(
    slots: Iterable[DoseSlot], *, since: datetime | None = None, until: datetime | None = None
) -> list[DoseSlot]:
    kept = [
        slot
        for slot in slots
        if (since is None or slot.due_at >= since) and (until is None or slot.due_at < until)
    ]
    return sorted(kept, key=lambda slot: (slot.due_at, slot.id))


def _next_check(phase: str, at: datetime | None) -> datetime | None:
    """A closed slot is checked no more: its column holds only when it is blurred."""
    return None if phase == SlotPhase.CLOSED else at


def state_of(phase: str, outcome: Callable[[], str]) -> SlotState:
    """A slot's state from its plaintext phase and, for a closed slot only, its sealed
    outcome (opened only then: open slots, which the engine reads in bulk, have none)."""
    if phase == SlotPhase.PLANNED:
        return SlotState.PENDING
    if phase == SlotPhase.OPEN:
        return SlotState.REMINDED
    return SlotState(outcome())


def _exact(
    due_at: datetime, window_ends_at: datetime, dose: Mapping[str, Any]
) -> tuple[datetime, datetime, Mapping[str, Any]]:
    """A slot's instants: the plaintext ones, or, once blurred (`storage.repositories.history`),
    the exact ones sealed in its dose; and the dose without them."""
    exact = dose.get(EXACT)
    if not isinstance(exact, dict):
        return due_at, window_ends_at, dose
    rest = {key: value for key, value in dose.items() if key != EXACT}
    due = datetime.fromisoformat(exact["due_at"])
    return due, datetime.fromisoformat(exact["window_ends_at"]), rest


def to_slot(row: DoseSlotRow) -> DoseSlot:
    due_at, window_ends_at, dose = _exact(row.due_at, row.window_ends_at, row.dose)
    return DoseSlot(
        id=row.id,
        patient_id=row.patient_id,
        enrolment_id=row.enrolment_id,
        due_at=due_at,
        window_ends_at=window_ends_at,
        state=state_of(row.state, lambda: row.outcome),
        next_check_at=_next_check(row.state, row.next_check_at),
        version=row.version,
        dose=dose,
    )


SLOT_COLUMNS = (
    DoseSlotRow.id,
    DoseSlotRow.patient_id,
    DoseSlotRow.enrolment_id,
    DoseSlotRow.due_at,
    DoseSlotRow.window_ends_at,
    DoseSlotRow.state,
    DoseSlotRow.next_check_at,
    DoseSlotRow.version,
    DoseSlotRow._dose,
    DoseSlotRow._outcome,
)


def slot_of(crypto: SessionCrypto, row: Any) -> DoseSlot:
    """A slot from a row of `SLOT_COLUMNS`, its dose opened as the ORM would open it."""
    # Unpacked, not read by name: a result row's attribute costs a failed lookup first.
    slot_id, patient_id, enrolment_id, due_at, window_ends_at, phase, at, version, dose, _ = row
    due_at, window_ends_at, dose = _exact(
        due_at,
        window_ends_at,
        DoseSlotRow.dose.open_value(crypto, DoseSlotRow.__tablename__, patient_id, slot_id, dose),
    )
    return DoseSlot(
        id=slot_id,
        patient_id=patient_id,
        enrolment_id=enrolment_id,
        due_at=due_at,
        window_ends_at=window_ends_at,
        state=state_of(
            phase,
            lambda: DoseSlotRow.outcome.open_value(
                crypto, DoseSlotRow.__tablename__, patient_id, slot_id, row[-1]
            ),
        ),
        next_check_at=_next_check(phase, at),
        version=version,
        dose=dose,
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
                    state=SlotPhase.PLANNED.value,
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
                select(DoseSlotRow).where(
                    DoseSlotRow.patient_id == patient_id,
                    DoseSlotRow.due_at >= start - BLURRED_BY,
                    DoseSlotRow.due_at < end,
                )
            )
            return _in_order((to_slot(row) for row in rows), since=start, until=end)

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
        win; the loser gets False and re-reads. Only the phase is written here: a closed
        slot's outcome is sealed by `record`, in the same transaction.
        """
        async with self._transaction() as session:
            result = await session.execute(
                update(DoseSlotRow)
                .where(DoseSlotRow.id == slot_id, DoseSlotRow.version == expected_version)
                .values(
                    state=state.phase.value,
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
        3. Close the slot with the outcome sealed, stop its timer and bump its version.
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
            slot.state = SlotPhase.CLOSED.value
            slot.outcome = outcome.value
            slot.next_check_at = blur_at(slot.due_at)  # see `storage.repositories.history`
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

    async def reschedule(
        self,
        patient_id: str,
        slot_id: str,
        *,
        expected_version: int,
        state: SlotState,
        next_check_at: datetime | None,
        dose: Mapping[str, Any],
    ) -> bool:
        """Change an open slot's timers and sealed dose (a snooze), if it is still at
        ``expected_version``; works whether or not a worker holds a lease on it (the version
        bump makes that worker's own update fail)."""
        async with self._transaction() as session:
            row = await self._slot_row(session, patient_id, slot_id, lock=True)
            if row.version != expected_version:
                return False
            row.state = state.phase.value
            row.next_check_at = next_check_at
            row.lease_owner = None
            row.lease_until = None
            row.version += 1
            row.dose = dict(dose)
            await session.flush()
            return True

    async def slots_of_enrolment(
        self, patient_id: str, enrolment_id: str, *, since: datetime | None = None
    ) -> list[DoseSlot]:
        """The enrolment's slots, earliest first, optionally only those due from ``since``."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            query = select(DoseSlotRow).where(
                DoseSlotRow.patient_id == patient_id, DoseSlotRow.enrolment_id == enrolment_id
            )
            if since is not None:
                query = query.where(DoseSlotRow.due_at >= since - BLURRED_BY)
            return _in_order((to_slot(row) for row in await session.scalars(query)), since=since)

    async def slots_by_id(self, patient_id: str, slot_ids: Collection[str]) -> list[DoseSlot]:
        """The patient's slots among ``slot_ids`` (others' ids are ignored), earliest first."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            found: list[DoseSlotRow] = []
            ids = list(set(slot_ids))
            for start in range(0, len(ids), 500):
                found.extend(
                    await session.scalars(
                        select(DoseSlotRow).where(
                            DoseSlotRow.patient_id == patient_id,
                            DoseSlotRow.id.in_(ids[start : start + 500]),
                        )
                    )
                )
            return _in_order(to_slot(row) for row in found)

    async def remove_pending(self, patient_id: str, slot_ids: Collection[str]) -> int:
        """Delete planned slots that no longer match the plan: only never-reminded ones
        (nothing was sent about them, no event names them)."""
        if not slot_ids:
            return 0
        async with self._transaction() as session:
            result = await session.execute(
                delete(DoseSlotRow)
                .where(
                    DoseSlotRow.patient_id == patient_id,
                    DoseSlotRow.id.in_(list(slot_ids)),
                    DoseSlotRow.state == SlotPhase.PLANNED.value,
                    DoseSlotRow.lease_owner.is_(None),
                )
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))

    async def _slot_row(
        self, session: AsyncSession, patient_id: str, slot_id: str, *, lock: bool = False
    ) -> DoseSlotRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(DoseSlotRow, slot_id, with_for_update=lock)
        if row is None or row.patient_id != patient_id:
            raise NotFound("dose_slots", slot_id)
        return row
