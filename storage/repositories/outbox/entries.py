"""Outbox rows as records: the entry, and the delivery a claim hands to a sender."""

from __future__ import annotations

from storage.models import OutboxRow
from storage.records import Address, Delivery, OutboxEntry, OutboxState


def to_entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        patient_id=row.patient_id,
        recipient=row.recipient,
        kind=row.kind,
        payload=row.payload,
        dedupe_key=row.dedupe,
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


def delivery_of(row: OutboxRow) -> Delivery:
    entry = to_entry(row)
    if entry.to is None:
        return Delivery(entry, None, None, None)
    return Delivery(entry, entry.to.channel, entry.to.address, entry.to.chat)
