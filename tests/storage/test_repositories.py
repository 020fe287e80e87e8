"""Repositories on both engines: they return records, keep ownership, and own transactions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.errors import AlreadyLinked, NotFound, StaleWrite
from storage.records import (
    Consent,
    DoseOutcome,
    EnrolmentRecord,
    HelperState,
    OutboxMessage,
    ReportedVia,
    SlotState,
)
from storage.store import Store
from tests.conftest import StoreClock
from tests.storage.people import NOON, add_person, enrolment


async def test_patient_profile_round_trips_and_updates(store: Store) -> None:
    mina = await store.patients.create(
        alias="Mina", language="ko", time_zone="Asia/Seoul", consent=Consent(helper_alerts=True)
    )
    assert await store.patients.get(mina.id) == mina
    changed = await store.patients.update(
        type(mina)(**{**mina.__dict__, "alias": "M", "discreet": True})
    )
    assert (changed.alias, changed.discreet, changed.consent.helper_alerts) == ("M", True, True)
    assert await store.patients.get(mina.id) == changed
    assert await store.patients.count() == 1


async def test_unknown_patient_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.patients.get("0" * 32)


async def test_telegram_account_is_found_by_blind_index_and_linked_once(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    linked = await store.identities.link(mina.id, "telegram", "100200300", chat="100200300")
    found = await store.identities.find("telegram", " 100200300 ")
    assert found == linked
    assert await store.identities.find("telegram", "100200301") is None
    with pytest.raises(AlreadyLinked):
        await store.identities.link(wei.id, "telegram", "100200300")
    assert await store.identities.for_patient(mina.id) == [linked]
    assert await store.identities.unlink(wei.id, linked.id) is False
    assert await store.identities.unlink(mina.id, linked.id) is True


async def test_enrolment_is_stored_as_the_domain_object(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    record = await store.enrolments.add(mina.id, enrolment())
    assert isinstance(record, EnrolmentRecord)
    assert record.enrolment == enrolment()
    heavier = await store.enrolments.replace(mina.id, record.id, enrolment(weight_kg=61.0))
    assert (await store.enrolments.get(mina.id, record.id)).enrolment.weight_kg == 61.0
    assert heavier.updated_at >= record.updated_at
    ended = await store.enrolments.end(mina.id, record.id)
    assert not ended.active
    assert await store.enrolments.active(mina.id) == []


async def test_dose_report_settles_its_slot_in_the_same_transaction(store: Store) -> None:
    mina = await add_person(store, "mina", "111000111")
    slot_id = mina.slot_ids[1]
    event = await store.doses.record(
        mina.patient.id, slot_id, DoseOutcome.TAKEN, ReportedVia.BUTTON, reported_at=NOON
    )
    slot = await store.doses.slot(mina.patient.id, slot_id)
    assert (slot.state, slot.next_check_at, slot.version) == (SlotState.TAKEN, None, 1)
    assert event in await store.doses.events(mina.patient.id)
    assert event.reported_at == NOON


async def test_forged_button_for_another_patients_slot_is_refused(store: Store) -> None:
    mina = await add_person(store, "mina", "111000111")
    wei = await add_person(store, "wei", "222000222")
    with pytest.raises(NotFound):
        await store.doses.record(
            wei.patient.id, mina.slot_ids[2], DoseOutcome.TAKEN, ReportedVia.BUTTON
        )
    assert (await store.doses.slot(mina.patient.id, mina.slot_ids[2])).state == SlotState.PENDING


async def test_slot_state_moves_only_from_the_expected_version(store: Store) -> None:
    mina = await add_person(store, "mina", "111000111")
    slot = await store.doses.slot(mina.patient.id, mina.slot_ids[2])
    later = NOON + timedelta(hours=1)
    assert await store.doses.set_slot_state(
        slot.id, expected_version=slot.version, state=SlotState.REMINDED, next_check_at=later
    )
    assert not await store.doses.set_slot_state(
        slot.id, expected_version=slot.version, state=SlotState.MISSED, next_check_at=None
    )
    moved = await store.doses.slot(mina.patient.id, slot.id)
    assert (moved.state, moved.next_check_at) == (SlotState.REMINDED, later)


async def test_slots_between_returns_due_slots_in_order(store: Store) -> None:
    mina = await add_person(store, "mina", "111000111")
    slots = await store.doses.slots_between(mina.patient.id, NOON, NOON + timedelta(days=2))
    assert [s.id for s in slots] == list(mina.slot_ids[:2])
    assert slots[0].dose["day"] == 0


async def test_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    mina = await add_person(store, "mina", "111000111")
    message = OutboxMessage(mina.patient.id, "patient", "nudge", {"n": 1}, "nudge:x", NOON)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.doses.record(
                mina.patient.id, mina.slot_ids[2], DoseOutcome.MISSED, ReportedVia.NO_REPLY
            )
            await tx.outbox.enqueue(message)
            raise RuntimeError("crash between the writes")
    assert (await store.doses.slot(mina.patient.id, mina.slot_ids[2])).state == SlotState.PENDING
    assert len(await store.outbox.for_patient(mina.patient.id)) == 1


async def test_outbox_deduplicates_without_spoiling_the_transaction(store: Store) -> None:
    mina = await add_person(store, "mina", "111000111")
    message = OutboxMessage(mina.patient.id, "helper:x", "alert", {"a": 1}, "alert:1", NOON, 5)
    async with store.transaction() as tx:
        first = await tx.outbox.enqueue(message)
        second = await tx.outbox.enqueue(message)
        event = await tx.doses.record(
            mina.patient.id, mina.slot_ids[2], DoseOutcome.SKIPPED, ReportedVia.HELPER
        )
    assert first is not None and second is None
    assert await store.outbox.get(first.id) == first
    assert event in await store.doses.events(mina.patient.id)


async def test_conversation_save_refuses_a_stale_version(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    first = await store.conversations.save(mina.id, {"step": "language"}, expected_version=None)
    second = await store.conversations.save(mina.id, {"step": "consent"}, expected_version=0)
    assert second.version == first.version + 1
    with pytest.raises(StaleWrite):
        await store.conversations.save(mina.id, {"step": "late"}, expected_version=0)
    with pytest.raises(StaleWrite):
        await store.conversations.save(mina.id, {"step": "again"}, expected_version=None)
    assert (await store.conversations.get(mina.id)).state == {"step": "consent"}
    await store.conversations.clear(mina.id)
    assert await store.conversations.get(mina.id) is None


async def test_helper_invitation_links_once_and_expires(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    sister = await store.helpers.add(mina.id, alias="Sister", permissions={"alerts": True})
    _, token = await store.helpers.invite(mina.id, sister.id, expires_at=NOON + timedelta(days=1))
    assert len(token) == 28 and int.bit_length(32**28 - 1) >= 128
    # Typed by hand: lower case, dashes, an O for a zero and an I for a one still match.
    typed = "-".join(token[i : i + 4] for i in range(0, 28, 4)).lower()
    typed = typed.replace("0", "o").replace("1", "i")
    opened = await store.helpers.open(typed, "telegram", "555000555")
    assert opened is not None and not opened.voided
    invite = opened.invite
    # Only the account that opened it may accept; a forged invite id or a stranger gets None.
    assert await store.helpers.accept(invite.id, "telegram", "555000556") is None
    assert await store.helpers.accept("0" * 32, "telegram", "555000555") is None
    accepted = await store.helpers.accept(invite.id, "telegram", "555000555", "555000555")
    assert accepted is not None and accepted.state == HelperState.ACCEPTED
    # Accepted is not yet linked: the patient confirms first.
    assert await store.helpers.find_by_address("telegram", "555000555") == []
    assert await store.helpers.accept(invite.id, "telegram", "555000555") is None  # single use
    active = await store.helpers.confirm(mina.id, sister.id)
    assert active is not None and active.state == HelperState.ACTIVE
    assert await store.helpers.open(token, "telegram", "555000557") is None  # used up
    assert await store.helpers.find_by_address("telegram", "555000555") == [active]
    removed = await store.helpers.remove(mina.id, sister.id)
    assert (removed.state, removed.address) == (HelperState.ACTIVE, "555000555")  # as it was
    with pytest.raises(NotFound):  # a removed helper's row goes at once
        await store.helpers.get(mina.id, sister.id)
    assert await store.helpers.find_by_address("telegram", "555000555") == []


async def test_a_new_invitation_withdraws_the_old_one_and_codes_are_checked_whole(
    store: Store,
) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    friend = await store.helpers.add(mina.id, alias="Friend")
    _, first = await store.helpers.invite(mina.id, friend.id, expires_at=NOON + timedelta(days=1))
    _, second = await store.helpers.invite(mina.id, friend.id, expires_at=NOON + timedelta(days=1))
    assert await store.helpers.open(first, "telegram", "1") is None
    wrong_last = second[:-1] + ("0" if second[-1] != "0" else "1")
    assert await store.helpers.open(wrong_last, "telegram", "1") is None
    assert await store.helpers.open(second[:-1], "telegram", "1") is None
    assert await store.helpers.open(second, "telegram", "1") is not None


async def test_a_second_account_opening_an_invitation_voids_it_for_both(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    friend = await store.helpers.add(mina.id, alias="Friend")
    _, token = await store.helpers.invite(mina.id, friend.id, expires_at=NOON + timedelta(days=1))
    first = await store.helpers.open(token, "telegram", "1")
    assert first is not None and not first.voided
    again = await store.helpers.open(token, "telegram", "1")  # the holder may open it again
    assert again is not None and not again.voided
    second = await store.helpers.open(token, "telegram", "2")
    assert second is not None and second.voided and second.unlinked is None
    assert await store.helpers.accept(first.invite.id, "telegram", "1") is None
    assert await store.helpers.accept(first.invite.id, "telegram", "2") is None
    assert await store.helpers.open(token, "telegram", "1") is None
    assert (await store.helpers.get(mina.id, friend.id)).state is HelperState.INVITED


async def test_a_second_opener_undoes_an_acceptance_the_patient_has_not_confirmed(
    store: Store,
) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    friend = await store.helpers.add(mina.id, alias="Friend")
    _, token = await store.helpers.invite(mina.id, friend.id, expires_at=NOON + timedelta(days=1))
    first = await store.helpers.open(token, "telegram", "1")
    assert first is not None
    assert await store.helpers.accept(first.invite.id, "telegram", "1", "1") is not None
    second = await store.helpers.open(token, "telegram", "2")
    assert second is not None and second.voided
    assert second.unlinked is not None and second.unlinked.address == "1"  # to tell them
    undone = await store.helpers.get(mina.id, friend.id)
    assert (undone.state, undone.address, undone.channel) == (HelperState.INVITED, None, None)
    assert await store.helpers.confirm(mina.id, friend.id) is None
    assert await store.helpers.find_by_address("telegram", "1", states=tuple(HelperState)) == []


async def test_the_patient_opening_their_own_invitation_neither_holds_nor_voids_it(
    store: Store,
) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    await store.identities.link(mina.id, "telegram", "7")
    friend = await store.helpers.add(mina.id, alias="Friend")
    _, token = await store.helpers.invite(mina.id, friend.id, expires_at=NOON + timedelta(days=1))
    own = await store.helpers.open(token, "telegram", "7")
    assert own is not None and own.own and not own.voided
    first = await store.helpers.open(token, "telegram", "1")
    assert first is not None and not first.voided


async def test_code_tries_are_limited_per_account_and_hour(
    store: Store, store_clock: StoreClock
) -> None:
    hour = timedelta(hours=1)
    tries = [await store.helpers.try_code("telegram", "42", limit=5, per=hour) for _ in range(7)]
    assert tries == [True] * 5 + [False] * 2
    assert await store.helpers.try_code("telegram", "43", limit=5, per=hour)  # someone else
    store_clock.advance(hour + timedelta(seconds=1))
    assert await store.helpers.try_code("telegram", "42", limit=5, per=hour)


async def test_expired_invitation_is_refused(store: Store, store_clock: StoreClock) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    friend = await store.helpers.add(mina.id, alias="Friend")
    expires = store_clock.now + timedelta(hours=1)
    _, token = await store.helpers.invite(mina.id, friend.id, expires_at=expires)
    opened = await store.helpers.open(token, "telegram", "1")
    assert opened is not None
    store_clock.advance(timedelta(hours=2))
    assert await store.helpers.accept(opened.invite.id, "telegram", "1") is None
    assert await store.helpers.open(token, "telegram", "1") is None


async def test_health_records_round_trip(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    report = await store.side_effects.add(
        mina.id, symptoms=["nausea"], level="soon", follow_up_at=NOON + timedelta(days=2)
    )
    screening = await store.mood.add(mina.id, instrument="PHQ-2", answers=[1, 2], score=3)
    stock = await store.pill_stock.set(mina.id, {"HRZE": 84})
    restock = await store.pill_stock.set(mina.id, {"HRZE": 83})
    assert await store.side_effects.for_patient(mina.id) == [report]
    assert report.follow_up_at == (NOON + timedelta(days=2)).replace(hour=0)  # only the day
    assert await store.mood.for_patient(mina.id) == [screening]
    assert await store.pill_stock.get(mina.id) == restock
    assert stock.counts == {"HRZE": 84}


async def test_audit_log_keeps_events_without_content(store: Store) -> None:
    await store.audit.record("login_refused", table_name="patients", count=1)
    (event,) = await store.audit.recent()
    assert (event.event, event.table_name, event.count, event.row_id) == (
        "login_refused",
        "patients",
        1,
        None,
    )
