"""The image's start, run here without Docker: the entrypoint script against a real
PostgreSQL and the fake Bot API on 127.0.0.1, with the environment compose.yaml gives the
container. It migrates, starts, answers /start, and stops cleanly on SIGTERM (what
`docker stop` sends)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import text

from storage.keyring import create_key_file, read_key_file
from storage.migrate import head_revision
from storage.store import Store
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi, FakeUser
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint.sh"


async def read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"the bot ended before {marker!r}: {''.join(seen)}")
        seen.append(line)
        if marker in line:
            return


async def test_the_entrypoint_migrates_starts_answers_start_and_stops_cleanly(
    postgres_database: TestDatabase, fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    secrets, data = tmp_path / "secrets", tmp_path / "data"
    port = free_port()  # for the web server, as compose's 8080
    key_file = secrets / "master.key"
    create_key_file(key_file)
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": fake_bot_api.token,
        "TELEGRAM_API_BASE_URL": fake_bot_api.base_url,
        "DATABASE_URL": postgres_database.url,
        "TBBOT_MASTER_KEY_FILE": str(key_file),
        "TBBOT_DATA_DIR": str(data),
        "TBBOT_HTTP_LISTEN": f"127.0.0.1:{port}",
    }
    bot = await asyncio.create_subprocess_exec(
        "sh",
        str(ENTRYPOINT),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert bot.stderr is not None
    log: list[str] = []
    try:
        await asyncio.wait_for(read_until(bot.stderr, "tbbot is running", log), 60)
        mina = FakeUser(7301, "M", "en")
        fake_bot_api.inject_command(mina, "start")
        await fake_bot_api.wait_for(lambda: bool(fake_bot_api.messages_in(mina.id)), within=20)
        # What compose's health check asks, and what Prometheus scrapes.
        async with aiohttp.ClientSession() as client:
            base = f"http://127.0.0.1:{port}"
            async with client.get(f"{base}/health") as health:
                assert health.status == 200, await health.text()
            async with client.get(f"{base}/metrics") as metrics:
                assert metrics.status == 200
                assert "tbbot_outbox_depth" in await metrics.text()
        bot.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(bot.stderr.read(), 30)
        assert await asyncio.wait_for(bot.wait(), 30) == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert "tbbot stopped" in rest.decode()
    assert "Traceback" not in "".join(log) + rest.decode()
    assert not data.exists() or not any(data.iterdir())  # PostgreSQL: nothing local
    store = await Store.open(postgres_database.url, read_key_file(key_file), migrate=False)
    try:
        async with store.engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == head_revision()
    finally:
        await store.close()
