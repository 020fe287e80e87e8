"""Migrations take an empty database to head on both engines, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from bot.cli import main as tbbot
from storage.db import create_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade_engine
from storage.models import Base
from tests.conftest import TestDatabase


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_empty_database_migrates_to_head_matching_the_models(
    database: TestDatabase,
) -> None:
    engine = create_engine(database.url)
    try:
        assert await upgrade_engine(engine) == head_revision()
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            assert await connection.run_sync(_tables) == {*Base.metadata.tables, "alembic_version"}
        async with engine.begin() as connection:
            await downgrade(connection, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {"alembic_version"}
            assert await current_revision(connection) is None
        assert await upgrade_engine(engine) == head_revision()
        assert await upgrade_engine(engine) == head_revision()
    finally:
        await engine.dispose()


def test_migrate_command_creates_the_schema(
    database: TestDatabase,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database.url)
    assert tbbot(["migrate"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert tbbot(["migrate"]) == 0
