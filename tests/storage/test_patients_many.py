"""Reading many patients at once (the engine's batch read, columns and sealed cells without
ORM objects) gives exactly what reading each one gives, including a row written before
revision 0002 with no preferences, and leaves out ids that do not exist."""

from __future__ import annotations

from sqlalchemy import update

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
    found = await store.patients.get_many([mina.id, wei.id, old.id, "0" * 32, mina.id])
    assert found == {p.id: await store.patients.get(p.id) for p in (mina, wei, old)}
    assert found[mina.id] == mina
    assert found[old.id].preferences == {}
