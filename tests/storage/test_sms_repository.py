"""What the SMS channel keeps: webhook receipts, segment counts, STOP, the last menu."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import text

from scheduler.outbox import Payload
from storage.records import PATIENT, OutboxMessage, reminder_key
from storage.repositories.sms import Claim
from storage.store import Store
from tests.conftest import StoreClock

MINA = "+821012345678"
LI = "+8613800138000"
LEASE = timedelta(seconds=30)


async def test_a_webhook_is_handled_once_even_when_delivered_twice(store: Store) -> None:
    assert await store.sms.claim_webhook("d1", "sms:received", LEASE) is Claim.NEW
    assert await store.sms.claim_webhook("d1", "sms:received", LEASE) is Claim.BUSY
    await store.sms.finish_webhook("d1")
    assert await store.sms.claim_webhook("d1", "sms:received", LEASE) is Claim.DONE


async def test_a_webhook_whose_handling_died_is_handled_again_after_its_lease(
    store: Store, store_clock: StoreClock
) -> None:
    assert await store.sms.claim_webhook("d2", "sms:sent", LEASE) is Claim.NEW
    store_clock.advance(LEASE + timedelta(seconds=1))
    assert await store.sms.claim_webhook("d2", "sms:sent", LEASE) is Claim.NEW
    assert await store.sms.claim_webhook("d2", "sms:sent", LEASE) is Claim.BUSY


async def test_a_released_webhook_is_handled_by_the_next_retry_at_once(store: Store) -> None:
    assert await store.sms.claim_webhook("d3", "sms:received", LEASE) is Claim.NEW
    await store.sms.release_webhook("d3")
    assert await store.sms.claim_webhook("d3", "sms:received", LEASE) is Claim.NEW


async def test_concurrent_claims_let_exactly_one_handle_it(store: Store) -> None:
    results = await asyncio.gather(
        *(store.sms.claim_webhook("d4", "sms:received", LEASE) for _ in range(5))
    )
    assert sorted(results) == sorted([Claim.NEW] + [Claim.BUSY] * 4)


async def test_old_receipts_are_pruned(store: Store, store_clock: StoreClock) -> None:
    await store.sms.claim_webhook("old", "sms:received", LEASE)
    store_clock.advance(timedelta(days=8))
    await store.sms.claim_webhook("new", "sms:received", LEASE)
    assert await store.sms.prune_webhooks(store_clock.now - timedelta(days=7)) == 1
    assert await store.sms.claim_webhook("new", "sms:received", LEASE) is Claim.BUSY


async def test_segments_are_counted_per_number_per_day_and_per_month(store: Store) -> None:
    await store.sms.count_sent(MINA, date(2026, 12, 1), 1)
    await store.sms.count_sent(MINA, date(2026, 12, 1), 3)
    await store.sms.count_sent(MINA, date(2026, 12, 31), 2)
    await store.sms.count_sent(MINA, date(2027, 1, 1), 5)
    await store.sms.count_sent(LI, date(2026, 12, 1), 1)
    assert await store.sms.segments_on(MINA, date(2026, 12, 1)) == 4
    assert await store.sms.segments_on(MINA, date(2026, 12, 2)) == 0
    assert await store.sms.segments_in_month(MINA, 2026, 12) == 6
    assert await store.sms.segments_in_month(MINA, 2027, 1) == 5
    assert await store.sms.month_totals(2026, 12) == (4, 7)


async def test_concurrent_counts_lose_nothing(store: Store) -> None:
    await asyncio.gather(*(store.sms.count_sent(LI, date(2026, 12, 2), 2) for _ in range(6)))
    assert await store.sms.segments_on(LI, date(2026, 12, 2)) == 12


async def test_stop_is_recorded_once_and_start_lifts_it(store: Store) -> None:
    assert not await store.sms.stopped(MINA)
    assert await store.sms.stop(MINA) is True
    assert await store.sms.stop(MINA) is False
    assert await store.sms.stopped(MINA)
    assert not await store.sms.stopped(LI)
    assert await store.sms.resume(MINA) is True
    assert await store.sms.resume(MINA) is False
    assert not await store.sms.stopped(MINA)


async def test_the_last_menu_is_kept_sealed_until_it_expires(
    store: Store, store_clock: StoreClock
) -> None:
    patient = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    menu = {"options": [["taken", "slot-1"], ["snooze", "slot-1"]], "marker": "ZQXMENU"}
    await store.sms.save_menu(MINA, patient.id, menu, store_clock.now + timedelta(hours=2))
    assert await store.sms.menu(MINA) == (patient.id, menu)
    assert await store.sms.menu(LI) is None
    async with store.engine.connect() as connection:
        raw = (await connection.execute(text("SELECT menu FROM sms_menus"))).scalar_one()
    assert b"ZQXMENU" not in bytes(raw)
    newer = {"options": [["yes", ""]]}
    await store.sms.save_menu(MINA, patient.id, newer, store_clock.now + timedelta(hours=2))
    assert await store.sms.menu(MINA) == (patient.id, newer)
    store_clock.advance(timedelta(hours=3))
    assert await store.sms.menu(MINA) is None


async def test_forgetting_a_patient_removes_their_menu_stop_and_counts(store: Store) -> None:
    patient = await store.patients.create(alias="Li", language="zh_Hans", time_zone="UTC")
    await store.sms.save_menu(LI, patient.id, {"options": []}, store.context.clock() + LEASE)
    await store.sms.stop(LI, patient_id=patient.id)
    await store.sms.count_sent(LI, date(2026, 12, 1), 2, patient_id=patient.id)
    await store.forget(patient.id)
    assert await store.sms.menu(LI) is None
    assert not await store.sms.stopped(LI)
    assert await store.sms.segments_on(LI, date(2026, 12, 1)) == 0


async def test_no_phone_number_is_stored_in_any_sms_table(store: Store) -> None:
    patient = await store.patients.create(alias="Li", language="zh_Hans", time_zone="UTC")
    await store.sms.save_menu(LI, patient.id, {"options": []}, store.context.clock() + LEASE)
    await store.sms.stop(LI, patient_id=patient.id)
    await store.sms.count_sent(LI, date(2026, 12, 1), 2)
    digits = LI.lstrip("+").encode()
    async with store.engine.connect() as connection:
        for table in ("sms_menus", "sms_stops", "sms_usage"):
            for row in (await connection.execute(text(f"SELECT * FROM {table}"))).all():  # noqa: S608
                for value in row:
                    cell = value if isinstance(value, bytes | memoryview) else str(value).encode()
                    assert digits not in bytes(cell)


async def test_forgetting_a_number_removes_its_menu_stop_and_counts(store: Store) -> None:
    patient = await store.patients.create(alias="Li", language="zh_Hans", time_zone="UTC")
    await store.sms.save_menu(LI, patient.id, {"options": []}, store.context.clock() + LEASE)
    await store.sms.stop(LI)
    await store.sms.count_sent(LI, date(2026, 12, 1), 2)
    await store.sms.count_sent(MINA, date(2026, 12, 1), 1)
    await store.sms.forget_number(LI)
    assert await store.sms.menu(LI) is None
    assert not await store.sms.stopped(LI)
    assert await store.sms.segments_on(LI, date(2026, 12, 1)) == 0
    assert await store.sms.segments_on(MINA, date(2026, 12, 1)) == 1


async def test_delivery_reports_move_forward_only_and_match_only_our_messages(
    store: Store, store_clock: StoreClock
) -> None:
    patient = await store.patients.create(alias="Li", language="zh_Hans", time_zone="UTC")
    await store.identities.link(patient.id, "sms", LI)
    entry = await store.outbox.enqueue(
        OutboxMessage(
            patient_id=patient.id,
            recipient=PATIENT,
            kind="reminder",
            payload=Payload.message("8:00").to_dict(),
            dedupe_key=reminder_key("slot-1"),
            not_before=store_clock.now,
        )
    )
    assert entry is not None
    now = store_clock.now
    assert await store.outbox.record_delivery(entry.id, "pending", now)
    assert await store.outbox.record_delivery(entry.id, "delivered", now)
    assert not await store.outbox.record_delivery(entry.id, "sent", now)  # older news
    assert not await store.outbox.record_delivery(entry.id, "failed", now)  # first final stays
    assert not await store.outbox.record_delivery("f" * 32, "delivered", now)  # never sent


async def test_texts_accepted_but_held_on_the_phone_are_counted_as_stuck(
    store: Store, store_clock: StoreClock
) -> None:
    patient = await store.patients.create(alias="Li", language="zh_Hans", time_zone="UTC")
    await store.identities.link(patient.id, "sms", LI)
    for n in range(3):
        entry = await store.outbox.enqueue(
            OutboxMessage(
                patient_id=patient.id,
                recipient=PATIENT,
                kind="notice",
                payload=Payload.message("hi").to_dict(),
                dedupe_key=f"stuck:{n}",
                not_before=store_clock.now,
            )
        )
        assert entry is not None
        await store.outbox.record_delivery(entry.id, "pending", store_clock.now)
        if n == 2:
            await store.outbox.record_delivery(entry.id, "sent", store_clock.now)
    later = store_clock.now + timedelta(minutes=20)
    assert await store.outbox.stuck_deliveries("sms", later) == (2, store_clock.now)
    assert await store.outbox.stuck_deliveries("telegram", later) == (0, None)
