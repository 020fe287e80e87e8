"""One send pace per channel for every process: the turns at which messages may go."""

from __future__ import annotations

import secrets

from sqlalchemy import case, update
from sqlalchemy import exc as sa_exc

from storage.models import SendPaceRow
from storage.repositories.base import Repository


class PaceRepository(Repository):
    async def book(
        self, channel: str, interval: float, now: float, ahead: float, count: int = 1
    ) -> tuple[bool, float]:
        """Take the channel's next `count` turns if the first comes within `ahead` seconds of
        `now` (seconds since the epoch): (True, the first's instant), the others following
        `interval` apart, and the turn after them is free. Otherwise (False, the next free
        turn's instant), to ask again `ahead` before it.

        One statement under the row's lock (every right-hand side reads the row as it was):
        two processes never get turns closer than `interval` apart, whatever their number,
        and a turn is never earlier than `now`."""
        token = secrets.token_hex(16)
        free = SendPaceRow.next_at <= now + ahead
        turn = case((SendPaceRow.next_at > now, SendPaceRow.next_at), else_=now)
        booking = (
            update(SendPaceRow)
            .where(SendPaceRow.channel == channel)
            .values(
                next_at=case((free, turn + count * interval), else_=SendPaceRow.next_at),
                holder=case((free, token), else_=SendPaceRow.holder),
            )
            .returning(SendPaceRow.next_at, SendPaceRow.holder)
        )
        async with self._transaction() as session:
            row = (await session.execute(booking)).first()
            if row is None:
                try:
                    async with session.begin_nested():
                        session.add(
                            SendPaceRow(channel=channel, next_at=now + interval, holder=token)
                        )
                    return True, now
                except sa_exc.IntegrityError:  # another process made the row first
                    row = (await session.execute(booking)).one()
            next_at, holder = float(row[0]), str(row[1])
            if holder == token:
                return True, next_at - count * interval
            return False, next_at
