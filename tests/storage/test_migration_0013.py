"""Migration 0013 (several workers): its tables come and go with it, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from storage.db import create_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade_engine
from tests.conftest import TestDatabase

TABLES = {"telegram_updates", "send_pace"}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_0013_upgrades_and_downgrades(database: TestDatabase) -> None:
    engine = create_engine(database.url)
    try:
        assert await upgrade_engine(engine) == head_revision()
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) >= TABLES
        async with engine.begin() as connection:
            await downgrade(connection, "0007")
        async with engine.connect() as connection:
            assert await current_revision(connection) == "0007"
            assert not TABLES & await connection.run_sync(_tables)
        assert await upgrade_engine(engine) == head_revision()
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) >= TABLES
    finally:
        await engine.dispose()
