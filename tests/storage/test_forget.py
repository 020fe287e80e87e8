"""Forget: the data key and every row of one patient go, in one transaction; others stay."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.errors import NotFound
from storage.models import Base, DataKeyRow
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.people import add_person
from tests.storage.scan import hits, raw_bytes


async def _rows_of(store: Store, patient_id: str) -> dict[str, int]:
    counts = {}
    async with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            column = "id" if table.name == "patients" else "patient_id"
            if column not in table.columns:
                continue
            query = select(func.count()).select_from(table).where(table.c[column] == patient_id)
            counts[table.name] = (await connection.execute(query)).scalar_one()
    return counts


async def test_forget_removes_every_row_and_the_data_key(
    store: Store, database: TestDatabase
) -> None:
    mina = await add_person(store, "mina", "5550193847")
    wei = await add_person(store, "wei", "5550274615")
    async with store.engine.connect() as connection:
        wrapped = (
            await connection.execute(
                select(DataKeyRow.wrapped).where(DataKeyRow.patient_id == mina.patient.id)
            )
        ).scalar_one()
    assert sum((await _rows_of(store, mina.patient.id)).values()) > 10

    report = await store.forget(mina.patient.id)

    assert report.total == sum(report.rows_deleted.values()) > 10
    assert set(await _rows_of(store, mina.patient.id)).issuperset(report.rows_deleted)
    assert sum((await _rows_of(store, mina.patient.id)).values()) == 0
    assert mina.patient.id not in store.context.data_keys
    assert await store.identities.find("telegram", mina.telegram_id) is None
    with pytest.raises(NotFound):
        await store.patients.get(mina.patient.id)
    (event,) = [e for e in await store.audit.recent() if e.event == "patient_forgotten"]
    assert (event.count, event.row_id, event.table_name) == (report.total, None, None)

    # Wei is untouched and still readable.
    assert (await store.patients.get(wei.patient.id)).alias == wei.markers[0]
    assert len(await store.doses.events(wei.patient.id)) == 1
    assert (await store.identities.find("telegram", wei.telegram_id)) is not None

    await store.close()
    raw = raw_bytes(database)
    # Nothing the master key could unwrap for Mina is left, nor her id; Wei's id is there.
    assert hits(raw, [wrapped, mina.patient.id]) == []
    assert hits(raw, [wei.patient.id])


async def test_forgetting_a_stranger_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.forget("f" * 32)
