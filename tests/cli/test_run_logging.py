"""`tbbot run --log-level` and `TBBOT_LOG_LEVEL` choose how much is logged; even at DEBUG the
SQL libraries (which print statements and parameters) stay quiet and no chat id or text is
written. A real process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.run_support import Installation
from tests.fakebotapi import TEST_TOKEN, FakeBotApi
from tests.fakebotapi import fake_bot_api as fake_bot_api

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

CHAT = 590_173_468  # long and unusual: a hit cannot be a coincidence
TEXT = "a queued note that names nobody"
SQL = re.compile(r"\b(SELECT|UPDATE|INSERT|DELETE|BEGIN|COMMIT|PRAGMA)\b")


async def test_at_debug_the_sql_drivers_stay_quiet_and_nothing_identifying_is_logged(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    place = Installation.create(tmp_path, fake_bot_api)
    patient_id = await place.queued(CHAT, TEXT, "debug")
    run = await place.start("--log-level", "debug")
    try:
        await fake_bot_api.wait_for(lambda: TEXT in fake_bot_api.delivered_texts(CHAT), within=20)
        await run.wait_for_log("): sent")  # the dispatcher's DEBUG line
    finally:
        assert await run.stop() == 0, run.log
    log = run.log
    assert " DEBUG " in log
    loggers = set(re.findall(r" (?:DEBUG|INFO|WARNING|ERROR) ([\w.]+):", log))
    assert not {
        name for name in loggers if name.split(".")[0] in {"sqlalchemy", "aiosqlite", "asyncpg"}
    }
    assert not SQL.search(log), SQL.search(log)
    for secret in (str(CHAT), TEXT, patient_id, TEST_TOKEN, TEST_TOKEN.split(":")[1]):
        assert secret not in log, f"{secret!r} is in the log"


async def test_the_log_level_comes_from_the_environment_and_the_option_wins(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    place = Installation.create(tmp_path, fake_bot_api, TBBOT_LOG_LEVEL="warning")
    quiet = await place.start()
    try:
        await fake_bot_api.wait_for(lambda: bool(fake_bot_api.calls("getUpdates")), within=20)
    finally:
        assert await quiet.stop() == 0, quiet.log
    assert " INFO " not in quiet.log and "tbbot is running" not in quiet.log

    loud = await place.start("--log-level", "INFO")
    try:
        await loud.wait_for_log("tbbot is running")
    finally:
        assert await loud.stop() == 0

    wrong = await place.start("--log-level", "loud")
    assert await wrong.process.wait() == 2
    await wrong.stop()
    assert "invalid choice" in wrong.log
