"""What the SMS channel keeps: webhooks seen, segments sent, STOP, the last menu per number, and
the numbers helpers asked the bot to text first.

Phone numbers arrive here already in E.164 (`bot.sms.phone.to_e164`) and leave only as their
blind index value: no table here holds a number, readable or sealed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy import exc as sa_exc

from storage.blind_index import normalise
from storage.models import (
    SmsFirstContactRow,
    SmsMenuRow,
    SmsStopRow,
    SmsUsageRow,
    SmsWebhookReceiptRow,
)
from storage.repositories.base import Repository
from storage.sealed import new_id

FIRST_CONTACT_KEPT = timedelta(days=30)


class FirstContact(enum.StrEnum):
    """What became of a helper's ask to text a number first."""

    NEW = "new"  # recorded: send the one invitation
    ALREADY = "already"  # the number was invited within `FIRST_CONTACT_KEPT`: send nothing
    LIMIT = "limit"  # the asker asked for too many numbers lately: nothing recorded


class Claim(enum.StrEnum):
    """What became of an attempt to start handling a webhook."""

    NEW = "new"  # first time seen (or a crashed attempt's lease ran out): handle it
    DONE = "done"  # handled before: answer 2xx and do nothing
    BUSY = "busy"  # being handled right now by another request: ask for a retry


