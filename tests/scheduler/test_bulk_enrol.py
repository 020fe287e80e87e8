"""The bulk set-up of the benchmarks and the several-workers scenario (`bulk_enrol`) writes
what the repositories write one at a time: read back through the repositories, from keys
unwrapped afresh, a bulk patient, its account (found by its blind index) and its enrolment
equal those of a patient made by `create`, `link` and `add`, and so do the plain columns the
scheduler and the retention rule read."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select

from storage.models import PatientRow
from storage.store import Store
from tests.conftest import StoreClock
from tests.scheduler.bulk_enrol import NewPatient, add_enrolments, add_patients
from tests.scheduler.engine_support import plan


async def test_bulk_patients_read_back_as_those_made_one_at_a_time(
    store: Store, store_clock: StoreClock
) -> None:
    now = store_clock.now
    enrolment = plan("Asia/Seoul", ["08:30"], date(2026, 11, 29))
    made = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    await store.identities.link(made.id, "telegram", "4242", chat="-99")
    await store.enrolments.add(made.id, enrolment)

    bulk = await add_patients(
        store.context,
        [
            NewPatient("Mina", "Asia/Seoul", " 4243 ", chat="-98", language="ko"),
            NewPatient("Wei", "Asia/Shanghai", "4244", plan=enrolment.to_dict(), language="zh"),
        ],
        now,
        chunk=1,
    )
    await add_enrolments(store.context, bulk[:1], enrolment.to_dict(), now)
    store.context.data_keys.clear()  # every key unwrapped from its stored row

    mina, wei = bulk
    assert await store.patients.get(mina) == replace(made, id=mina)
    assert (await store.patients.get(wei)).alias == "Wei"
    found = await store.identities.find("telegram", "4243")
    expected = (await store.identities.for_patient(made.id))[0]
    assert found is not None
    assert replace(found, id=expected.id, patient_id=made.id) == replace(
        expected, address="4243", chat="-98"
    )
    assert (await store.identities.find("telegram", "4244")) is not None
    for pid in (mina, wei):
        [record] = await store.enrolments.active(pid)
        [one] = await store.enrolments.active(made.id)
        assert replace(record, id=one.id, patient_id=made.id) == one
    async with store.context.transaction() as session:
        plain = {
            row.id: row[1:]
            for row in await session.execute(
                select(
                    PatientRow.id,
                    PatientRow.created_at,
                    PatientRow.seen_on,
                    PatientRow.retention_at,
                    PatientRow._retention,
                )
            )
        }
    assert plain[mina] == plain[wei] == plain[made.id]
    assert set(await store.retention.due(now, 10)) == {made.id, mina, wei}


async def test_bulk_patients_can_wait_for_the_retention_rule(
    store: Store, store_clock: StoreClock
) -> None:
    later = store_clock.now.replace(year=2027)
    [pid] = await add_patients(
        store.context, [NewPatient("P", "UTC", "1")], store_clock.now, retention_at=later
    )
    assert await store.retention.due(store_clock.now, 10) == []
    assert await store.retention.due(later, 10) == [pid]


async def test_a_claim_takes_the_longest_waiting_and_holds_them_until_the_given_instant(
    store: Store, store_clock: StoreClock
) -> None:
    now = store_clock.now
    waiting = [now - timedelta(days=3), now - timedelta(days=1), now - timedelta(days=2)]
    ids = [
        (
            await add_patients(
                store.context, [NewPatient(f"P{n}", "UTC", str(n))], now, retention_at=at
            )
        )[0]
        for n, at in enumerate(waiting)
    ]
    tomorrow = now + timedelta(days=1)
    assert await store.retention.claim(now, 2, tomorrow) == [ids[0], ids[2]]
    assert await store.retention.claim(now, 2, tomorrow) == [ids[1]]  # another worker's turn
    assert await store.retention.claim(now, 2, tomorrow) == []
    assert await store.retention.due(now, 10) == []
    assert set(await store.retention.due(tomorrow, 10)) == set(ids)  # a dead worker's come back
