"""The dispatcher's `Outbox` port over the store's ``outbox`` table.

Claims: every `claim_due` leases its rows under a fresh claim token (``<worker id>:<random>``)
kept in memory until the outcome is recorded; each `mark_*`, `retry_later` and `defer` is a
conditional UPDATE on that token. So a worker that was too slow (its lease ran out and another
worker claimed and maybe sent the message) cannot overwrite the other's result: its update
changes nothing and is logged. PostgreSQL claims skip rows another worker is locking
(``FOR UPDATE SKIP LOCKED``); SQLite serialises claims with ``BEGIN IMMEDIATE``.

Each send is recorded as it completes (at most the messages in flight are sent again after a
crash). With ``batch_sent=True`` sends are recorded in batches instead (`flush`, run before
every claim and every `next_due`): one transaction per batch, several times the throughput on
SQLite, but a crash re-sends the whole unrecorded batch, and repeated crashes can hit the same
messages again (the crash test saw 7 sends of one message with batching, at most 2 without).

Unreachable recipients: `record_unreachable` (pass it as the dispatcher's ``on_unreachable``)
writes an audit event ``recipient_unreachable`` naming the patient (``table_name="patients"``,
``row_id=<patient id>``) or helper (``"helpers"``, helper id), with the reason code in
``column_name``; `is_unreachable` reads it back. It enqueues nothing: telling the helper is the
helper path's job (a later issue), which can pass its own handler as ``then``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from scheduler.dispatcher import Unreachable
from scheduler.outbox import FailureReason, Kind, OutboxMessage, Payload
from storage.records import Delivery
from storage.store import Store

log = logging.getLogger(__name__)

UNREACHABLE_EVENT = "recipient_unreachable"
HELPER_PREFIX = "helper:"
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
        batch_sent: bool = False,
    ) -> None:
        self.store = store
        self.worker_id = worker_id[:40]
        self._then = then
        self._tokens: dict[str, str] = {}
        self._batch_sent = batch_sent
        self._sent: list[tuple[str, str | None, datetime, str]] = []

    async def flush(self) -> None:
        """Record the sends noted by `mark_sent` since the last flush, in one transaction.

        Why batch: on SQLite each transaction is a synced commit, and recording every send on
        its own caps the dispatcher at a few hundred messages a second. The price: a crash
        before the flush re-sends the whole unrecorded batch, where the unbatched path
        risks only the messages in flight. Off by default (see the module docstring).
        """
        sent, self._sent = self._sent, []
        if sent:
            recorded = await self.store.outbox.mark_sent_many(sent)
            for entry_id, *_ in sent:
                self._check(entry_id, entry_id in recorded)

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta
    ) -> Sequence[OutboxMessage]:
        """Lease due rows (most urgent first: reminders and helper alerts before nudges and
        summaries) and turn each into an `OutboxMessage` with its chat decrypted.

        A row that cannot become a message (no linked account, unknown kind, malformed
        payload) is marked failed at once; with no account the recipient is also recorded
        unreachable.
        """
        await self.flush()  # the previous batch's sends, before anything is claimed again
        token = f"{self.worker_id}:{secrets.token_hex(6)}"
        deliveries = await self.store.outbox.claim_due(now, limit, lease, token)
        messages: list[OutboxMessage] = []
        for delivery in deliveries:
            message = await self._message(delivery, token, now)
            if message is not None:
                self._tokens[message.id] = token
                messages.append(message)
        return messages

    async def _message(self, delivery: Delivery, token: str, now: datetime) -> OutboxMessage | None:
        entry = delivery.entry
        chat = delivery.chat or delivery.address
        if delivery.channel != "telegram" or chat is None:
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
            chat_id = int(chat)
        except (ValueError, KeyError, TypeError):
            log.error("outbox %s: not a sendable message", entry.id)
            await self.store.outbox.mark_failed(entry.id, "malformed", owner=token)
            return None
        return OutboxMessage(
            id=entry.id,
            recipient=recipient_ref(entry.patient_id, entry.recipient),
            chat_id=chat_id,
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
        sent_id = None if telegram_message_id is None else str(telegram_message_id)
        if self._batch_sent:
            self._sent.append((message_id, sent_id, now, self._token(message_id)))
            return
        self._check(
            message_id,
            await self.store.outbox.mark_sent(
                message_id, sent_id, now, owner=self._token(message_id)
            ),
        )

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
        await self.flush()
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
