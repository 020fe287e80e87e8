"""A restored backup obeys the forgotten list: who asked to be forgotten stays forgotten."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import pytest

from storage.backup import backup_sqlite
from storage.errors import StoreError
from storage.forgotten import ForgottenList
from storage.keyring import Keyring
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.people import add_person


def restore(backup: Path, database: Path) -> None:
    """docs/storage.md, "To restore": the database and its -wal and -shm files make way."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, database)


@pytest.fixture
def forgotten(tmp_path_factory: pytest.TempPathFactory) -> ForgottenList:
    """The list, in a folder of its own: apart from the database, as the bot requires."""
    return ForgottenList(tmp_path_factory.mktemp("state") / "tbbot" / "forgotten.txt")


async def test_a_restored_backup_forgets_again_who_was_forgotten_after_it(
    sqlite_database: TestDatabase, keyring: Keyring, forgotten: ForgottenList, tmp_path: Path
) -> None:
    assert sqlite_database.path is not None
    store = await Store.open(sqlite_database.url, keyring, forgotten=forgotten)
    try:
        mina = await add_person(store, "mina", "5550193847")
        wei = await add_person(store, "wei", "5550274615")
        backup = tmp_path / "backups" / "before-the-forget.sqlite3"
        backup_sqlite(sqlite_database.path, backup)
        await store.forget(wei.patient.id)
    finally:
        await store.close()

    # The operator restores the backup made before Wei asked to be forgotten.
    restore(backup, sqlite_database.path)
    restored = await Store.open(sqlite_database.url, keyring, forgotten=forgotten)
    try:
        assert not await restored.patients.exists(wei.patient.id)
        assert await restored.identities.find("telegram", wei.telegram_id) is None
        assert await restored.patients.exists(mina.patient.id)
    finally:
        await restored.close()

    text = forgotten.path.read_text()
    listed = [line for line in text.splitlines() if not line.startswith("#")]
    assert listed == [wei.patient.id]  # re-applying does not list the patient twice
    assert all(marker not in text for marker in wei.markers)
    assert re.fullmatch(r"[0-9a-f]{32}", listed[0])
    assert stat.S_IMODE(forgotten.path.stat().st_mode) == 0o600


async def test_a_listed_patient_found_at_start_is_forgotten_on_either_engine(
    database: TestDatabase, keyring: Keyring, forgotten: ForgottenList
) -> None:
    store = await Store.open(database.url, keyring)
    try:
        wei = await add_person(store, "wei", "5550274615")
    finally:
        await store.close()
    forgotten.add(wei.patient.id)  # as a forget made after this database's backup did
    store = await Store.open(database.url, keyring, forgotten=forgotten)
    try:
        assert not await store.patients.exists(wei.patient.id)
        assert await store.patients.count() == 0
    finally:
        await store.close()


async def test_a_forget_that_cannot_be_listed_forgets_nothing(
    database: TestDatabase, keyring: Keyring, tmp_path: Path
) -> None:
    """A forget a restore could undo is not one to tell the patient about."""
    folder = tmp_path / "state"
    store = await Store.open(database.url, keyring, forgotten=ForgottenList(folder / "list"))
    try:
        wei = await add_person(store, "wei", "5550274615")
        folder.write_text("")  # the list's folder became a file: it cannot be written
        with pytest.raises(StoreError, match="nothing was forgotten"):
            await store.forget(wei.patient.id)
        assert await store.patients.exists(wei.patient.id)
    finally:
        await store.close()
