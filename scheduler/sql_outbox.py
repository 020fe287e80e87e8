"""The dispatcher's `Outbox` port over the store's ``outbox`` table.

Claims: every `claim_due` leases its rows under a fresh claim token (``<worker id>:<random>``)
kept in memory until the outcome is recorded; each `mark_*`, `retry_later` and `defer` is a
conditional UPDATE on that token. So a worker that was too slow (its lease ran out and another
worker claimed and maybe sent the message) cannot overwrite the other's result: its update
changes nothing and is logged. PostgreSQL claims skip rows another worker is locking
(``FOR UPDATE SKIP LOCKED``); SQLite serialises claims with ``BEGIN IMMEDIATE``.

Each send is recorded as it completes, before `mark_sent` returns: a crash can re-send only the
messages whose send had completed and whose record was not yet committed. Records are *group
committed*: sends that complete while a commit is under way wait for it to finish and then
share the next transaction (`_commit_sent`). On SQLite each transaction is a synced commit
(several milliseconds), so one per send capped the dispatcher at about 100 messages a second;
sharing them keeps each message's window between send and record as short as before (one
commit at most), unlike recording in batches after the whole claim, which re-sent a whole batch
after a crash (7 sends of one message under repeated kills).

Unreachable recipients: `record_unreachable` (pass it as the dispatcher's ``on_unreachable``)
writes an audit event ``recipient_unreachable`` naming the patient (``table_name="patients"``,
``row_id=<patient id>``) or helper (``"helpers"``, helper id), with the reason code in
``column_name``; `is_unreachable` reads it back. It enqueues nothing: telling the helper is the
helper path's job (a later issue), which can pass its own handler as ``then``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from scheduler.dispatcher import Unreachable
from scheduler.outbox import FailureReason, Kind, OutboxMessage, Payload
from storage.records import HELPER_PREFIX, Delivery
from storage.store import Store

log = logging.getLogger(__name__)

# (outbox entry id, the chat's message id, when, the claim token)
_Sent = tuple[str, str | None, datetime, str]

UNREACHABLE_EVENT = "recipient_unreachable"
_SEPARATOR = "/"
_KINDS = frozenset(kind.value for kind in Kind)


def recipient_ref(patient_id: str, recipient: str) -> str:
    """The dispatcher's opaque recipient: ``<patient id>/patient`` or
    ``<patient id>/helper:<id>``."""
    return f"{patient_id}{_SEPARATOR}{recipient}"


def parse_recipient(ref: str) -> tuple[str, str]:
    """(patient id, ``"patient"`` or ``"helper:<id>"``) from `recipient_ref`'s form."""
    patient_id, _, recipient = ref.partition(_SEPARATOR)
    return patient_id, recipient


