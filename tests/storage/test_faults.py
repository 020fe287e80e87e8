"""A locked, full or read-only database gives a clear error and loses nothing committed."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from storage.errors import DatabaseFull, DatabaseLocked, DatabaseReadOnly, DatabaseUnavailable
from storage.keyring import Keyring
from storage.store import Store
from tests.conftest import TestDatabase


@contextlib.asynccontextmanager
async def _every_connection(store: Store, statement: str) -> AsyncIterator[None]:
    """Run a SQLite ``statement`` on each new connection of ``store`` inside the block."""
    await store.engine.dispose()

    def run(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()

    event.listen(store.engine.sync_engine, "connect", run)
    try:
        yield
    finally:
        event.remove(store.engine.sync_engine, "connect", run)
        await store.engine.dispose()


@contextlib.asynccontextmanager
async def _read_only(store: Store, database: TestDatabase) -> AsyncIterator[None]:
    if database.path is not None:
        async with _every_connection(store, "PRAGMA query_only = ON"):
            yield
        return
    admin = await asyncpg.connect(database.dsn())
    try:
        await admin.execute(
            f'ALTER DATABASE "{database.name}" SET default_transaction_read_only = on'
        )
        await store.engine.dispose()
        yield
        await admin.execute(f'ALTER DATABASE "{database.name}" RESET default_transaction_read_only')
        await store.engine.dispose()
    finally:
        await admin.close()


async def _mina(store: Store) -> str:
    return (await store.patients.create(alias="Mina", language="ko", time_zone="UTC")).id


async def test_locked_database_reports_locked_and_keeps_committed_rows(
    database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(database.url, keyring, busy_timeout_ms=200)
    try:
        mina_id = await _mina(store)
        if database.path is not None:
            holder = sqlite3.connect(database.path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            release = holder.close
        else:
            pg = await asyncpg.connect(database.dsn())
            await pg.execute("BEGIN; LOCK TABLE patients IN ACCESS EXCLUSIVE MODE")

            async def release_pg() -> None:
                await pg.close()

        with pytest.raises(DatabaseLocked, match="committed before is intact"):
            await store.patients.create(alias="Wei", language="zh", time_zone="UTC")
        if database.path is not None:
            release()
        else:
            await release_pg()
        assert (await store.patients.get(mina_id)).alias == "Mina"
        assert await store.patients.count() == 1
        await store.patients.create(alias="Wei", language="zh", time_zone="UTC")
    finally:
        await store.close()


async def test_full_disk_reports_full_and_keeps_committed_rows(
    sqlite_database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(sqlite_database.url, keyring)
    try:
        mina_id = await _mina(store)
        async with _every_connection(store, "PRAGMA max_page_count = 1"):
            with pytest.raises(DatabaseFull, match="full"):
                await store.side_effects.add(
                    mina_id, symptoms=["rash"], level="red_flag", free_text="x" * 200_000
                )
        assert (await store.patients.get(mina_id)).alias == "Mina"
        assert await store.side_effects.for_patient(mina_id) == []
    finally:
        await store.close()


async def test_read_only_database_reports_read_only_and_keeps_committed_rows(
    database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(database.url, keyring)
    try:
        mina_id = await _mina(store)
        async with _read_only(store, database):
            with pytest.raises(DatabaseReadOnly, match="read-only"):
                await store.patients.create(alias="Wei", language="zh", time_zone="UTC")
        assert (await store.patients.get(mina_id)).alias == "Mina"
        assert await store.patients.count() == 1
    finally:
        await store.close()


async def test_unreachable_server_is_reported_as_unavailable(keyring: Keyring) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot"):
        await Store.open("postgresql+asyncpg://postgres@127.0.0.1:1/none", keyring)
