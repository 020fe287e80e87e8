"""Creation instants in plaintext show the day and the order, not the time (revision 0016), on
SQLite and PostgreSQL: patients, accounts, enrolments and helpers; an enrolment's exact
instant is sealed, for the offers that count from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from storage.keyring import Keyring
from storage.migrate import downgrade, upgrade
from storage.migration_keys import KeyNeeded
from storage.models import ChannelIdentityRow, EnrolmentRow, HelperInviteRow, HelperRow, PatientRow
from storage.store import Store
from tests.conftest import StoreClock, TestDatabase
from treatment.enrolment import enrol

DAY = datetime(2026, 11, 29, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def _plan() -> Any:
    return enrol(
        regimen="2HRZE/4HR",
        start=date(2026, 11, 29),
        times=[time(8, 0)],
        zone="Asia/Shanghai",
        today=date(2026, 11, 29),
        weight_kg=55.0,
    )


async def _readable(store: Store, column: Any, where: Any) -> list[datetime]:
    async with store.engine.connect() as connection:
        found = await connection.scalars(select(column).where(where).order_by(column))
        return [value.replace(tzinfo=UTC) if value.tzinfo is None else value for value in found]


async def test_rows_show_their_day_and_order_and_the_enrolment_keeps_its_instant_sealed(
    store: Store, store_clock: StoreClock
) -> None:
    mina = await store.patients.create(alias="Mina", language="en", time_zone="Asia/Shanghai")
    first = await store.identities.link(mina.id, "telegram", "1001")
    store_clock.advance(timedelta(hours=3, minutes=17))
    second = await store.identities.link(mina.id, "sms", "+8613800138000")
    enrolled_at = store_clock.now
    record = await store.enrolments.add(mina.id, _plan())
    helper = await store.helpers.add(mina.id, alias="Jun")
    store_clock.advance(timedelta(days=1, hours=2))
    await store.helpers.add(mina.id, alias="Lan")
    await store.enrolments.replace(mina.id, record.id, _plan())

    assert await _readable(store, PatientRow.created_at, PatientRow.id == mina.id) == [DAY]
    # Due for the retention rule's first look, without the instant the patient was made.
    assert await _readable(store, PatientRow.retention_at, PatientRow.id == mina.id) == [DAY]
    identities = ChannelIdentityRow.patient_id == mina.id
    assert await _readable(store, ChannelIdentityRow.created_at, identities) == [DAY, DAY + TICK]
    helpers = await _readable(store, HelperRow.created_at, HelperRow.patient_id == mina.id)
    assert helpers == [DAY, DAY + timedelta(days=1)]
    made = await _readable(store, EnrolmentRow.created_at, EnrolmentRow.id == record.id)
    assert made == [DAY]
    changed = await _readable(store, EnrolmentRow.updated_at, EnrolmentRow.id == record.id)
    assert changed == [DAY + timedelta(days=1)]

    # The order is kept: the first account linked is still first (the one reminders go to).
    assert [i.id for i in await store.identities.for_patient(mina.id)] == [first.id, second.id]
    assert (await store.helpers.for_patient(mina.id))[0].id == helper.id
    # The exact instant, sealed, for the check-in and weight offers.
    assert (await store.enrolments.get(mina.id, record.id)).created_at == enrolled_at
    (found,) = await store.planning.inputs([mina.id], store_clock.now, ())
    assert found.enrolments[0].created_at == enrolled_at


async def test_a_row_made_after_one_was_removed_still_comes_last(
    store: Store, store_clock: StoreClock
) -> None:
    mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    first = await store.identities.link(mina.id, "telegram", "1001")
    second = await store.identities.link(mina.id, "sms", "+8613800138000")
    assert await store.identities.unlink(mina.id, first.id)
    third = await store.identities.link(mina.id, "telegram", "1002")
    assert [i.id for i in await store.identities.for_patient(mina.id)] == [second.id, third.id]


async def _exact_again(store: Store, patient_id: str, made: dict[str, datetime]) -> None:
    """Put exact instants back, as code before revision 0016 wrote them (the downgrade left
    the day)."""
    async with store.engine.begin() as connection:
        for table, column, owner in (
            (PatientRow.__table__, PatientRow.id, PatientRow.id),
            (ChannelIdentityRow.__table__, ChannelIdentityRow.id, ChannelIdentityRow.patient_id),
            (HelperRow.__table__, HelperRow.id, HelperRow.patient_id),
        ):
            rows = (await connection.execute(select(column).where(owner == patient_id))).all()
            for (row_id,) in rows:
                await connection.execute(
                    update(table)  # type: ignore[arg-type]
                    .where(column == row_id)
                    .values(created_at=made[row_id])
                )


async def test_the_upgrade_seals_enrolments_and_blurs_what_was_written_before(
    database: TestDatabase, keyring: Keyring, store_clock: StoreClock
) -> None:
    store = await Store.open(database.url, keyring, clock=store_clock)
    try:
        mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
        late = await store.identities.link(mina.id, "telegram", "1001")
        early = await store.identities.link(mina.id, "sms", "+8613800138000")
        helper = await store.helpers.add(mina.id, alias="Jun")
        enrolled_at = store_clock.now
        record = await store.enrolments.add(mina.id, _plan())
        async with store.engine.begin() as connection:
            await downgrade(connection, "0015", keyring=keyring)
        # Before 0016: exact instants, and the account linked at 10:40 made after 08:05's.
        made = {
            mina.id: DAY + timedelta(hours=7, minutes=12, seconds=5),
            early.id: DAY + timedelta(hours=8, minutes=5),
            late.id: DAY + timedelta(hours=10, minutes=40),
            helper.id: DAY + timedelta(hours=11, seconds=1),
        }
        await _exact_again(store, mina.id, made)
        made_at = await _readable(store, EnrolmentRow.created_at, EnrolmentRow.id == record.id)
        assert made_at == [enrolled_at]  # the downgrade put the sealed instant back

        async with store.engine.begin() as connection:
            with pytest.raises(KeyNeeded, match="master key"):
                await upgrade(connection, "head")
        async with store.engine.begin() as connection:
            await upgrade(connection, "head", keyring=keyring)

        identities = ChannelIdentityRow.patient_id == mina.id
        assert await _readable(store, PatientRow.created_at, PatientRow.id == mina.id) == [DAY]
        assert await _readable(store, ChannelIdentityRow.created_at, identities) == [
            DAY,
            DAY + TICK,
        ]
        assert await _readable(store, HelperRow.created_at, HelperRow.id == helper.id) == [DAY]
        assert await _readable(store, EnrolmentRow.created_at, EnrolmentRow.id == record.id) == [
            DAY
        ]
        assert [i.id for i in await store.identities.for_patient(mina.id)] == [early.id, late.id]
        assert (await store.enrolments.get(mina.id, record.id)).created_at == enrolled_at
    finally:
        await store.close()


async def test_an_invitation_expired_a_day_ago_keeps_only_its_day_and_can_still_be_declined(
    store: Store, store_clock: StoreClock
) -> None:
    mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    helper = await store.helpers.add(mina.id, alias="Jun")
    invite, code = await store.helpers.invite(
        mina.id, helper.id, expires_at=store_clock.now + timedelta(hours=24)
    )
    other = await store.helpers.add(mina.id, alias="Lan")
    await store.helpers.invite(mina.id, other.id, expires_at=store_clock.now + timedelta(days=3))
    assert await store.helpers.open(code, "telegram", "2002") is not None
    invites = HelperInviteRow.patient_id == mina.id

    store_clock.advance(timedelta(hours=24 + 23))  # expired 23 hours ago: still exact
    assert await store.helpers.blur_invites(store_clock.now) == 0
    store_clock.advance(timedelta(hours=2))
    assert await store.helpers.blur_invites(store_clock.now) == 1
    assert await store.helpers.blur_invites(store_clock.now) == 0  # not read again
    row = HelperInviteRow.id == invite.id
    assert await _readable(store, HelperInviteRow.created_at, row) == [DAY]
    assert await _readable(store, HelperInviteRow.expires_at, row) == [DAY]
    # The other invitation, still valid, is untouched.
    exact = await _readable(store, HelperInviteRow.expires_at, invites)
    assert exact[-1] == DAY + timedelta(days=3, hours=9)
    assert await store.helpers.open(code, "telegram", "2002") is None  # still expired
    declined = await store.helpers.decline(invite.id, "telegram", "2002")
    assert declined is not None and declined.id == helper.id
