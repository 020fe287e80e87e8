"""`tbbot backup` copies a live SQLite database consistently; the copy is encrypted and restores."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.cli import main as tbbot
from storage.backup import backup_sqlite
from storage.errors import StoreError
from storage.keyring import Keyring
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.people import add_person
from tests.storage.scan import hits, sqlite_bytes


async def test_backup_of_a_live_database_restores_with_the_same_key(
    sqlite_database: TestDatabase, keyring: Keyring, tmp_path: Path
) -> None:
    assert sqlite_database.path is not None
    store = await Store.open(sqlite_database.url, keyring)
    try:
        mina = await add_person(store, "mina", "5550193847")
        forgotten = await add_person(store, "wei", "5550274615")
        await store.forget(forgotten.patient.id)
        copy = tmp_path / "backups" / "tbbot-backup.sqlite3"
        report = backup_sqlite(sqlite_database.path, copy)  # while the store is open
    finally:
        await store.close()

    assert report.size_bytes == copy.stat().st_size
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert hits(sqlite_bytes(copy), [*mina.markers, *forgotten.markers, forgotten.patient.id]) == []

    restored = await Store.open(f"sqlite+aiosqlite:///{copy}", keyring)
    try:
        assert (await restored.patients.get(mina.patient.id)).alias == mina.markers[0]
        assert len(await restored.doses.events(mina.patient.id)) == 1
        assert await restored.patients.count() == 1
    finally:
        await restored.close()


def test_backup_never_overwrites(sqlite_database: TestDatabase, tmp_path: Path) -> None:
    assert sqlite_database.path is not None
    sqlite_database.path.write_bytes(b"")
    existing = tmp_path / "there.sqlite3"
    existing.write_text("keep me")
    with pytest.raises(StoreError, match="already exists"):
        backup_sqlite(sqlite_database.path, existing)
    assert existing.read_text() == "keep me"


def test_backup_command_refuses_postgresql_and_existing_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/x")
    assert tbbot(["backup", str(tmp_path / "b.sqlite3")]) == 2
    assert "pg_dump" in capsys.readouterr().err
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("TBBOT_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "taken").write_text("")
    assert tbbot(["backup", str(tmp_path / "taken")]) == 2
    assert "already exists" in capsys.readouterr().err
