"""The repository base: a repository either owns its transaction or joins the caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.context import StoreContext


class Repository:
    """Bound to a store; each method runs in its own transaction, unless the repository came
    from ``Store.transaction()``, in which case all its calls share that one transaction."""

    def __init__(self, context: StoreContext, session: AsyncSession | None = None) -> None:
        self._context = context
        self._session = session

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        if self._session is not None:
            yield self._session
            return
        async with self._context.transaction() as session:
            yield session

    async def _load_keys(self, session: AsyncSession, patient_ids: Iterable[str]) -> None:
        await self._context.load_keys(session, patient_ids)

    def _now(self) -> datetime:
        return self._context.clock()

    def _today(self) -> datetime:
        """The start of the current UTC day: the precision of instants kept in plaintext only
        to say roughly when (not when a dose was taken or a message answered)."""
        return day_start(self._now())


def day_start(instant: datetime) -> datetime:
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)
