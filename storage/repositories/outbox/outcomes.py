"""Recording what became of a claimed outbox message: sent, retried later, deferred, failed or
expired, each only while the claimer still holds the lease."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage.errors import NotFound
from storage.models import OutboxRow
from storage.records import OutboxState
from storage.repositories.base import Repository


class OutboxOutcomes(Repository):
    async def mark_sent_many(
        self, sent: Sequence[tuple[str, str | None, datetime, str]]
    ) -> set[str]:
        """Delivered, for several ``(entry id, sent message id, now, owner)`` in one
        transaction; returns the ids recorded. The channel's message id is kept (sealed) so
        the message can be edited or deleted. Only rows whose lease the owner (the claim token)
        still holds: a worker whose lease ran out must not overwrite the result of the worker
        that took over."""
        if not sent:
            return set()
        by_id = {entry_id: (message_id, now, owner) for entry_id, message_id, now, owner in sent}
        async with self._transaction() as session:
            rows = list(
                await session.scalars(
                    select(OutboxRow).where(OutboxRow.id.in_(list(by_id))).with_for_update()
                )
            )
            await self._load_keys(session, {row.patient_id for row in rows})
            done: set[str] = set()
            for row in rows:
                message_id, now, owner = by_id[row.id]
                if row.lease_owner != owner:
                    continue
                row.state = OutboxState.SENT.value
                row.sent_at = now
                row.sent_message_id = message_id
                row.lease_owner = None
                row.lease_until = None
                done.add(row.id)
            await session.flush()
            return done

    async def retry_later(
        self, entry_id: str, not_before: datetime, reason: str, *, owner: str | None = None
    ) -> bool:
        """A transient failure: count the attempt, note the reason code, release until then."""
        return await self._release(entry_id, not_before, attempts=1, last_error=reason, owner=owner)

    async def defer(self, entry_id: str, not_before: datetime, *, owner: str | None = None) -> bool:
        """Release unsent without counting an attempt (rate limited, or told to wait)."""
        return await self._release(entry_id, not_before, attempts=0, last_error=None, owner=owner)

    async def mark_failed(self, entry_id: str, reason: str, *, owner: str | None = None) -> bool:
        """Never to be delivered; ``reason`` is a code, never a message text."""
        return await self._finish(entry_id, OutboxState.FAILED, reason, owner)

    async def mark_expired(self, entry_id: str, *, owner: str | None = None) -> bool:
        return await self._finish(entry_id, OutboxState.EXPIRED, "expired", owner)

    async def _release(
        self,
        entry_id: str,
        not_before: datetime,
        *,
        attempts: int,
        last_error: str | None,
        owner: str | None,
    ) -> bool:
        values: dict[str, Any] = {
            "state": OutboxState.PENDING.value,
            "not_before": not_before,
            "attempts": OutboxRow.attempts + attempts,
            "lease_owner": None,
            "lease_until": None,
        }
        if last_error is not None:
            values["last_error"] = last_error[:64]
        return await self._update(entry_id, values, owner)

    async def _finish(
        self, entry_id: str, state: OutboxState, reason: str, owner: str | None
    ) -> bool:
        return await self._update(
            entry_id,
            {
                "state": state.value,
                "last_error": reason[:64],
                "lease_owner": None,
                "lease_until": None,
            },
            owner,
        )

    async def _update(self, entry_id: str, values: dict[str, Any], owner: str | None) -> bool:
        """One UPDATE; with ``owner``, conditional on the lease (False if it was lost).
        Without, a missing row is `NotFound`."""
        async with self._transaction() as session:
            query = update(OutboxRow).where(OutboxRow.id == entry_id)
            if owner is not None:
                query = query.where(OutboxRow.lease_owner == owner)
            result = await session.execute(
                query.values(values).execution_options(synchronize_session=False)
            )
            changed = bool(getattr(result, "rowcount", 0))
            if not changed and owner is None:
                raise NotFound("outbox", entry_id)
            return changed