class SqlOutbox:
    def __init__(
        self,
        store: Store,
        worker_id: str,
        *,
        then: Callable[[Unreachable], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.worker_id = worker_id[:40]
        self._then = then
        self._tokens: dict[str, str] = {}
        self._waiting: list[tuple[_Sent, asyncio.Future[bool]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, channel: str
    ) -> Sequence[OutboxMessage]:
        """Lease `channel`'s due rows (most urgent first: reminders and helper alerts before
        nudges and summaries) and turn each into an `OutboxMessage` with its address
        decrypted.

        A row that cannot become a message (no linked account, unknown kind, malformed
        payload) is marked failed at once; with no account the recipient is also recorded
        unreachable.
        """
        token = f"{self.worker_id}:{secrets.token_hex(6)}"
        deliveries = await self.store.outbox.claim_due(now, limit, lease, token, channel=channel)
        messages: list[OutboxMessage] = []
        for delivery in deliveries:
            message = await self._message(delivery, token, now)
            if message is not None:
                self._tokens[message.id] = token
                messages.append(message)
        return messages

    async def _message(self, delivery: Delivery, token: str, now: datetime) -> OutboxMessage | None:
        entry = delivery.entry
        # The chat, where the channel has one apart from the account (Telegram), else the
        # account's address (a phone number).
        address = delivery.chat or delivery.address
        if delivery.channel is None or address is None:
            await self.store.outbox.mark_failed(entry.id, "no_address", owner=token)
            await self.record_unreachable(
                Unreachable(
                    recipient_ref(entry.patient_id, entry.recipient),
                    FailureReason.CHAT_NOT_FOUND,
                    Kind(entry.kind) if entry.kind in _KINDS else Kind.REMINDER,
                    entry.id,
                    now,
                )
            )
            return None
        try:
            kind = Kind(entry.kind)
            payload = Payload.from_dict(entry.payload)
        except (ValueError, KeyError, TypeError):
            log.error("outbox %s: not a sendable message", entry.id)
            await self.store.outbox.mark_failed(entry.id, "malformed", owner=token)
            return None
        return OutboxMessage(
            id=entry.id,
            recipient=recipient_ref(entry.patient_id, entry.recipient),
            channel=delivery.channel,
            address=address,
            kind=kind,
            payload=payload,
            not_before=entry.not_before,
            expires_at=entry.expires_at,
            dedupe_key=entry.dedupe_key,
            attempts=entry.attempts,
        )

    async def mark_sent(
        self, message_id: str, telegram_message_id: int | None, now: datetime
    ) -> None:
        """Record a send; returns once it is committed (see the module docstring)."""
        sent_id = None if telegram_message_id is None else str(telegram_message_id)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(((message_id, sent_id, now, self._token(message_id)), done))
        if self._committer is None:
            self._committer = asyncio.ensure_future(self._commit_sent())
        self._check(message_id, await done)

    async def _commit_sent(self) -> None:
        """Commit the waiting records, all of them in one transaction, until none is left.

        1. Take every record waiting now; sends completing meanwhile wait for the next round.
        2. Commit them in one transaction; tell each waiter whether its row was recorded
           (its lease still held), or pass on the error (the lease runs out and the message
           is claimed again: at most a duplicate, never a loss).
        3. Stop when nothing is waiting; the next `mark_sent` starts a new committer.
        """
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    recorded = await self.store.outbox.mark_sent_many([sent for sent, _ in group])
                except Exception as exc:
                    for _, done in group:
                        if not done.done():  # a waiter cancelled meanwhile needs no answer
                            done.set_exception(exc)
                    continue
                for sent, done in group:
                    if not done.done():
                        done.set_result(sent[0] in recorded)
        finally:
            self._committer = None

    async def retry_later(self, message_id: str, not_before: datetime, reason: str) -> None:
        self._check(
            message_id,
            await self.store.outbox.retry_later(
                message_id, not_before, reason, owner=self._token(message_id)
            ),
        )

    async def defer(self, message_id: str, not_before: datetime) -> None:
        self._check(
            message_id,
            await self.store.outbox.defer(message_id, not_before, owner=self._token(message_id)),
        )

    async def mark_failed(self, message_id: str, reason: FailureReason, now: datetime) -> None:
        self._check(
            message_id,
            await self.store.outbox.mark_failed(
                message_id, reason.value, owner=self._token(message_id)
            ),
        )

    async def mark_expired(self, message_id: str, now: datetime) -> None:
        self._check(
            message_id,
            await self.store.outbox.mark_expired(message_id, owner=self._token(message_id)),
        )

    async def next_due(self, now: datetime) -> datetime | None:
        return await self.store.outbox.next_due(now)

    async def record_unreachable(self, event: Unreachable) -> None:
        """The dispatcher's ``on_unreachable``: flag the recipient (audit event), then call
        ``then`` if given."""
        patient_id, recipient = parse_recipient(event.recipient)
        if recipient.startswith(HELPER_PREFIX):
            table, row_id = "helpers", recipient.removeprefix(HELPER_PREFIX)
        else:
            table, row_id = "patients", patient_id
        await self.store.audit.record(
            UNREACHABLE_EVENT, table_name=table, row_id=row_id, column_name=event.reason.value
        )
        if self._then is not None:
            await self._then(event)

    async def is_unreachable(self, patient_id: str, since: datetime | None = None) -> bool:
        """Whether a send to the patient failed for good (since ``since``, if given)."""
        events = await self.store.audit.for_row(UNREACHABLE_EVENT, patient_id)
        return any(since is None or e.at >= since for e in events)

    def _token(self, message_id: str) -> str:
        # Popped: every outcome ends this claim. A message this worker never claimed has no
        # token; an impossible owner makes the update change nothing.
        return self._tokens.pop(message_id, "-")

    def _check(self, message_id: str, changed: bool) -> None:
        if not changed:
            log.warning("outbox %s: lease lost before the outcome was recorded", message_id)
