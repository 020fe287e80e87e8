"""The reminder engine's side of the dose slots: the timers it claims, moves on and gives
back. The patient's side (slots planned, answered, snoozed, shown) is `storage.repositories.doses`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.engine import Dialect

from storage.expanding import one_of
from storage.models import DoseSlotRow
from storage.records import DoseSlot, SlotPhase, SlotState
from storage.repositories.base import Repository
from storage.repositories.doses import SLOT_COLUMNS, slot_of
from storage.session import session_crypto

# `DoseTimerRepository.advance_many`'s one statement: the moves are a JSON array of ``[id,
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


class DoseTimerRepository(Repository):
    # A slot whose state is open (pending: not yet reminded;
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
