"""The outbox lets workers claim due messages with a lease and decrypts where each one goes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from storage.errors import IntegrityError
from storage.models import Base
from storage.records import Address, OutboxMessage, OutboxState
from storage.store import Store
from tests.storage.people import NOON, add_person

LEASE = timedelta(minutes=2)


async def test_due_messages_are_claimed_most_urgent_first_with_their_address(store: Store) -> None:
    mina = await add_person(store, "mina", "5550193847")  # queues one reminder at NOON
    pid = mina.patient.id
    (helper,) = await store.helpers.for_patient(pid)
    await store.outbox.enqueue(
        OutboxMessage(pid, f"helper:{helper.id}", "helper_alert", {"t": "a"}, "alert:1", NOON, -1)
    )
    await store.outbox.enqueue(
        OutboxMessage(pid, "patient", "nudge", {"t": "later"}, "nudge:1", NOON + timedelta(hours=1))
    )

    first = await store.outbox.claim_due(NOON, 5, LEASE, "worker-1")
    assert [d.entry.kind for d in first] == ["helper_alert", "reminder"]
    alert, reminder = first
    assert (alert.channel, alert.address) == ("telegram", f"7{mina.telegram_id}")
    assert (reminder.address, reminder.chat) == (mina.telegram_id, mina.telegram_id)
    assert reminder.entry.state == OutboxState.LEASED
    assert reminder.entry.lease_until == NOON + LEASE
    assert await store.outbox.claim_due(NOON, 5, LEASE, "worker-2") == []

    assert await store.outbox.mark_sent_many([(alert.entry.id, "4711", NOON, "worker-1")]) == {
        alert.entry.id
    }
    sent = await store.outbox.get(alert.entry.id)
    assert (sent.state, sent.sent_message_id, sent.lease_owner) == (OutboxState.SENT, "4711", None)

    # worker-1 died holding the reminder: once the lease runs out another worker takes it.
    later = NOON + LEASE + timedelta(seconds=1)
    retaken = await store.outbox.claim_due(later, 1, LEASE, "worker-2")
    assert [d.entry.id for d in retaken] == [reminder.entry.id]
    assert retaken[0].entry.lease_owner == "worker-2"


async def test_released_messages_come_back_when_due_and_finished_ones_never(store: Store) -> None:
    mina = await add_person(store, "mina", "5550193847")
    (reminder,) = await store.outbox.claim_due(NOON, 5, LEASE, "w")
    await store.outbox.retry_later(reminder.entry.id, NOON + timedelta(minutes=5), "timeout")
    again = await store.outbox.get(reminder.entry.id)
    assert (again.state, again.attempts, again.last_error) == (OutboxState.PENDING, 1, "timeout")
    assert await store.outbox.claim_due(NOON + timedelta(minutes=1), 5, LEASE, "w") == []
    (reclaimed,) = await store.outbox.claim_due(NOON + timedelta(minutes=5), 5, LEASE, "w")
    await store.outbox.defer(reclaimed.entry.id, NOON + timedelta(minutes=6))
    assert (await store.outbox.get(reclaimed.entry.id)).attempts == 1
    (third,) = await store.outbox.claim_due(NOON + timedelta(minutes=6), 5, LEASE, "w")
    await store.outbox.mark_failed(third.entry.id, "blocked")
    assert (await store.outbox.get(third.entry.id)).state == OutboxState.FAILED
    assert await store.outbox.claim_due(NOON + timedelta(days=1), 5, LEASE, "w") == []
    assert len(await store.outbox.for_patient(mina.patient.id)) == 1


async def test_recipient_without_an_account_has_no_address(store: Store) -> None:
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    await store.outbox.enqueue(OutboxMessage(wei.id, "patient", "reminder", {}, "r:wei", NOON))
    (delivery,) = await store.outbox.claim_due(NOON, 5, LEASE, "w")
    assert (delivery.channel, delivery.address) == (None, None)
    await store.outbox.mark_expired(delivery.entry.id)
    assert (await store.outbox.get(delivery.entry.id)).state == OutboxState.EXPIRED


async def test_two_workers_claiming_at_once_never_get_the_same_message(store: Store) -> None:
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    async with store.transaction() as tx:
        for number in range(20):
            await tx.outbox.enqueue(
                OutboxMessage(wei.id, "patient", "reminder", {}, f"r:{number}", NOON)
            )
    first, second = await asyncio.gather(
        store.outbox.claim_due(NOON, 15, LEASE, "w1"),
        store.outbox.claim_due(NOON, 15, LEASE, "w2"),
    )
    ids = [d.entry.id for d in first + second]
    assert len(ids) == len(set(ids)) == 20


async def test_rows_carry_their_channel_and_each_channel_claims_only_its_own(store: Store) -> None:
    mina = await add_person(store, "mina", "5550193847")  # on Telegram; a reminder at NOON
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    await store.identities.link(wei.id, "sms", "+8613800138000")
    await store.outbox.enqueue(OutboxMessage(wei.id, "patient", "reminder", {}, "r:wei", NOON))

    (sms,) = await store.outbox.claim_due(NOON, 5, LEASE, "w", channel="sms")
    assert (sms.channel, sms.address, sms.entry.patient_id) == ("sms", "+8613800138000", wei.id)
    (telegram,) = await store.outbox.claim_due(NOON, 5, LEASE, "w", channel="telegram")
    assert telegram.entry.patient_id == mina.patient.id
    assert telegram.entry.to is not None and telegram.entry.to.chat == mina.telegram_id


async def test_a_row_queued_before_its_recipient_had_an_account_is_addressed_when_claimed(
    store: Store,
) -> None:
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    await store.outbox.enqueue(OutboxMessage(wei.id, "patient", "reminder", {}, "r:wei", NOON))
    assert (await store.outbox.for_patient(wei.id))[0].to is None
    await store.identities.link(wei.id, "sms", "+8613800138000")

    # Telegram's lane takes it, sees it is for SMS, and puts it back for SMS's lane.
    assert await store.outbox.claim_due(NOON, 5, LEASE, "w1", channel="telegram") == []
    (back,) = await store.outbox.for_patient(wei.id)
    assert back.state is OutboxState.PENDING and back.lease_owner is None
    (sms,) = await store.outbox.claim_due(NOON, 5, LEASE, "w2", channel="sms")
    assert (sms.channel, sms.address) == ("sms", "+8613800138000")


async def test_the_message_id_cell_is_blank_until_the_send_and_sealed_after(store: Store) -> None:
    """A queued message has no id yet (its plaintext state says so): its cell is written
    blank, not sealed, and reads as None; the id the channel gave is sealed like any cell,
    and a blank written into a cell that is never blank does not open."""
    await add_person(store, "mina", "5550193847")  # queues one reminder at NOON
    (reminder,) = await store.outbox.claim_due(NOON, 5, LEASE, "w")
    outbox = Base.metadata.tables["outbox"]

    async def cells() -> tuple[bytes, bytes]:
        async with store.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(outbox.c.sent_message_id, outbox.c.kind).where(
                        outbox.c.id == reminder.entry.id
                    )
                )
            ).one()
        return bytes(row[0]), bytes(row[1])

    assert (await cells())[0] == b""
    assert reminder.entry.sent_message_id is None
    await store.outbox.mark_sent_many([(reminder.entry.id, "4711", NOON, "w")])
    sealed, _ = await cells()
    assert sealed and b"4711" not in sealed
    assert (await store.outbox.get(reminder.entry.id)).sent_message_id == "4711"
    async with store.engine.begin() as connection:
        await connection.execute(
            update(outbox).where(outbox.c.id == reminder.entry.id).values(kind=b"")
        )
    with pytest.raises(IntegrityError):
        await store.outbox.get(reminder.entry.id)


async def test_a_reply_kept_as_sent_is_found_with_the_helpers_messages_and_never_claimed(
    store: Store,
) -> None:
    """`record_sent`: a message sent directly to a helper (a reply to their command) becomes
    a sent row of the patient's, so removing the helper finds it with the alerts."""
    mina = await add_person(store, "mina", "5550193847")
    pid = mina.patient.id
    (helper,) = await store.helpers.for_patient(pid)
    to = Address("telegram", "8101", "8101")
    kept = OutboxMessage(pid, f"helper:{helper.id}", "reply", {}, "reply:h:77", NOON, to=to)
    assert await store.outbox.record_sent(kept, "77", NOON)
    assert not await store.outbox.record_sent(kept, "77", NOON)  # kept once
    assert await store.outbox.sent_to(pid, f"helper:{helper.id}", NOON - LEASE) == ["77"]
    assert await store.outbox.sent_to(pid, f"helper:{helper.id}", NOON + LEASE) == []
    claimed = await store.outbox.claim_due(NOON + LEASE, 10, LEASE, "w")
    assert all(d.entry.kind != "reply" for d in claimed)  # only the reminder add_person queued
    (row,) = [e for e in await store.outbox.for_patient(pid) if e.kind == "reply"]
    assert (row.state, row.sent_message_id, row.payload, row.to) == (OutboxState.SENT, "77", {}, to)
