"""Reading many patients at once (the engine's batch read, columns and sealed cells without
ORM objects) gives exactly what reading each one gives, including a row written before
revision 0002 with no preferences, and leaves out ids that do not exist. Each cell is opened
when first read, in the reader's transaction: a cell nobody reads is not opened, and one read
after the transaction is refused rather than opened with a key kept past it."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update

from storage.errors import IntegrityError, StoreError
from storage.models import PatientRow
from storage.records import Consent
from storage.store import Store


async def test_many_patients_read_at_once_are_those_read_one_by_one(store: Store) -> None:
    mina = await store.patients.create(
        alias="Mina",
        language="ko",
        time_zone="Asia/Seoul",
        discreet=True,
        consent=Consent(helper_alerts=True),
        preferences={"nudges": "one", "quiet_hours": ["22:00", "07:00"]},
    )
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    old = await store.patients.create(alias="Old", language="en", time_zone="UTC")
    async with store.context.transaction() as session:
        await session.execute(
            update(PatientRow).where(PatientRow.id == old.id).values(_preferences=None)
        )
    one_by_one = {p.id: await store.patients.get(p.id) for p in (mina, wei, old)}
    async with store.transaction() as tx:
        found = await tx.patients.get_many([mina.id, wei.id, old.id, "0" * 32, mina.id])
        assert found == one_by_one
        assert one_by_one == found
        assert found[mina.id] == mina
        assert found[old.id].preferences == {}
        assert dataclasses.replace(found[wei.id], alias="W") == dataclasses.replace(wei, alias="W")


async def test_a_cell_not_read_is_not_opened(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
    # Wei's alias cell where Mina's belongs: it does not open there.
    async with store.context.transaction() as session:
        wrong = (
            await session.execute(
                PatientRow.__table__.select().where(PatientRow.id == wei.id)  # type: ignore[attr-defined]
            )
        ).one()
        await session.execute(
            update(PatientRow).where(PatientRow.id == mina.id).values(_alias=wrong.alias)
        )
    with pytest.raises(IntegrityError):
        async with store.transaction() as tx:
            found = (await tx.patients.get_many([mina.id]))[mina.id]
            assert (found.language, found.discreet, found.preferences) == ("ko", False, {})
            _ = found.alias


async def test_a_cell_first_read_after_the_transaction_is_refused(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    async with store.transaction() as tx:
        found = (await tx.patients.get_many([mina.id]))[mina.id]
        assert found.language == "ko"
    assert found.language == "ko"  # opened inside: kept
    with pytest.raises(StoreError):
        _ = found.alias
    found = (await store.patients.get_many([mina.id]))[mina.id]  # its own transaction
    with pytest.raises(StoreError):
        _ = found.time_zone
