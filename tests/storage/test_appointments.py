"""The appointments repository: sealed details, a plain timer, ownership checked, forgotten."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.rotation import verify
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.scan import hits, raw_bytes

DETAILS = {"kind": "ecg", "local": "2026-12-03T10:30:00", "zone": "Asia/Seoul"}
AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def test_details_are_sealed_and_only_the_timer_is_plain(
    store: Store, database: TestDatabase
) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    added = await store.appointments.add(mina.id, {**DETAILS, "kind": "marker-ecg-7f3a"}, AT)
    (found,) = await store.appointments.for_patient(mina.id)
    assert found == added and found.due_at == AT
    assert found.details["kind"] == "marker-ecg-7f3a"
    assert hits(raw_bytes(database), ["marker-ecg-7f3a", "2026-12-03T10:30"]) == []


async def test_another_patients_id_cancels_nothing_and_forget_removes_them(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    wei = await store.patients.create(alias="Wei", language="zh_Hans", time_zone="Asia/Shanghai")
    visit = await store.appointments.add(mina.id, DETAILS, AT)
    assert not await store.appointments.cancel(wei.id, visit.id)
    assert len(await store.appointments.for_patient(mina.id)) == 1
    await store.appointments.add(wei.id, DETAILS, None)
    await store.forget(mina.id)
    assert await store.appointments.due(datetime(2030, 1, 1, tzinfo=UTC), 10) == []
    assert len(await store.appointments.for_patient(wei.id)) == 1
    assert await store.appointments.cancel(
        wei.id, (await store.appointments.for_patient(wei.id))[0].id
    )


async def test_key_verification_opens_every_appointment(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    before = (await verify(store)).cells
    await store.appointments.add(mina.id, DETAILS, AT)
    after = await verify(store)
    assert after.ok and after.cells == before + 1
