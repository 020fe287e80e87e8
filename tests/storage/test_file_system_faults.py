"""A read-only database is refused when the store opens, with the reason, not at the first
dose a patient reports; on PostgreSQL (a read-only default, as on a standby) and on SQLite (a
file system mounted read-only). A full disk is reported as a full disk, at start and at a
write."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from storage.errors import DatabaseFull, DatabaseReadOnly
from storage.keyring import Keyring
from storage.store import Store
from tests.conftest import TestDatabase

pytestmark = pytest.mark.asyncio


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of our own, which the test may remount read-only (needs root)."""
    point = tmp_path / "mnt"
    point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a read-only file system")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("mounting a tmpfs needs root: cannot make a read-only file system here")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def remount(point: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(point)], check=True)


async def test_a_sqlite_database_on_a_read_only_mount_is_refused_at_start(
    mount_point: Path, keyring: Keyring
) -> None:
    url = f"sqlite+aiosqlite:///{mount_point / 'tbbot.sqlite3'}"
    store = await Store.open(url, keyring)
    await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    await store.close()
    remount(mount_point, "ro")
    try:
        with pytest.raises(DatabaseReadOnly, match="read-only"):
            await Store.open(url, keyring)
    finally:
        remount(mount_point, "rw")


async def test_a_read_only_postgresql_database_is_refused_at_start(
    postgres_database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(postgres_database.url, keyring)
    await store.close()
    admin = await asyncpg.connect(postgres_database.dsn())
    try:
        await admin.execute(
            f'ALTER DATABASE "{postgres_database.name}" SET default_transaction_read_only = on'
        )
    finally:
        await admin.close()
    with pytest.raises(DatabaseReadOnly, match="read-only"):
        await Store.open(postgres_database.url, keyring)


def fill(folder: Path) -> None:
    """Fill the file system holding `folder` to the last byte."""
    with (folder / "filler").open("wb", buffering=0) as filler:
        for size in (65536, 1):
            try:
                while True:
                    filler.write(b"\0" * size)
            except OSError:
                continue


async def test_a_full_disk_is_reported_as_full_at_start_and_at_a_write(
    mount_point: Path, keyring: Keyring
) -> None:
    url = f"sqlite+aiosqlite:///{mount_point / 'tbbot.sqlite3'}"
    store = await Store.open(url, keyring)
    await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    await store.close()  # the -wal and -shm files are gone now
    fill(mount_point)
    with pytest.raises(DatabaseFull, match="full"):
        opened = await Store.open(url, keyring)
        try:
            for _ in range(50):
                await opened.patients.create(alias="Wei" * 100, language="en", time_zone="UTC")
        finally:
            await opened.close()
