"""Migration 0012 (the numbers helpers asked the bot to text first) goes up and down on both
engines."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from storage.db import create_engine
from storage.migrate import downgrade, upgrade, upgrade_engine
from tests.conftest import TestDatabase


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _indexes(connection: Connection) -> set[str]:
    return {str(i["name"]) for i in inspect(connection).get_indexes("sms_first_contacts")}


async def test_0012_adds_the_first_contacts_table_and_its_downgrade_removes_it(
    database: TestDatabase,
) -> None:
    engine = create_engine(database.url)
    try:
        await upgrade_engine(engine, "0011")
        async with engine.connect() as connection:
            assert "sms_first_contacts" not in await connection.run_sync(_tables)
        async with engine.begin() as connection:
            await upgrade(connection, "0012")
        async with engine.begin() as connection:
            assert "sms_first_contacts" in await connection.run_sync(_tables)
            assert await connection.run_sync(_indexes) == {
                "ix_sms_first_contacts_lookup",
                "ix_sms_first_contacts_asker",
                "ix_sms_first_contacts_asked_at",
            }
            await connection.execute(
                text(
                    "INSERT INTO sms_first_contacts (lookup, asker, asked_at) "
                    "VALUES (:l, :a, CURRENT_TIMESTAMP)"
                ),
                {"l": b"\x01" * 32, "a": b"\x02" * 32},
            )
        async with engine.begin() as connection:
            await downgrade(connection, "0011")
        async with engine.connect() as connection:
            assert "sms_first_contacts" not in await connection.run_sync(_tables)
            assert "sms_stops" in await connection.run_sync(_tables)
    finally:
        await engine.dispose()
