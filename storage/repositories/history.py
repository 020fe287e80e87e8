"""Blurring the past: the instants that show when a patient takes their doses, kept exact in
plaintext only while the engine needs them.

A dose slot's due instant (UTC), the instant its answer was recorded and the instants of its
messages give away the local dose time to anyone who guesses the time zone. The engine needs
them while the dose can still change (its window, a late report up to 3 days after); the
records need the exact time for ever, and get it sealed. When a slot closes, its
``next_check_at`` is set to `blur_at` (a day, 8 days after its due day: the only instant a
closed slot shows), and the sweep (`HistoryRepository.blur`) then:

1. moves the slot's exact due instant and window end into its sealed dose (under ``_exact``;
   `storage.repositories.doses` reads them back) and leaves in plaintext only the UTC day
   start plus k microseconds, k = 1, 2, ... for the enrolment's doses of that day in due
   order, so the unique (enrolment, due instant) index holds and the order is kept; its
   ``window_ends_at`` is set to the same value and ``next_check_at`` cleared;
2. sets the ``recorded_at`` of every dose event the patient recorded on the days of this
   slot's events to the day start plus k microseconds in recorded order (all of a day at
   once, so "the latest answer" stays the latest; the sealed ``reported_at`` keeps when the
   patient said it happened);
3. sets the instants of the patient's finished messages (sent, failed, expired) created in
   the week up to that day to the start of their day.

A reader of the database then sees, for the past, which days had doses and how many, not when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update

from storage.models import Base, DoseEventRow, DoseSlotRow, OutboxRow
from storage.records import OutboxState, SlotPhase
from storage.repositories.base import TICK, Repository, day_start
from storage.session import session_crypto

EXACT = "_exact"
"""The key of a blurred slot's sealed dose that holds its exact instants."""
BLUR_AFTER = timedelta(days=8)
_FINISHED = (OutboxState.SENT.value, OutboxState.FAILED.value, OutboxState.EXPIRED.value)
_SLOTS = DoseSlotRow.__tablename__


def blur_at(due_at: datetime) -> datetime:
    """When a slot closed now stops showing its exact instants (a day start)."""
    return day_start(due_at) + BLUR_AFTER


class HistoryRepository(Repository):
    async def blur(self, now: datetime, limit: int = 200) -> int:
        """Blur up to ``limit`` closed slots whose `blur_at` has come; returns how many."""
        async with self._transaction() as session:
            slots = (
                await session.execute(
                    select(
                        DoseSlotRow.id,
                        DoseSlotRow.patient_id,
                        DoseSlotRow.enrolment_id,
                        DoseSlotRow.due_at,
                        DoseSlotRow.window_ends_at,
                        DoseSlotRow._dose,
                    )
                    .where(
                        DoseSlotRow.state == SlotPhase.CLOSED.value,
                        DoseSlotRow.next_check_at <= now,
                    )
                    .order_by(DoseSlotRow.next_check_at, DoseSlotRow.due_at)
                    .limit(limit)
                )
            ).all()
            if not slots:
                return 0
            await self._load_keys(session, {slot.patient_id for slot in slots})
            crypto = session_crypto(session.sync_session)
            for slot in slots:
                dose = DoseSlotRow.dose.open_value(
                    crypto, _SLOTS, slot.patient_id, slot.id, slot._dose
                )
                dose[EXACT] = {
                    "due_at": slot.due_at.isoformat(),
                    "window_ends_at": slot.window_ends_at.isoformat(),
                }
                shown = await self._next_tick(session, slot.enrolment_id, day_start(slot.due_at))
                await session.execute(
                    update(DoseSlotRow)
                    .where(DoseSlotRow.id == slot.id)
                    .values(
                        {
                            DoseSlotRow.due_at: shown,
                            DoseSlotRow.window_ends_at: shown,
                            DoseSlotRow.next_check_at: None,
                            DoseSlotRow._dose: DoseSlotRow.dose.seal_value(
                                crypto, _SLOTS, slot.patient_id, slot.id, dose
                            ),
                        }
                    )
                    .execution_options(synchronize_session=False)
                )
                days = await self._event_days(session, slot.id)
                await self._blur_events(session, slot.patient_id, days)
                await self._blur_messages(session, slot.patient_id, day_start(slot.due_at))
            return len(slots)

    async def _next_tick(self, session: Any, enrolment_id: str, day: datetime) -> datetime:
        """The day start plus one microsecond more than the enrolment's doses of that day
        already blurred."""
        shown = await session.scalar(
            select(DoseSlotRow.due_at)
            .where(
                DoseSlotRow.enrolment_id == enrolment_id,
                DoseSlotRow.due_at > day,
                DoseSlotRow.due_at < day + timedelta(seconds=1),
            )
            .order_by(DoseSlotRow.due_at.desc())
            .limit(1)
        )
        latest: datetime = shown if shown is not None else day
        return latest + TICK

    async def _event_days(self, session: Any, slot_id: str) -> set[datetime]:
        recorded = await session.scalars(
            select(DoseEventRow.recorded_at).where(DoseEventRow.slot_id == slot_id)
        )
        return {day_start(at) for at in recorded}

    async def _blur_events(self, session: Any, patient_id: str, days: Iterable[datetime]) -> None:
        table = Base.metadata.tables[DoseEventRow.__tablename__]
        moves: list[dict[str, Any]] = []
        for day in days:
            events = (
                await session.execute(
                    select(DoseEventRow.id, DoseEventRow.recorded_at)
                    .where(
                        DoseEventRow.patient_id == patient_id,
                        DoseEventRow.recorded_at >= day,
                        DoseEventRow.recorded_at < day + timedelta(days=1),
                    )
                    .order_by(DoseEventRow.recorded_at, DoseEventRow.id)
                )
            ).all()
            moves.extend(
                {"b_id": event_id, "b_at": day + TICK * n}
                for n, (event_id, _) in enumerate(events, start=1)
            )
        if moves:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(recorded_at=bindparam("b_at")),
                moves,
            )

    async def _blur_messages(self, session: Any, patient_id: str, day: datetime) -> None:
        rows = (
            await session.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.not_before,
                    OutboxRow.created_at,
                    OutboxRow.sent_at,
                    OutboxRow.delivery_at,
                ).where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.state.in_(_FINISHED),
                    and_(
                        OutboxRow.created_at >= day - timedelta(days=7),
                        OutboxRow.created_at < day + timedelta(days=1),
                    ),
                )
            )
        ).all()
        moves = [_day_of_each(row) for row in rows if _exact_somewhere(row[1:])]
        if moves:
            table = Base.metadata.tables[OutboxRow.__tablename__]
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    not_before=bindparam("b_not_before"),
                    created_at=bindparam("b_created_at"),
                    sent_at=bindparam("b_sent_at"),
                    delivery_at=bindparam("b_delivery_at"),
                ),
                moves,
            )


def _exact_somewhere(instants: Sequence[datetime | None]) -> bool:
    return any(at is not None and at != day_start(at) for at in instants)


def _day_of_each(row: Any) -> dict[str, Any]:
    def day(at: datetime | None) -> datetime | None:
        return None if at is None else day_start(at)

    return {
        "b_id": row.id,
        "b_not_before": day(row.not_before),
        "b_created_at": day(row.created_at),
        "b_sent_at": day(row.sent_at),
        "b_delivery_at": day(row.delivery_at),
    }
