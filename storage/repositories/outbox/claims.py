"""Claiming due outbox messages with a lease, and putting back those whose lease ran out or
whose worker died."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import OutboxRow
from storage.records import Delivery, OutboxState
from storage.repositories.base import Repository
from storage.repositories.outbox.addresses import addresses_now, legacy_direct
from storage.repositories.outbox.entries import delivery_of


class OutboxClaims(Repository):
    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, owner: str, channel: str | None = None
    ) -> list[Delivery]:
        """Lease up to ``limit`` due messages to ``owner`` and say where each one goes.

        1. Select pending messages with ``not_before <= now``, and leased ones whose lease ran
           out, for ``channel`` (None: every channel), most urgent first (priority, then
           not_before, then age). Rows not yet addressed (queued before revision 0004, or to
           a recipient who had no account then) are taken by every channel. On PostgreSQL rows
           another worker holds are skipped (``FOR UPDATE SKIP LOCKED``); SQLite's
           ``BEGIN IMMEDIATE`` lets one worker claim at a time.
        2. Lease them: state ``leased``, ``lease_owner``, ``lease_until = now + lease``.
        3. Address the rows that had no address, from their recipient's account now (one query
           per table for the batch); one that turns out to be for another channel is put back
           for that channel's lane, unleased.
        4. Decrypt each row's destination.
        """
        async with self._transaction() as session:
            due = or_(
                and_(OutboxRow.state == OutboxState.PENDING.value, OutboxRow.not_before <= now),
                and_(OutboxRow.state == OutboxState.LEASED.value, OutboxRow.lease_until < now),
            )
            if channel is not None:
                due = and_(due, or_(OutboxRow.channel == channel, OutboxRow.channel.is_(None)))
            rows = list(
                await session.scalars(
                    select(OutboxRow)
                    .where(due)
                    .order_by(OutboxRow.priority, OutboxRow.not_before, OutboxRow.created_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return []
            await self._load_keys(session, {row.patient_id for row in rows})
            leased: dict[str, Any] = {
                "state": OutboxState.LEASED.value,
                "lease_owner": owner,
                "lease_until": now + lease,
            }
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([row.id for row in rows]))
                .values(leased)
                .execution_options(synchronize_session=False)
            )
            for row in rows:
                for name, value in leased.items():
                    set_committed_value(row, name, value)
            unaddressed = [row for row in rows if row.channel is None]
            if unaddressed:
                rows = await self._address_late(session, rows, unaddressed, channel)
            return [delivery_of(row) for row in rows]

    async def _address_late(
        self,
        session: AsyncSession,
        rows: list[OutboxRow],
        unaddressed: list[OutboxRow],
        channel: str | None,
    ) -> list[OutboxRow]:
        """Step 3 of `claim_due`: the rows to deliver now, the others addressed and put back."""
        addresses = await addresses_now(
            session, [(row.patient_id, row.recipient) for row in unaddressed]
        )
        elsewhere: set[str] = set()
        for row in unaddressed:
            to = addresses.get((row.patient_id, row.recipient)) or legacy_direct(row)
            if to is None:
                continue
            row.channel = to.channel
            row.destination = {"address": to.address, "chat": to.chat}
            if channel is not None and to.channel != channel:
                row.state = OutboxState.PENDING.value
                row.lease_owner = None
                row.lease_until = None
                elsewhere.add(row.id)
        await session.flush()
        return [row for row in rows if row.id not in elsewhere]

    async def next_due(self, now: datetime) -> datetime | None:
        """When the dispatcher next has work: the earliest pending ``not_before``, or the end
        of the earliest live lease (a worker may die holding it). Indexed MIN queries."""
        async with self._transaction() as session:
            pending = await session.scalar(
                select(func.min(OutboxRow.not_before)).where(
                    OutboxRow.state == OutboxState.PENDING.value
                )
            )
            leased = await session.scalar(
                select(func.min(OutboxRow.lease_until)).where(
                    OutboxRow.state == OutboxState.LEASED.value
                )
            )
            instants = [instant for instant in (pending, leased) if instant is not None]
            return min(instants) if instants else None

    async def sweep_leases(self, now: datetime) -> int:
        """Put messages whose lease ran out (the worker died mid-send) back in the queue.

        `claim_due` also takes them, so this is housekeeping that keeps states honest for
        monitoring; returns how many rows were re-queued.
        """
        async with self._transaction() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.state == OutboxState.LEASED.value, OutboxRow.lease_until < now)
                .values(state=OutboxState.PENDING.value, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))

    async def lease_owners(self) -> set[str]:
        """The owners of the leases held now, live or run out."""
        async with self._transaction() as session:
            owners = await session.scalars(
                select(OutboxRow.lease_owner)
                .where(OutboxRow.state == OutboxState.LEASED.value)
                .distinct()
            )
            return {owner for owner in owners if owner is not None}

    async def release_leases(self, owners: Collection[str]) -> int:
        """Put the messages leased by `owners` (workers known to be dead) back in the queue
        at once, instead of when their leases run out; returns how many."""
        if not owners:
            return 0
        async with self._transaction() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.state == OutboxState.LEASED.value,
                    OutboxRow.lease_owner.in_(list(owners)),
                )
                .values(state=OutboxState.PENDING.value, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))
