"""The outbox: messages written in the same transaction as the change that caused them.

Every row is addressed when it is queued: its channel (plaintext, so each channel's dispatcher
lane claims its own rows) and where on that channel (``destination``, sealed), read from the
recipient's account in the same transaction (one query per table for a batch). A patient and
their helper may be on different channels; each row goes out on its recipient's.

Delivery is at least once: a dispatcher claims due messages with a lease (`claim_due`), sends,
then marks each one (`mark_sent_many`, `retry_later`, `defer`, `mark_failed`, `mark_expired`). A
lease that runs out (the worker died mid-send) makes the message claimable again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.errors import NotFound
from storage.models import ChannelIdentityRow, HelperRow, OutboxRow
from storage.records import (
    DIRECT,
    HELPER_PREFIX,
    PATIENT,
    Address,
    Delivery,
    OutboxEntry,
    OutboxMessage,
    OutboxState,
    helper_recipient,
)
from storage.repositories.base import Repository
from storage.sealed import new_id


def to_entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        patient_id=row.patient_id,
        recipient=row.recipient,
        kind=row.kind,
        payload=row.payload,
        dedupe_key=row.dedupe_key,
        priority=row.priority,
        state=OutboxState(row.state),
        not_before=row.not_before,
        expires_at=row.expires_at,
        attempts=row.attempts,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        sent_message_id=row.sent_message_id,
        to=_address_of(row),
    )


def _address_of(row: OutboxRow) -> Address | None:
    if row.channel is None or row._destination is None:
        return None
    to = row.destination
    return Address(row.channel, str(to["address"]), to.get("chat"))


class OutboxRepository(Repository):
    async def enqueue(self, message: OutboxMessage) -> OutboxEntry | None:
        """Queue a message; None if one with the same ``dedupe_key`` was queued before.

        The insert runs in a savepoint, so a duplicate leaves the caller's transaction usable.
        """
        async with self._transaction() as session:
            await self._load_keys(session, [message.patient_id])
            row = self._new_row(message, await self._addresses(session, [message]))
            try:
                async with session.begin_nested():
                    session.add(row)
            except sa_exc.IntegrityError:
                return None
            return to_entry(row)

    async def enqueue_many(self, messages: Sequence[OutboxMessage]) -> int:
        """Queue several messages with one flush; returns how many were new.

        All are inserted in one savepoint; if any ``dedupe_key`` was queued before, that
        savepoint is rolled back and they are queued one by one (`enqueue`), so the duplicates
        alone are skipped. The engine's batches rarely meet a duplicate, so they pay one flush.
        """
        if not messages:
            return 0
        async with self._transaction() as session:
            await self._load_keys(session, {m.patient_id for m in messages})
            addresses = await self._addresses(session, messages)
            try:
                async with session.begin_nested():
                    session.add_all([self._new_row(m, addresses) for m in messages])
                return len(messages)
            except sa_exc.IntegrityError:
                pass
        return sum([await self.enqueue(m) is not None for m in messages])

    def _new_row(
        self, message: OutboxMessage, addresses: Mapping[tuple[str, str], Address]
    ) -> OutboxRow:
        to = message.to or addresses.get((message.patient_id, message.recipient))
        row = OutboxRow(
            id=new_id(),
            patient_id=message.patient_id,
            recipient=message.recipient,
            kind=message.kind,
            priority=message.priority,
            dedupe_key=message.dedupe_key,
            state=OutboxState.PENDING.value,
            not_before=message.not_before,
            expires_at=message.expires_at,
            attempts=0,
            lease_owner=None,
            lease_until=None,
            last_error=None,
            created_at=self._now(),
            sent_at=None,
            payload=dict(message.payload),
            sent_message_id=None,
            channel=None if to is None else to.channel,
        )
        if to is not None:
            row.destination = {"address": to.address, "chat": to.chat}
        return row

    async def cancel_waiting(self, patient_id: str, dedupe_key: str, now: datetime) -> int:
        """Delete the patient's message `dedupe_key` if it is still waiting for a later
        instant (e.g. a reminder written ahead of its due time, for a dose just answered)."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.dedupe_key == dedupe_key,
                    OutboxRow.state == OutboxState.PENDING.value,
                    OutboxRow.not_before > now,
                )
            )
            return int(getattr(result, "rowcount", 0))

    async def get(self, entry_id: str) -> OutboxEntry:
        async with self._transaction() as session:
            row = await session.get(OutboxRow, entry_id)
            if row is None:
                raise NotFound("outbox", entry_id)
            await self._load_keys(session, [row.patient_id])
            return to_entry(row)

    async def for_patient(self, patient_id: str) -> list[OutboxEntry]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.patient_id == patient_id)
                .order_by(OutboxRow.not_before, OutboxRow.id)
            )
            return [to_entry(row) for row in rows]

    async def sent_reminders(self, patient_id: str, slot_id: str) -> list[str]:
        """The channel message ids of the reminders and nudges sent to the patient for one
        dose (keys ``remind:<slot>``, ``remind:<slot>:<n>``, ``nudge:<slot>:...``), oldest first."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.recipient == PATIENT,
                    OutboxRow.state == OutboxState.SENT.value,
                    or_(
                        OutboxRow.dedupe_key == f"remind:{slot_id}",
                        OutboxRow.dedupe_key.startswith(f"remind:{slot_id}:", autoescape=True),
                        OutboxRow.dedupe_key.startswith(f"nudge:{slot_id}:", autoescape=True),
                    ),
                )
                .order_by(OutboxRow.sent_at, OutboxRow.id)
            )
            return [row.sent_message_id for row in rows if row.sent_message_id]

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
            return [self._delivery(row) for row in rows]

    async def _address_late(
        self,
        session: AsyncSession,
        rows: list[OutboxRow],
        unaddressed: list[OutboxRow],
        channel: str | None,
    ) -> list[OutboxRow]:
        """Step 3 of `claim_due`: the rows to deliver now, the others addressed and put back."""
        addresses = await self._addresses(
            session, [(row.patient_id, row.recipient) for row in unaddressed]
        )
        elsewhere: set[str] = set()
        for row in unaddressed:
            to = addresses.get((row.patient_id, row.recipient)) or _legacy_direct(row)
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

    async def backlog(self, now: datetime) -> tuple[datetime | None, int]:
        """For the health report, through the state index and with nothing decrypted:

        - since when the longest-waiting message has been due (a pending one whose
          ``not_before`` came, first try or retry, or a leased one whose lease ran out):
          this grows when nothing sends; None when nothing waits;
        - how many messages wait for a retry after a failed attempt.
        """
        async with self._transaction() as session:
            pending: datetime | None = await session.scalar(
                select(func.min(OutboxRow.not_before)).where(
                    OutboxRow.state == OutboxState.PENDING.value, OutboxRow.not_before <= now
                )
            )
            stale: datetime | None = await session.scalar(
                select(func.min(OutboxRow.lease_until)).where(
                    OutboxRow.state == OutboxState.LEASED.value, OutboxRow.lease_until < now
                )
            )
            retrying = await session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.state == OutboxState.PENDING.value, OutboxRow.attempts > 0)
            )
        found = [t for t in (pending, stale) if t is not None]
        return (min(found) if found else None), int(retrying or 0)

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

    async def count_by_state(self) -> dict[OutboxState, int]:
        """How many messages are in each state (plaintext columns only)."""
        async with self._transaction() as session:
            rows = await session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            )
            return {OutboxState(state): int(count) for state, count in rows}

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

    async def _addresses(
        self,
        session: AsyncSession,
        recipients: Sequence[OutboxMessage] | Sequence[tuple[str, str]],
    ) -> dict[tuple[str, str], Address]:
        """Where each ``(patient id, recipient)`` is reached now: the patient's first identity,
        or the helper's account (a helper of that patient, linked), in one query per table.
        A recipient with no account (yet, or any more) is missing from the answer."""
        pairs = [
            (r.patient_id, r.recipient) if isinstance(r, OutboxMessage) else r for r in recipients
        ]
        patients = {patient_id for patient_id, recipient in pairs if recipient == PATIENT}
        helpers = {
            recipient.removeprefix(HELPER_PREFIX)
            for _, recipient in pairs
            if recipient.startswith(HELPER_PREFIX)
        }
        found: dict[tuple[str, str], Address] = {}
        if patients:
            identities = await session.scalars(
                select(ChannelIdentityRow)
                .where(ChannelIdentityRow.patient_id.in_(patients))
                .order_by(ChannelIdentityRow.created_at.desc(), ChannelIdentityRow.id.desc())
            )
            for identity in identities:  # the earliest of each patient is written last
                found[(identity.patient_id, PATIENT)] = Address(
                    identity.channel, identity.address, identity.chat
                )
        if helpers:
            for helper in await session.scalars(select(HelperRow).where(HelperRow.id.in_(helpers))):
                if helper.channel is not None and helper.address is not None:
                    found[(helper.patient_id, helper_recipient(helper.id))] = Address(
                        helper.channel, helper.address, helper.chat
                    )
        return found

    @staticmethod
    def _delivery(row: OutboxRow) -> Delivery:
        entry = to_entry(row)
        if entry.to is None:
            return Delivery(entry, None, None, None)
        return Delivery(entry, entry.to.channel, entry.to.address, entry.to.chat)


def _legacy_direct(row: OutboxRow) -> Address | None:
    """The address of a direct message queued before revision 0004, kept in its payload."""
    if row.recipient != DIRECT:
        return None
    to = row.payload.get("to") or {}
    if not isinstance(to, dict) or not to.get("channel") or not to.get("address"):
        return None
    return Address(str(to["channel"]), str(to["address"]), to.get("chat"))
