"""Where an outbox row goes: its recipient's account now, or (a direct message queued before
revision 0004) its payload."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.expanding import one_of
from storage.models import ChannelIdentityRow, HelperRow, OutboxRow
from storage.records import DIRECT, HELPER_PREFIX, PATIENT, Address, OutboxMessage, helper_recipient
from storage.session import session_crypto

_IDENTITIES = ChannelIdentityRow.__tablename__


async def addresses_now(
    session: AsyncSession,
    recipients: Sequence[OutboxMessage] | Sequence[tuple[str, str]],
) -> dict[tuple[str, str], Address]:
    """Where each ``(patient id, recipient)`` is reached now: the patient's first identity,
    or the helper's account (a helper of that patient, linked), in one query per table.
    A recipient with no account (yet, or any more) is missing from the answer."""
    pairs = [(r.patient_id, r.recipient) if isinstance(r, OutboxMessage) else r for r in recipients]
    patients = {patient_id for patient_id, recipient in pairs if recipient == PATIENT}
    helpers = {
        recipient.removeprefix(HELPER_PREFIX)
        for _, recipient in pairs
        if recipient.startswith(HELPER_PREFIX)
    }
    found: dict[tuple[str, str], Address] = {}
    if patients:
        # Columns, not ORM objects (the engine addresses a burst of reminders here); the
        # cells are opened by the same fields. Needs the patients' keys loaded.
        crypto = session_crypto(session.sync_session)
        identities = await session.execute(
            select(
                ChannelIdentityRow.id,
                ChannelIdentityRow.patient_id,
                ChannelIdentityRow.channel,
                ChannelIdentityRow._address,
                ChannelIdentityRow._chat,
            )
            .where(one_of(ChannelIdentityRow.patient_id, patients))
            .order_by(ChannelIdentityRow.created_at.desc(), ChannelIdentityRow.id.desc())
        )
        opened: dict[str, tuple[str, str, bytes, bytes]] = {}
        for row_id, patient_id, channel, address, chat in identities:
            opened[patient_id] = (row_id, channel, address, chat)  # the earliest comes last
        for patient_id, (row_id, channel, address, chat) in opened.items():
            found[(patient_id, PATIENT)] = Address(
                channel,
                ChannelIdentityRow.address.open_value(
                    crypto, _IDENTITIES, patient_id, row_id, address
                ),
                ChannelIdentityRow.chat.open_value(crypto, _IDENTITIES, patient_id, row_id, chat),
            )
    if helpers:
        for helper in await session.scalars(select(HelperRow).where(HelperRow.id.in_(helpers))):
            if helper.channel is not None and helper.address is not None:
                found[(helper.patient_id, helper_recipient(helper.id))] = Address(
                    helper.channel, helper.address, helper.chat
                )
    return found


def legacy_direct(row: OutboxRow) -> Address | None:
    """The address of a direct message queued before revision 0004, kept in its payload."""
    if row.recipient != DIRECT:
        return None
    to = row.payload.get("to") or {}
    if not isinstance(to, dict) or not to.get("channel") or not to.get("address"):
        return None
    return Address(str(to["channel"]), str(to["address"]), to.get("chat"))
