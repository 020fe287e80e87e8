"""Dose slots (planned doses with due instants) and dose events (what happened to them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.expanding import one_of
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
from storage.session import SessionCrypto, session_crypto

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


# `DoseRepository.advance_many`'s one statement: the moves are a JSON array of ``[id,
# expected version, state, next_check_at]`` rows bound as one value, so the statement's text
# and its two bound values are the same whatever the batch's size.
_MOVES = {
    "sqlite": text(
        "UPDATE dose_slots SET state = json_extract(m.value, '$[2]'), "
        "next_check_at = json_extract(m.value, '$[3]'), version = dose_slots.version + 1, "
        "lease_owner = NULL, lease_until = NULL "
        "FROM json_each(:moves) AS m "
        "WHERE dose_slots.id = json_extract(m.value, '$[0]') "
        "AND dose_slots.version = json_extract(m.value, '$[1]') "
        "AND dose_slots.lease_owner = :owner "
        "RETURNING dose_slots.id"
    ),
    "postgresql": text(
        "UPDATE dose_slots SET state = m.v ->> 2, "
        "next_check_at = CAST(m.v ->> 3 AS TIMESTAMP WITH TIME ZONE), "
        "version = dose_slots.version + 1, lease_owner = NULL, lease_until = NULL "
        "FROM json_array_elements(CAST(:moves AS JSON)) AS m(v) "
        "WHERE dose_slots.id = m.v ->> 0 "
        "AND dose_slots.version = CAST(m.v ->> 1 AS INTEGER) "
        "AND dose_slots.lease_owner = :owner "
        "RETURNING dose_slots.id"
    ),
}


def _stored_instant(dialect: Dialect) -> Callable[[datetime | None], str | None]:
    """An instant as text in the form the dialect's ``next_check_at`` column takes it (on
    SQLite the naive UTC text it stores and compares; on PostgreSQL, ISO 8601)."""
    column_type = DoseSlotRow.__table__.c.next_check_at.type
    process = column_type.dialect_impl(dialect).bind_processor(dialect)

    def stored(instant: datetime | None) -> str | None:
        value = instant if process is None else process(instant)
        return None if value is None else value if isinstance(value, str) else value.isoformat()

    return stored


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

    # The reminder engine's timers. A slot whose state is open (pending: not yet reminded;
    # reminded: waiting for an answer) and whose `next_check_at` has come is due. Workers
    # claim due slots with a lease; the claim token (``owner``) and the slot's version make
    # every later change conditional, so a worker whose lease ran out cannot undo another's
    # work, and a patient's answer (which bumps the version) always wins over a timer.

    OPEN_STATES = (SlotPhase.PLANNED.value, SlotPhase.OPEN.value)

    async def claim_timers(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        owner: str,
        *,
        early: timedelta = timedelta(0),
    ) -> list[DoseSlot]:
        """Lease up to ``limit`` due slots to ``owner``, earliest first.

        1. Select open slots with ``next_check_at <= now`` (``<= now + early`` for slots not
           reminded yet, whose first reminder may be written ahead) and no live lease, through
           the (state, next_check_at) index; on PostgreSQL skip rows another worker is
           claiming (``FOR UPDATE SKIP LOCKED``); SQLite's ``BEGIN IMMEDIATE`` serialises
           claims.
        2. Set ``lease_owner = owner`` and ``lease_until = now + lease``; an expired lease is
           simply claimed again (the sweep), which is how a crashed worker's slots come back.
        3. Decrypt and return them.
        """
        async with self._transaction() as session:
            # Columns, not ORM objects: a burst claims thousands of rows, and nothing here
            # changes them through the session.
            rows = (
                await session.execute(
                    select(*SLOT_COLUMNS)
                    .where(
                        or_(
                            and_(
                                DoseSlotRow.state == SlotPhase.OPEN.value,
                                DoseSlotRow.next_check_at <= now,
                            ),
                            and_(
                                DoseSlotRow.state == SlotPhase.PLANNED.value,
                                DoseSlotRow.next_check_at <= now + early,
                            ),
                        ),
                        or_(DoseSlotRow.lease_until.is_(None), DoseSlotRow.lease_until < now),
                    )
                    .order_by(DoseSlotRow.next_check_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            await session.execute(
                update(DoseSlotRow)
                .where(one_of(DoseSlotRow.id, [row[0] for row in rows]))
                .values(lease_owner=owner, lease_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            await self._load_keys(session, {row[1] for row in rows})
            crypto = session_crypto(session.sync_session)
            return [slot_of(crypto, row) for row in rows]

    async def advance(
        self,
        slot_id: str,
        *,
        owner: str,
        expected_version: int,
        state: SlotState,
        next_check_at: datetime | None,
    ) -> bool:
        """Move a claimed slot on and release its lease, only if ``owner`` still holds the lease
        and nobody changed the slot since ``expected_version``. One conditional UPDATE."""
        async with self._transaction() as session:
            result = await session.execute(
                update(DoseSlotRow)
                .where(
                    DoseSlotRow.id == slot_id,
                    DoseSlotRow.version == expected_version,
                    DoseSlotRow.lease_owner == owner,
                )
                .values(
                    state=state.phase.value,
                    next_check_at=next_check_at,
                    version=expected_version + 1,
                    lease_owner=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))

    async def advance_many(
        self, owner: str, moves: Sequence[tuple[str, int, SlotState, datetime | None]]
    ) -> set[str]:
        """`advance` for many claimed slots in one statement: each ``(slot id, expected
        version, state, next_check_at)``. Returns the ids that moved.

        One UPDATE joined to the moves (a JSON array bound as one value, `_MOVES`): the rows
        whose id is given, whose lease is ``owner``'s and whose version is the one expected
        for that id take their own state and check instant, the next version and no lease;
        ``RETURNING id`` says exactly which rows moved. A slot the patient answered in
        between (its version bumped) or another worker took over (its lease) is not among
        them.
        """
        if not moves:
            return set()
        async with self._transaction() as session:
            dialect = self._context.engine.dialect
            stored = _stored_instant(dialect)
            rows = [
                [slot_id, version, state.phase.value, stored(next_check_at)]
                for slot_id, version, state, next_check_at in moves
            ]
            moved = await session.execute(
                _MOVES[dialect.name], {"moves": json.dumps(rows), "owner": owner}
            )
            return set(moved.scalars())

    async def release(self, slot_id: str, owner: str) -> None:
        """Give a claimed slot back unchanged (e.g. its processing failed): due again at once."""
        async with self._transaction() as session:
            await session.execute(
                update(DoseSlotRow)
                .where(DoseSlotRow.id == slot_id, DoseSlotRow.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

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

    async def next_check(
        self, now: datetime, *, early: timedelta = timedelta(0)
    ) -> datetime | None:
        """When the earliest open slot needs attention: its ``next_check_at`` (``early``
        before it for a slot not reminded yet, as `claim_timers` takes them), or, if another
        worker holds it, when that lease runs out. Three indexed MIN queries."""
        async with self._transaction() as session:
            free_at: list[datetime] = []
            for phase, ahead in ((SlotPhase.PLANNED, early), (SlotPhase.OPEN, timedelta(0))):
                found = await session.scalar(
                    select(func.min(DoseSlotRow.next_check_at)).where(
                        DoseSlotRow.state == phase.value,
                        DoseSlotRow.next_check_at.is_not(None),
                        or_(DoseSlotRow.lease_until.is_(None), DoseSlotRow.lease_until < now),
                    )
                )
                if found is not None:
                    free_at.append(found - ahead)
            free = min(free_at, default=None)
            held = await session.scalar(
                select(func.min(DoseSlotRow.lease_until)).where(
                    DoseSlotRow.state.in_(self.OPEN_STATES),
                    DoseSlotRow.next_check_at.is_not(None),
                    DoseSlotRow.lease_until >= now,
                )
            )
            instants = [instant for instant in (free, held) if instant is not None]
            return min(instants) if instants else None

    async def count_first_due(self, now: datetime, until: datetime) -> int:
        """How many slots not reminded yet come due by ``until`` and are free to claim (at
        ``now``): the size of the coming burst, for the engine's lead (`scheduler.lead`).
        One count over the (state, next_check_at) index."""
        async with self._transaction() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(DoseSlotRow)
                .where(
                    DoseSlotRow.state == SlotPhase.PLANNED.value,
                    DoseSlotRow.next_check_at <= until,
                    or_(DoseSlotRow.lease_until.is_(None), DoseSlotRow.lease_until < now),
                )
            )
            return int(found or 0)

    async def sweep_leases(self, now: datetime) -> int:
        """Clear leases that ran out (their worker died); returns how many."""
        async with self._transaction() as session:
            result = await session.execute(
                update(DoseSlotRow)
                .where(
                    DoseSlotRow.state.in_(self.OPEN_STATES),
                    DoseSlotRow.lease_until < now,
                )
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))

    async def oldest_overdue(self, now: datetime) -> datetime | None:
        """The earliest `next_check_at` of an open slot that is due by `now` and not claimed
        under a live lease; None when the engine is up to date. For the health report."""
        async with self._transaction() as session:
            found: datetime | None = await session.scalar(
                select(func.min(DoseSlotRow.next_check_at)).where(
                    DoseSlotRow.state.in_(self.OPEN_STATES),
                    DoseSlotRow.next_check_at <= now,
                    or_(DoseSlotRow.lease_until.is_(None), DoseSlotRow.lease_until < now),
                )
            )
            return found

    async def lease_owners(self) -> set[str]:
        """The owners of the slot leases held now, live or run out."""
        async with self._transaction() as session:
            owners = await session.scalars(
                select(DoseSlotRow.lease_owner)
                .where(
                    DoseSlotRow.state.in_(self.OPEN_STATES),  # through the state index
                    DoseSlotRow.lease_owner.is_not(None),
                )
                .distinct()
            )
            return {owner for owner in owners if owner is not None}

    async def release_leases(self, owners: Collection[str]) -> int:
        """Clear the slot leases of `owners` (workers known to be dead), so their slots are
        claimed at once instead of when the leases run out; returns how many."""
        if not owners:
            return 0
        async with self._transaction() as session:
            result = await session.execute(
                update(DoseSlotRow)
                .where(
                    DoseSlotRow.state.in_(self.OPEN_STATES),
                    DoseSlotRow.lease_owner.in_(list(owners)),
                )
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))

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
