"""Which Telegram updates were received by webhook, so that each is handled once.

Telegram delivers an update again until one delivery is answered 2xx, and any process behind
the webhook may get the re-delivery. A row per update id, claimed under a lease, makes every
process agree: the first to claim handles it, a delivery arriving meanwhile is told to come
back later, and one arriving after the handler died (its lease run out or given back) is
handled again. Rows hold the id and the hour only, and are pruned once Telegram has stopped
re-delivering.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy import exc as sa_exc

from storage.models import TelegramUpdateRow
from storage.repositories.base import Repository


class UpdateClaim(enum.StrEnum):
    """What became of an attempt to start handling an update."""

    NEW = "new"  # first delivery, or the last handling never finished: handle it now
    DONE = "done"  # handled before: answer 2xx and do nothing
    BUSY = "busy"  # another process is handling it right now: ask Telegram to retry
    GIVE_UP = "give_up"  # handling failed too often: stop, so Telegram stops re-delivering


@dataclass(frozen=True)
class Claimed:
    outcome: UpdateClaim
    attempt: int  # how many handlings this one makes (1 for the first)
    holder: str | None = None  # BUSY: who holds the lease


def _hour(instant: datetime) -> datetime:
    return instant.replace(minute=0, second=0, microsecond=0)


class TelegramUpdateRepository(Repository):
    async def claim(
        self, update_id: int, owner: str, lease: timedelta, *, max_attempts: int
    ) -> Claimed:
        """Start handling `update_id` as `owner`, unless it was handled or is being handled.

        Steps (one transaction):
        1. Insert the row with a lease: a first delivery, handle it.
        2. The insert collides: the row exists (locked from here). Handled: a duplicate.
        3. Its lease has not run out: another process handles it now.
        4. Handlings started `max_attempts` times already: give up.
        5. Otherwise the earlier handling died or failed: take a new lease, handle it again.
        """
        now = self._now()
        async with self._transaction() as session:
            try:
                async with session.begin_nested():
                    session.add(
                        TelegramUpdateRow(
                            update_id=update_id,
                            seen_hour=_hour(now),
                            done=False,
                            attempts=1,
                            lease_owner=owner,
                            lease_until=now + lease,
                        )
                    )
                return Claimed(UpdateClaim.NEW, 1)
            except sa_exc.IntegrityError:
                pass
            row = await session.get(TelegramUpdateRow, update_id, with_for_update=True)
            if row is None:  # pruned between the two statements: long handled
                return Claimed(UpdateClaim.DONE, 0)
            if row.done:
                return Claimed(UpdateClaim.DONE, row.attempts)
            if row.lease_until is not None and row.lease_until > now:
                return Claimed(UpdateClaim.BUSY, row.attempts, row.lease_owner)
            if row.attempts >= max_attempts:
                return Claimed(UpdateClaim.GIVE_UP, row.attempts)
            row.attempts += 1
            row.lease_owner = owner
            row.lease_until = now + lease
            return Claimed(UpdateClaim.NEW, row.attempts)

    async def finish(self, update_id: int) -> None:
        """The update's effects are committed: later deliveries are duplicates."""
        async with self._transaction() as session:
            await session.execute(
                update(TelegramUpdateRow)
                .where(TelegramUpdateRow.update_id == update_id)
                .values(done=True, lease_owner=None, lease_until=None)
            )

    async def release(self, update_id: int, owner: str) -> None:
        """Handling failed with nothing committed: the next delivery handles it at once."""
        async with self._transaction() as session:
            await session.execute(
                update(TelegramUpdateRow)
                .where(
                    TelegramUpdateRow.update_id == update_id,
                    TelegramUpdateRow.lease_owner == owner,
                    TelegramUpdateRow.done.is_(False),
                )
                .values(lease_owner=None, lease_until=None)
            )

    async def is_done(self, update_id: int) -> bool:
        async with self._transaction() as session:
            done = await session.scalar(
                select(TelegramUpdateRow.done).where(TelegramUpdateRow.update_id == update_id)
            )
            return bool(done)

    async def prune(self, before: datetime) -> int:
        """Forget updates first seen before `before` (Telegram re-delivers for a day at most)."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(TelegramUpdateRow).where(TelegramUpdateRow.seen_hour < _hour(before))
            )
            return int(getattr(result, "rowcount", 0))

    async def lease_owners(self) -> set[str]:
        """The owners of the update leases held now, live or run out."""
        async with self._transaction() as session:
            owners = await session.scalars(
                select(TelegramUpdateRow.lease_owner)
                .where(TelegramUpdateRow.lease_owner.is_not(None))
                .distinct()
            )
            return {owner for owner in owners if owner is not None}

    async def release_leases(self, owners: Collection[str]) -> int:
        """Clear the update leases of `owners` (processes known to be dead), so a re-delivery
        is handled at once instead of when the lease runs out; returns how many."""
        if not owners:
            return 0
        async with self._transaction() as session:
            result = await session.execute(
                update(TelegramUpdateRow)
                .where(
                    TelegramUpdateRow.done.is_(False),
                    TelegramUpdateRow.lease_owner.in_(list(owners)),
                )
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0))
