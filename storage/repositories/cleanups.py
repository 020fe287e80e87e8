"""Chat clean-ups that outlive a patient: deletions in helpers' (and the patient's own) chats
still to be done after the patient was forgotten, and a last message to the patient (the
retention rule's "erased, as announced").

Forgetting a patient deletes every row that holds their id, the outbox included, so a delete
queued there would vanish with the data it is about. Such work is moved, in the forget's own
transaction (`leftovers`), to ``chat_cleanups``: rows with no patient id, each sealed under the
store key ``after_forget`` (bound to its table, column and row id), holding only the address
on the channel and the payload (a deletion names a message id, nothing else). A row goes as
soon as it is done, refused by the channel, or past the time the channel allows.

Claims are optimistic: a worker moves ``next_try_at`` past its lease only if no other worker
moved it first, so two workers do not both carry out one row (and if a crash makes a row come
back, a second deletion of one message is harmless).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import crypto
from storage.context import StoreContext
from storage.errors import IntegrityError, StoreError
from storage.models import ChatCleanupRow, OutboxRow
from storage.records import PATIENT, Address, OutboxState
from storage.repositories.base import Repository
from storage.repositories.outbox.addresses import addresses_now
from storage.repositories.outbox.entries import to_entry
from storage.sealed import new_id

CLEANUP_KEY = "after_forget"  # a store key name; "cleanup" is a message kind the scans look for
"""The name of the store key that seals ``chat_cleanups.target``."""
UNBOUNDED_FOR = timedelta(days=7)
"""How long a clean-up on a channel that deletes without a time limit is tried."""
LAST_WORD_FOR = timedelta(days=1)
"""How long a last message to a forgotten patient is tried."""
_DELETE = "delete"


@dataclass(frozen=True)
class NewCleanup:
    to: Address
    payload: Mapping[str, Any]
    next_try_at: datetime
    not_after: datetime


@dataclass(frozen=True)
class ChatCleanup:
    """One claimed clean-up: where (`address` is what the channel's sender takes) and what."""

    id: str
    channel: str
    address: str
    payload: Mapping[str, Any]
    attempts: int
    not_after: datetime


def _cipher(context: StoreContext) -> AESGCM:
    if context.cleanup_cipher is None:
        raise StoreError("the chat clean-up key is not loaded: open the store with Store.open")
    return context.cleanup_cipher


def _aad(row_id: str) -> bytes:
    return crypto.cell_aad(ChatCleanupRow.__tablename__, "target", row_id)


def seal_row(context: StoreContext, item: NewCleanup) -> ChatCleanupRow:
    row_id = new_id()
    target = {"address": item.to.address, "chat": item.to.chat, "payload": dict(item.payload)}
    plain = json.dumps(target, separators=(",", ":"), sort_keys=True).encode()
    return ChatCleanupRow(
        id=row_id,
        channel=item.to.channel,
        next_try_at=item.next_try_at,
        not_after=item.not_after,
        attempts=0,
        target=crypto.seal(_cipher(context), plain, _aad(row_id)),
    )


def _open(context: StoreContext, row: ChatCleanupRow) -> ChatCleanup:
    try:
        target = json.loads(crypto.unseal(_cipher(context), row.target, _aad(row.id)))
    except crypto.AuthenticationFailed:
        raise IntegrityError(ChatCleanupRow.__tablename__, "target", row.id) from None
    return ChatCleanup(
        id=row.id,
        channel=row.channel,
        address=str(target["chat"] or target["address"]),
        payload=target["payload"],
        attempts=row.attempts,
        not_after=row.not_after,
    )


async def leftovers(
    session: AsyncSession,
    patient_id: str,
    windows: Mapping[str, timedelta | None],
    now: datetime,
) -> list[NewCleanup]:
    """What forgetting `patient_id` must leave to be done, from their outbox (the patient's
    data key loaded in `session`); `windows` maps each channel that deletes to how long after
    sending it still can (None: no limit).

    1. Every message sent to someone other than the patient (their helpers, or an account
       written to directly) that its channel can still delete: a deletion of it, to be tried
       until the channel's limit.
    2. Every deletion still queued (a removed helper's chat, a discreet message due to go
       from the patient's own chat): the same deletion, at its own time.
    Messages whose address is not known (queued before revision 0004) are left alone.
    """
    if not windows:
        return []
    widest = max((w for w in windows.values() if w is not None), default=None)
    query = select(OutboxRow).where(OutboxRow.patient_id == patient_id)
    if widest is not None and None not in windows.values():
        query = query.where(or_(OutboxRow.sent_at.is_(None), OutboxRow.sent_at >= now - widest))
    entries = [to_entry(row) for row in await session.scalars(query)]
    unrouted = [e for e in entries if e.to is None and e.state is not OutboxState.SENT]
    routes = await addresses_now(session, [(e.patient_id, e.recipient) for e in unrouted])
    found: list[NewCleanup] = []
    for entry in entries:
        deleting = entry.payload.get("action") == _DELETE
        if entry.state is OutboxState.SENT:
            to = entry.to
            if deleting or entry.recipient == PATIENT or to is None or to.channel not in windows:
                continue
            if not entry.sent_message_id or entry.sent_at is None:
                continue
            window = windows[to.channel]
            if window is not None and entry.sent_at < now - window:
                continue
            until = entry.sent_at + (window or UNBOUNDED_FOR)
            payload = {"action": _DELETE, "target_message_id": int(entry.sent_message_id)}
            found.append(NewCleanup(to, payload, now, until))
        elif deleting and entry.state in (OutboxState.PENDING, OutboxState.LEASED):
            to = entry.to or routes.get((entry.patient_id, entry.recipient))
            if to is None or to.channel not in windows:
                continue
            at = max(now, entry.not_before)
            found.append(
                NewCleanup(to, entry.payload, at, at + (windows[to.channel] or UNBOUNDED_FOR))
            )
    return found


async def last_word(
    session: AsyncSession, patient_id: str, payload: Mapping[str, Any], now: datetime
) -> list[NewCleanup]:
    """A last message to the patient's own account (none if they have no account)."""
    to = (await addresses_now(session, [(patient_id, PATIENT)])).get((patient_id, PATIENT))
    if to is None:
        return []
    return [NewCleanup(to, payload, now, now + LAST_WORD_FOR)]


class CleanupRepository(Repository):
    async def add_many(self, items: Sequence[NewCleanup]) -> int:
        async with self._transaction() as session:
            session.add_all([seal_row(self._context, item) for item in items])
            await session.flush()
            return len(items)

    async def claim_due(
        self, now: datetime, *, channels: Collection[str], limit: int, lease: timedelta
    ) -> list[ChatCleanup]:
        """Up to `limit` due clean-ups on `channels`, each held for `lease` (see the module
        docstring); those past their time are deleted on the way, untried."""
        if not channels:
            return []
        async with self._transaction() as session:
            await session.execute(delete(ChatCleanupRow).where(ChatCleanupRow.not_after < now))
            rows = list(
                await session.scalars(
                    select(ChatCleanupRow)
                    .where(
                        ChatCleanupRow.next_try_at <= now,
                        ChatCleanupRow.channel.in_(list(channels)),
                    )
                    .order_by(ChatCleanupRow.next_try_at)
                    .limit(limit)
                )
            )
            claimed = []
            for row in rows:
                moved = await session.execute(
                    update(ChatCleanupRow)
                    .where(
                        ChatCleanupRow.id == row.id,
                        ChatCleanupRow.next_try_at == row.next_try_at,
                    )
                    .values(next_try_at=now + lease)
                    .execution_options(synchronize_session=False)
                )
                if getattr(moved, "rowcount", 0) == 1:
                    claimed.append(_open(self._context, row))
            return claimed

    async def done(self, cleanup_id: str) -> None:
        """Done, or refused for good: the row goes."""
        async with self._transaction() as session:
            await session.execute(delete(ChatCleanupRow).where(ChatCleanupRow.id == cleanup_id))

    async def retry(self, cleanup_id: str, at: datetime) -> None:
        async with self._transaction() as session:
            await session.execute(
                update(ChatCleanupRow)
                .where(ChatCleanupRow.id == cleanup_id)
                .values(next_try_at=at, attempts=ChatCleanupRow.attempts + 1)
            )

    async def next_due(self, channels: Collection[str]) -> datetime | None:
        if not channels:
            return None
        async with self._transaction() as session:
            found: datetime | None = await session.scalar(
                select(func.min(ChatCleanupRow.next_try_at)).where(
                    ChatCleanupRow.channel.in_(list(channels))
                )
            )
            return found

    async def count(self) -> int:
        async with self._transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(ChatCleanupRow)) or 0)
