"""Ciphertext moved to another row, column or patient fails loudly, and says nothing of content."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select, text, update

from storage.errors import IntegrityError
from storage.models import Base
from storage.records import DoseOutcome, ReportedVia
from storage.store import Store
from tests.storage.people import Person, add_person


async def _swap(
    store: Store, table_name: str, column: str, first: str, second: str, key: str = "id"
) -> None:
    """Exchange one column's raw bytes between two rows, as an attacker with write access."""
    table = Base.metadata.tables[table_name]
    async with store.engine.begin() as connection:
        values = {
            row_id: (
                await connection.execute(select(table.c[column]).where(table.c[key] == row_id))
            ).scalar_one()
            for row_id in (first, second)
        }
        for row_id, other in ((first, second), (second, first)):
            await connection.execute(
                update(table).where(table.c[key] == row_id).values({column: values[other]})
            )


async def _failure(
    caplog: pytest.LogCaptureFixture, person: Person, action: Callable[[], Awaitable[object]]
) -> IntegrityError:
    caplog.set_level(logging.INFO)
    with pytest.raises(IntegrityError) as raised:
        await action()
    logged = caplog.text + str(raised.value)
    for marker in person.markers:
        assert marker not in logged
    return raised.value


@pytest.fixture
async def two(store: Store) -> tuple[Person, Person]:
    return await add_person(store, "mina", "5550193847"), await add_person(
        store, "wei", "5550274615"
    )


async def test_alias_swapped_between_patients_fails_integrity(
    store: Store, two: tuple[Person, Person], caplog: pytest.LogCaptureFixture
) -> None:
    mina, wei = two
    await _swap(store, "patients", "alias", mina.patient.id, wei.patient.id)
    failure = await _failure(caplog, mina, lambda: store.patients.get(mina.patient.id))
    assert (failure.table, failure.column, failure.row_id) == ("patients", "alias", mina.patient.id)
    assert f"patients.alias in row {mina.patient.id}" in caplog.text + str(failure)
    (event,) = [e for e in await store.audit.recent() if e.event == "integrity_failure"]
    assert (event.table_name, event.column_name, event.row_id) == (
        "patients",
        "alias",
        mina.patient.id,
    )


async def test_note_swapped_between_rows_of_one_patient_fails_integrity(
    store: Store, two: tuple[Person, Person], caplog: pytest.LogCaptureFixture
) -> None:
    mina, _ = two
    await store.doses.record(
        mina.patient.id, mina.slot_ids[1], DoseOutcome.TAKEN, ReportedVia.BUTTON, note="second note"
    )
    first, second = await store.doses.events(mina.patient.id)
    await _swap(store, "dose_events", "note", first.id, second.id)
    failure = await _failure(caplog, mina, lambda: store.doses.events(mina.patient.id))
    assert (failure.table, failure.column) == ("dose_events", "note")
    assert failure.row_id in {first.id, second.id}


async def test_value_moved_to_another_column_fails_integrity(
    store: Store, two: tuple[Person, Person], caplog: pytest.LogCaptureFixture
) -> None:
    mina, _ = two
    async with store.engine.begin() as connection:
        await connection.execute(
            text("UPDATE patients SET time_zone = language WHERE id = :r"), {"r": mina.patient.id}
        )
    failure = await _failure(caplog, mina, lambda: store.patients.get(mina.patient.id))
    assert (failure.table, failure.column) == ("patients", "time_zone")


async def test_data_keys_swapped_between_patients_fail_integrity(
    store: Store, two: tuple[Person, Person], caplog: pytest.LogCaptureFixture
) -> None:
    mina, wei = two
    await _swap(store, "data_keys", "wrapped", mina.patient.id, wei.patient.id, key="patient_id")
    store.context.data_keys.clear()
    failure = await _failure(caplog, mina, lambda: store.patients.get(mina.patient.id))
    assert (failure.table, failure.column, failure.row_id) == (
        "data_keys",
        "wrapped",
        mina.patient.id,
    )


async def test_row_reassigned_to_another_patient_fails_integrity(
    store: Store, two: tuple[Person, Person], caplog: pytest.LogCaptureFixture
) -> None:
    mina, wei = two
    (report,) = await store.side_effects.for_patient(mina.patient.id)
    async with store.engine.begin() as connection:
        await connection.execute(
            text("UPDATE side_effect_reports SET patient_id = :w WHERE id = :r"),
            {"w": wei.patient.id, "r": report.id},
        )
    failure = await _failure(caplog, mina, lambda: store.side_effects.for_patient(wei.patient.id))
    assert (failure.table, failure.row_id) == ("side_effect_reports", report.id)
