"""Starting with a wrong or missing key refuses to run, clearly, and writes nothing."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from sqlalchemy import MetaData, select, text

from storage.errors import KeyConfigError
from storage.keyring import Keyring, MasterKey
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.scan import sqlite_bytes


async def _fingerprint(database: TestDatabase, keyring: Keyring) -> str:
    """A digest of everything stored: the file bytes, or every table's rows on PostgreSQL."""
    if database.path is not None:
        return hashlib.sha256(sqlite_bytes(database.path)).hexdigest()
    from storage.db import create_engine

    engine = create_engine(database.url)
    digest = hashlib.sha256()
    try:
        async with engine.connect() as connection:
            found = MetaData()
            await connection.run_sync(found.reflect)
            for table in found.sorted_tables:
                rows = await connection.execute(select(table).order_by(*table.primary_key))
                digest.update(repr((table.name, rows.all())).encode())
    finally:
        await engine.dispose()
    return digest.hexdigest()


async def _with_mina(database: TestDatabase, keyring: Keyring) -> str:
    store = await Store.open(database.url, keyring)
    try:
        mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    finally:
        await store.close()
    return mina.id


async def test_same_id_different_key_refuses_and_writes_nothing(
    database: TestDatabase, keyring: Keyring
) -> None:
    await _with_mina(database, keyring)
    before = await _fingerprint(database, keyring)
    impostor = Keyring((MasterKey("test-1", secrets.token_bytes(32)),))
    with pytest.raises(KeyConfigError, match="'test-1' does not open this database"):
        await Store.open(database.url, impostor)
    assert await _fingerprint(database, keyring) == before


async def test_unknown_key_id_refuses_and_names_the_missing_id(
    database: TestDatabase, keyring: Keyring
) -> None:
    await _with_mina(database, keyring)
    before = await _fingerprint(database, keyring)
    other = Keyring((MasterKey("test-2", secrets.token_bytes(32)),))
    with pytest.raises(KeyConfigError, match="'test-1', which is not configured"):
        await Store.open(database.url, other)
    assert await _fingerprint(database, keyring) == before


async def test_old_and_new_key_together_read_old_data_and_encrypt_with_new(
    database: TestDatabase, keyring: Keyring
) -> None:
    mina_id = await _with_mina(database, keyring)
    both = Keyring((*keyring.keys, MasterKey("test-2", secrets.token_bytes(32))))
    store = await Store.open(database.url, both)
    try:
        assert (await store.patients.get(mina_id)).alias == "Mina"
        wei = await store.patients.create(alias="Wei", language="zh", time_zone="Asia/Shanghai")
        async with store.engine.connect() as connection:
            key_id = (
                await connection.execute(
                    text("SELECT key_id FROM data_keys WHERE patient_id = :p"), {"p": wei.id}
                )
            ).scalar_one()
        assert key_id == "test-2"
    finally:
        await store.close()


async def test_a_new_database_opens_with_any_key(database: TestDatabase) -> None:
    fresh = Keyring((MasterKey("fresh", secrets.token_bytes(32)),))
    store = await Store.open(database.url, fresh)
    await store.close()
