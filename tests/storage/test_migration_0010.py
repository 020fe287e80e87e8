"""Revision 0010 on SQLite and PostgreSQL: patients stored before it count as seen on the day
of the upgrade and are looked at by the retention rule at its next run; ``chat_cleanups``
comes and goes with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import Connection, func, inspect, select

from storage.keyring import Keyring
from storage.migrate import downgrade, upgrade
from storage.models import PatientRow, SideEffectReportRow
from storage.store import Store
from tests.conftest import TestDatabase

VERSIONS = Path(__file__).parents[2] / "storage" / "migrations" / "versions"


def _revision() -> tuple[str, str]:
    (path,) = VERSIONS.glob("0010_*.py")
    spec = importlib.util.spec_from_file_location("revision_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.revision, module.down_revision


def _columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("patients")}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_patients_from_before_0010_are_seen_today_and_due_for_a_look(
    database: TestDatabase, keyring: Keyring
) -> None:
    revision, before = _revision()
    store = await Store.open(database.url, keyring)
    try:
        mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
        await store.side_effects.add(mina.id, symptoms=["nausea"], level="soon")
        async with store.engine.begin() as connection:
            await downgrade(connection, before)
        async with store.engine.connect() as connection:
            assert "retention_at" not in await connection.run_sync(_columns)
            # Dropping the columns must not take the patient's rows with it (a SQLite table
            # copy-and-drop would, through the foreign keys' ON DELETE CASCADE).
            reports = select(func.count()).select_from(SideEffectReportRow)
            assert await connection.scalar(reports) == 1
            assert "chat_cleanups" not in await connection.run_sync(_tables)
        async with store.engine.begin() as connection:
            await upgrade(connection, revision)
        async with store.engine.connect() as connection:
            assert "chat_cleanups" in await connection.run_sync(_tables)
            row = (
                await connection.execute(
                    select(PatientRow.seen_on, PatientRow.retention_at).where(
                        PatientRow.id == mina.id
                    )
                )
            ).one()
        assert row.seen_on is not None and row.retention_at is not None
        assert await store.retention.due(store.context.clock(), 10) == [mina.id]
        assert (await store.retention.get(mina.id)).notice_on is None  # NULL: nothing told
    finally:
        await store.close()