class SmsRepository(Repository):
    def _lookup(self, number: str) -> bytes:
        return self._context.blind_index.lookup("sms", normalise("sms", number))

    # --- webhook receipts ------------------------------------------------------------------

    async def claim_webhook(self, digest: str, event: str, lease: timedelta) -> Claim:
        """Start handling the webhook with envelope hash `digest`, unless it was handled.

        Steps (one transaction):
        1. Insert a receipt with a lease. It is new: handle it.
        2. The insert collides: a receipt exists. If it was handled, it is a duplicate.
        3. If its lease has not run out, another request is handling it right now.
        4. Otherwise the earlier attempt died before finishing: take a new lease, handle it.
        """
        now = self._now()
        async with self._transaction() as session:
            try:
                async with session.begin_nested():
                    session.add(
                        SmsWebhookReceiptRow(
                            digest=digest, event=event, received_at=now, lease_until=now + lease
                        )
                    )
                return Claim.NEW
            except sa_exc.IntegrityError:
                pass
            row = await session.get(SmsWebhookReceiptRow, digest, with_for_update=True)
            if row is None:  # pruned between the two statements
                return Claim.BUSY
            if row.handled_at is not None:
                return Claim.DONE
            if row.lease_until is not None and row.lease_until > now:
                return Claim.BUSY
            row.lease_until = now + lease
            return Claim.NEW

    async def finish_webhook(self, digest: str) -> None:
        """Mark the webhook handled (in the caller's transaction, with its effects)."""
        async with self._transaction() as session:
            await session.execute(
                update(SmsWebhookReceiptRow)
                .where(SmsWebhookReceiptRow.digest == digest)
                .values(handled_at=self._now(), lease_until=None)
            )

    async def release_webhook(self, digest: str) -> None:
        """Handling failed: let the gateway's next retry handle it again at once."""
        async with self._transaction() as session:
            await session.execute(
                update(SmsWebhookReceiptRow)
                .where(
                    SmsWebhookReceiptRow.digest == digest,
                    SmsWebhookReceiptRow.handled_at.is_(None),
                )
                .values(lease_until=None)
            )

    async def prune_webhooks(self, before: datetime) -> int:
        """Forget receipts older than the gateway's whole retry schedule."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(SmsWebhookReceiptRow).where(SmsWebhookReceiptRow.received_at < before)
            )
            return int(getattr(result, "rowcount", 0))

    # --- segments sent ---------------------------------------------------------------------

    async def count_sent(
        self, number: str, day: date, segments: int, *, patient_id: str | None = None
    ) -> None:
        """Add one message of `segments` segments to `number`'s count for `day`."""
        lookup = self._lookup(number)
        key = day.isoformat()
        async with self._transaction() as session:
            result = await session.execute(
                update(SmsUsageRow)
                .where(SmsUsageRow.lookup == lookup, SmsUsageRow.day == key)
                .values(
                    messages=SmsUsageRow.messages + 1,
                    segments=SmsUsageRow.segments + segments,
                )
            )
            if getattr(result, "rowcount", 0):
                return
            try:
                async with session.begin_nested():
                    session.add(
                        SmsUsageRow(
                            lookup=lookup,
                            day=key,
                            patient_id=patient_id,
                            messages=1,
                            segments=segments,
                        )
                    )
            except sa_exc.IntegrityError:
                # Another worker inserted the day's row first: add to it.
                await session.execute(
                    update(SmsUsageRow)
                    .where(SmsUsageRow.lookup == lookup, SmsUsageRow.day == key)
                    .values(
                        messages=SmsUsageRow.messages + 1,
                        segments=SmsUsageRow.segments + segments,
                    )
                )

    async def segments_on(self, number: str, day: date) -> int:
        async with self._transaction() as session:
            value = await session.scalar(
                select(SmsUsageRow.segments).where(
                    SmsUsageRow.lookup == self._lookup(number),
                    SmsUsageRow.day == day.isoformat(),
                )
            )
            return int(value or 0)

    async def segments_in_month(self, number: str, year: int, month: int) -> int:
        first = date(year, month, 1)
        after = date(year + month // 12, month % 12 + 1, 1)
        async with self._transaction() as session:
            value = await session.scalar(
                select(func.sum(SmsUsageRow.segments)).where(
                    SmsUsageRow.lookup == self._lookup(number),
                    SmsUsageRow.day >= first.isoformat(),
                    SmsUsageRow.day < after.isoformat(),
                )
            )
            return int(value or 0)

    async def month_totals(self, year: int, month: int) -> tuple[int, int]:
        """Messages and segments sent to everyone in a month (for the operator's bill)."""
        first = date(year, month, 1)
        after = date(year + month // 12, month % 12 + 1, 1)
        async with self._transaction() as session:
            row = (
                await session.execute(
                    select(func.sum(SmsUsageRow.messages), func.sum(SmsUsageRow.segments)).where(
                        SmsUsageRow.day >= first.isoformat(), SmsUsageRow.day < after.isoformat()
                    )
                )
            ).one()
            return int(row[0] or 0), int(row[1] or 0)

    async def month_per_number(self, year: int, month: int) -> list[int]:
        """Segments sent to each number texted in a month, smallest first: counts only, no
        number and no lookup value leaves here."""
        first = date(year, month, 1)
        after = date(year + month // 12, month % 12 + 1, 1)
        async with self._transaction() as session:
            rows = await session.scalars(
                select(func.sum(SmsUsageRow.segments))
                .where(SmsUsageRow.day >= first.isoformat(), SmsUsageRow.day < after.isoformat())
                .group_by(SmsUsageRow.lookup)
            )
            return sorted(int(value or 0) for value in rows)

    # --- STOP ------------------------------------------------------------------------------

    async def stop(self, number: str, *, patient_id: str | None = None) -> bool:
        """Record a STOP; False if the number had already stopped (confirm only once)."""
        async with self._transaction() as session:
            try:
                async with session.begin_nested():
                    session.add(
                        SmsStopRow(
                            lookup=self._lookup(number),
                            patient_id=patient_id,
                            stopped_at=self._now(),
                        )
                    )
            except sa_exc.IntegrityError:
                return False
            return True

    async def resume(self, number: str) -> bool:
        """START after STOP; False if the number had not stopped."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(SmsStopRow).where(SmsStopRow.lookup == self._lookup(number))
            )
            return bool(getattr(result, "rowcount", 0))

    async def stopped(self, number: str) -> bool:
        async with self._transaction() as session:
            found = await session.scalar(
                select(SmsStopRow.lookup).where(SmsStopRow.lookup == self._lookup(number))
            )
            return found is not None

    # --- first contacts asked by helpers ----------------------------------------------------

    async def first_contact(
        self, number: str, asker: tuple[str, str], *, limit: int, per: timedelta
    ) -> FirstContact:
        """Record that the account `asker` (channel, address) asks to text `number` first.

        Steps:
        1. Asks older than `FIRST_CONTACT_KEPT` are deleted on the way (no lookup lingers).
        2. An asker with `limit` asks within `per` is refused, and nothing is recorded.
        3. The ask is recorded (it counts towards the asker's limit either way); the number
           gets its invitation only if nobody asked for it within `FIRST_CONTACT_KEPT`.
        """
        now = self._now()
        lookup = self._lookup(number)
        channel, address = asker
        by = self._context.blind_index.lookup(channel, normalise(channel, address))
        async with self._transaction() as session:
            await session.execute(
                delete(SmsFirstContactRow).where(
                    SmsFirstContactRow.asked_at < now - FIRST_CONTACT_KEPT
                )
            )
            asked = await session.scalar(
                select(func.count())
                .select_from(SmsFirstContactRow)
                .where(SmsFirstContactRow.asker == by, SmsFirstContactRow.asked_at > now - per)
            )
            if (asked or 0) >= limit:
                return FirstContact.LIMIT
            before = await session.scalar(
                select(func.count())
                .select_from(SmsFirstContactRow)
                .where(SmsFirstContactRow.lookup == lookup)
            )
            session.add(SmsFirstContactRow(lookup=lookup, asker=by, asked_at=now))
            await session.flush()
            return FirstContact.ALREADY if before else FirstContact.NEW

    async def prune_first_contacts(self, now: datetime) -> int:
        """Delete the asks older than `FIRST_CONTACT_KEPT`, so no lookup value lingers even
        when nobody asks again; how many."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(SmsFirstContactRow).where(
                    SmsFirstContactRow.asked_at < now - FIRST_CONTACT_KEPT
                )
            )
            return int(getattr(result, "rowcount", 0))

    # --- the last menu ---------------------------------------------------------------------

    async def save_menu(
        self, number: str, patient_id: str, menu: Mapping[str, Any], expires_at: datetime
    ) -> None:
        """Replace the menu last sent to `number`, sealed under `patient_id`'s key."""
        lookup = self._lookup(number)
        async with self._transaction() as session:
            await session.execute(delete(SmsMenuRow).where(SmsMenuRow.lookup == lookup))
            await self._load_keys(session, [patient_id])
            row = SmsMenuRow(
                id=new_id(), lookup=lookup, patient_id=patient_id, expires_at=expires_at
            )
            row.menu = dict(menu)
            session.add(row)

    async def menu(self, number: str) -> tuple[str, dict[str, Any]] | None:
        """The patient a menu concerns and the menu, if one is open for `number`."""
        async with self._transaction() as session:
            row = await session.scalar(
                select(SmsMenuRow).where(
                    SmsMenuRow.lookup == self._lookup(number), SmsMenuRow.expires_at > self._now()
                )
            )
            if row is None:
                return None
            await self._load_keys(session, [row.patient_id])
            return row.patient_id, dict(row.menu)

    async def clear_menu(self, number: str) -> None:
        async with self._transaction() as session:
            await session.execute(
                delete(SmsMenuRow).where(SmsMenuRow.lookup == self._lookup(number))
            )

    async def forget_number(self, number: str) -> None:
        """Remove everything kept about a number (FORGET by SMS, or a helper who left)."""
        lookup = self._lookup(number)
        async with self._transaction() as session:
            for model in (SmsMenuRow, SmsStopRow, SmsUsageRow, SmsFirstContactRow):
                await session.execute(delete(model).where(model.lookup == lookup))
