"""Rotation re-wraps every data key under the newest master key, survives a kill, and verifies."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.keyring import Keyring, MasterKey
from storage.rotation import key_usage, rotate, verify
from storage.store import Store
from tests.conftest import TestDatabase
from tests.storage.people import add_person

ROOT = Path(__file__).resolve().parents[2]


def _env_value(keyring: Keyring) -> str:
    return ",".join(f"{k.id}:{base64.b64encode(k.secret).decode()}" for k in keyring.keys)


async def _create_patients(store: Store, count: int) -> None:
    async with store.transaction() as tx:
        for number in range(count):
            await tx.patients.create(alias=f"p{number}", language="en", time_zone="UTC")


async def _usage(store: Store) -> dict[str, int]:
    async with store.engine.connect() as connection:
        return (await key_usage(connection, store.keyring)).data_keys


async def test_rotation_rewraps_everything_and_old_key_can_go(
    database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(database.url, keyring)
    mina = await add_person(store, "mina", "5550193847")
    await _create_patients(store, 5)
    await store.close()

    newer = Keyring((*keyring.keys, MasterKey("test-2", secrets.token_bytes(32))))
    store = await Store.open(database.url, newer)
    seen: list[tuple[int, int]] = []
    report = await rotate(store, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    # Store keys: the blind index key and the chat clean-up key.
    assert (report.rewrapped, report.store_keys_rewrapped) == (6, 2)
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert await _usage(store) == {"test-2": 6}
    checked = await verify(store)
    assert checked.ok and checked.data_keys == 6 and checked.cells > 20
    await store.close()

    only_new = Keyring(newer.keys[1:])
    store = await Store.open(database.url, only_new)
    try:
        assert (await store.patients.get(mina.patient.id)).alias == mina.markers[0]
        assert await store.identities.find("telegram", mina.telegram_id) is not None
    finally:
        await store.close()


async def test_verify_reports_a_tampered_value_without_stopping(store: Store) -> None:
    mina = await add_person(store, "mina", "5550193847")
    await add_person(store, "wei", "5550274615")
    async with store.engine.begin() as connection:
        await connection.execute(
            text("UPDATE patients SET alias = language WHERE id = :p"), {"p": mina.patient.id}
        )
    checked = await verify(store)
    assert [(f.table, f.column, f.row_id) for f in checked.failures] == [
        ("patients", "alias", mina.patient.id)
    ]
    assert checked.cells > 20


def _rotate_process(database: TestDatabase, keyring: Keyring, tmp: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "TBBOT_MASTER_KEY": _env_value(keyring),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TBBOT_MASTER_KEY_FILE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "keys", "rotate", "--batch-size", "1"],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_rotation_killed_midway_resumes_and_verifies(
    database: TestDatabase, keyring: Keyring, tmp_path: Path
) -> None:
    total = 300
    store = await Store.open(database.url, keyring)
    await _create_patients(store, total)
    await store.close()
    newer = Keyring((*keyring.keys, MasterKey("test-2", secrets.token_bytes(32))))

    process = _rotate_process(database, newer, tmp_path)
    assert process.stderr is not None
    for line in process.stderr:
        done = int(line.rsplit(" ", 1)[-1].split("/")[0]) if "/" in line else 0
        if done > 0:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    store = await Store.open(database.url, newer)
    try:
        usage = await _usage(store)
        assert 0 < usage.get("test-2", 0) < total, usage
        assert sum(usage.values()) == total
    finally:
        await store.close()

    resumed = _rotate_process(database, newer, tmp_path)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"verified: {total} data keys" in out

    store = await Store.open(database.url, newer)
    try:
        assert await _usage(store) == {"test-2": total}
    finally:
        await store.close()
