"""A stolen database file, WAL or dump shows no patient content and no Telegram id."""

from __future__ import annotations

from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.people import add_person
from tests.storage.scan import hits, raw_bytes


async def test_raw_database_holds_no_marker_of_any_sealed_field(
    store: Store, database: TestDatabase
) -> None:
    people = [
        await add_person(store, "mina", "5550193847"),
        await add_person(store, "wei", "5550274615"),
        await add_person(store, "ana", "5550381726"),
    ]
    # Read everything back first: the values are really there, just not readable.
    for person in people:
        assert (await store.patients.get(person.patient.id)).alias == person.markers[0]
        assert (await store.identities.find("telegram", person.telegram_id)) is not None

    raw = raw_bytes(database)

    # Control: plaintext columns (random ids) are visible, so the scan does see the data.
    assert hits(raw, [people[0].patient.id, people[1].slot_ids[0]])
    markers = [marker for person in people for marker in person.markers]
    assert hits(raw, markers) == []
