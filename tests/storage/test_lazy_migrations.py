"""Opening a store that is already migrated does not load Alembic (a tenth of a second of
start-up); a store that needs migrating still is migrated."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from storage.migrate import _alembic_head, head_revision

OPEN_AND_REPORT = textwrap.dedent(
    """
    import asyncio, sys
    from storage.keyring import parse_env_keys
    from storage.store import Store

    async def main():
        store = await Store.open(sys.argv[1], parse_env_keys("{key}"))
        await store.close()

    asyncio.run(main())
    print("alembic loaded" if "alembic" in sys.modules else "alembic not loaded")
    """
).format(key="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")


def open_in_a_fresh_process(url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, url],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return done.stdout.strip()


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    assert head_revision() == _alembic_head()


def test_a_new_database_is_migrated_and_a_migrated_one_opens_without_alembic(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tbbot.sqlite3'}"
    assert open_in_a_fresh_process(url) == "alembic loaded"
    assert open_in_a_fresh_process(url) == "alembic not loaded"
