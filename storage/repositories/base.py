"""The repository base: a repository either owns its transaction or joins the caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

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


_DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)
"""What a blurred instant adds per earlier row of its day, to keep the order (`made_on`,
`storage.repositories.history`)."""


async def made_on(
    session: AsyncSession,
    created: InstrumentedAttribute[datetime],
    owner: InstrumentedAttribute[str],
    patient_id: str,
    now: datetime,
) -> datetime:
    """What a patient's new row shows of when it was made (``created``): the UTC day, and
    its place among the patient's rows of that table made that day, not the time.

    The day start plus one microsecond past the latest of the patient's rows of that day
    (`history` blurs a day's doses the same way), so ordering by ``created`` still gives
    the order they were made in: a patient's first account is the one reminders go to, and
    their enrolments are planned oldest first. Two rows made at once for one patient (two
    of their own messages racing) may show the same value; the row id then decides.
    """
    start = day_start(now)
    latest = await session.scalar(
        select(func.max(created)).where(
            owner == patient_id, created >= start, created < start + _DAY
        )
    )
    return start if latest is None else latest + TICK
