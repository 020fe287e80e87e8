"""The measurements migration on both engines: down keeps everything else readable, up again
gives an empty history that works, and no weight or count is ever readable in the table."""

from __future__ import annotations

import importlib

from sqlalchemy import Connection, inspect, text

from storage.db import create_engine
from storage.keyring import Keyring
from storage.migrate import downgrade, head_revision, upgrade_engine
from storage.records import WeightSource
from storage.store import Store
from tests.conftest import TestDatabase
from treatment.stock import Movement

MIGRATION = importlib.import_module("storage.migrations.versions.0008_measurements")


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_measurements_go_down_and_up_again_leaving_the_rest(
    database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(database.url, keyring)
    try:
        mina = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
        await store.measurements.add_weight(mina.id, 61.25, WeightSource.SETUP)
        await store.pill_stock.set(mina.id, {"HRZE": 84}, Movement.BOUGHT)
    finally:
        await store.close()

    engine = create_engine(database.url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT recorded_on, entry FROM measurements"))
            stored = rows.all()
        # Two rows, a day each; the sealed entry shows neither the weight nor the product.
        assert len(stored) == 2
        assert all(
            b"61.25" not in bytes(entry) and b"HRZE" not in bytes(entry) for _, entry in stored
        )
        async with engine.begin() as connection:
            await downgrade(connection, MIGRATION.down_revision)
        async with engine.connect() as connection:
            assert "measurements" not in await connection.run_sync(_tables)
        assert await upgrade_engine(engine) == head_revision()
    finally:
        await engine.dispose()

    store = await Store.open(database.url, keyring)
    try:
        assert (await store.patients.get(mina.id)).alias == "Mina"
        assert (await store.pill_stock.get(mina.id)).counts == {"HRZE": 84}  # type: ignore[union-attr]
        assert await store.measurements.history(mina.id) == []
        await store.measurements.add_weight(mina.id, 60.0, WeightSource.WEIGH_IN)
        assert [w.kg for w in await store.measurements.weights(mina.id)] == [60.0]
    finally:
        await store.close()
