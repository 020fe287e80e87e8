"""`tbbot run` starts without the libraries it does not need.

- The record renderers' libraries (fpdf2 with fontTools, Pillow, fhir.resources) load on the
  first /progress, /report or /export (`bot.dialogue.records`), not at start, where they cost
  more import time than the rest of the bot.
- The SMS gateway's client (android-sms-gateway, with requests and pycryptodome) loads only
  when a gateway is configured (`bot.sms.wiring`), and python-telegram-bot (with httpx) only
  when a token is set (`bot.app`): importing what `run` needs loads neither.
- `tbbot run` arms the reminder engine before it loads the Telegram side, aiohttp and the
  dialogue (`bot.app.run`, step 3), and then answers and sends as before.
- The commands that read no database or settings (`--help`, `drugs`, `regimens`, `plan`)
  load neither SQLAlchemy nor pydantic nor the ciphers: every command imports what it needs when
  it runs (`bot.commands`), not when the command line is built.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.run_support import Installation, Run
from tests.fakebotapi import FakeBotApi, FakeUser
from tests.fakebotapi import fake_bot_api as fake_bot_api

RENDERERS = ("fpdf", "fontTools", "PIL", "fhir")
SMS_CLIENT = ("android_sms_gateway", "requests", "Crypto")
TELEGRAM = ("telegram", "httpx")
CHAT = 471_220_913


def _loaded(imports: str, among: tuple[str, ...]) -> list[str]:
    """Which of the top-level packages `among` a fresh interpreter holds after `imports`."""
    program = (
        "import sys\n"
        f"import {imports}\n"
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({among!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return done.stdout.split()


STORE_AND_SETTINGS = ("sqlalchemy", "aiosqlite", "pydantic", "pydantic_settings", "cryptography")
# The command, then which of those packages the process held once it had run.
COMMAND_PROBE = """
import sys
from bot.cli import main

try:
    status = main(sys.argv[1:])
except SystemExit as stop:  # --help
    status = stop.code
held = sorted({m.split(".")[0] for m in sys.modules} & set(sys.stdin.read().split()))
print(f"status {status}; held " + (" ".join(held) or "none"), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["drugs"],
        ["regimens", "--json"],
        ["keys", "--help"],
        [
            "plan",
            "--regimen",
            "2HRZE/4HR",
            "--start",
            "2026-03-01",
            "--times",
            "08:00",
            "--tz",
            "UTC",
        ],
    ],
)
def test_a_command_that_reads_no_database_loads_neither_the_store_nor_the_settings(
    argv: list[str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", COMMAND_PROBE, *argv],
        input=" ".join(STORE_AND_SETTINGS),
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout  # it did its work: help, the catalogue, a plan
    assert done.stderr.strip().endswith("status 0; held none"), done.stderr


def test_a_command_that_reads_the_database_still_loads_what_it_needs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", COMMAND_PROBE, "keys", "check"],
        input=" ".join(STORE_AND_SETTINGS),
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "TBBOT_DATA_DIR": str(tmp_path / "data"),
            "TBBOT_MASTER_KEY": "",
        },
    )
    assert "tbbot keys: error: no master key" in done.stderr  # refused, as before
    held = done.stderr.strip().rsplit("held ", 1)[1].split()
    assert {"sqlalchemy", "pydantic", "pydantic_settings", "cryptography"} <= set(held)


def test_the_run_command_imports_no_renderer() -> None:
    assert _loaded("bot.cli, bot.app", RENDERERS) == []


def test_the_renderers_module_still_loads_them() -> None:
    assert _loaded("bot.cli, bot.app, bot.records.replies", RENDERERS) == sorted(RENDERERS)


def test_the_run_command_imports_neither_the_sms_client_nor_telegram() -> None:
    assert _loaded("bot.cli, bot.app, bot.commands.run", SMS_CLIENT + TELEGRAM) == []


def test_the_sms_channels_entry_loads_the_number_library_on_the_first_number_it_reads() -> None:
    # Every process's registry holds the SMS channel; the number library and the parser of
    # received texts load only where numbers are read.
    assert _loaded("bot.cli, bot.app, bot.commands.run", ("phonenumbers",)) == []
    program = (
        "import sys, bot.app\n"
        "from bot.sms.channel import SMS\n"
        "print('bot.sms.inbound' in sys.modules, 'phonenumbers' in sys.modules)\n"
        "assert SMS.contact is not None\n"
        "print(SMS.contact('+86 138 0013 8000'), 'phonenumbers' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True
    )
    before, after = done.stdout.splitlines()
    assert before == "False False"
    assert after.endswith(" True") and "+8613800138000" in after


def test_the_gateway_transport_still_loads_the_sms_client() -> None:
    assert _loaded("bot.cli, bot.app, bot.sms.gateway", SMS_CLIENT) == sorted(SMS_CLIENT)


def test_the_telegram_side_still_loads_python_telegram_bot() -> None:
    assert _loaded("bot.cli, bot.app, bot.telegram.link", TELEGRAM) == sorted(TELEGRAM)


def test_importing_what_run_needs_loads_no_web_server_nor_the_dialogue() -> None:
    # aiohttp (with the web server and the Telegram transport) and the dialogue's flows come
    # after the engine is armed (`bot.app.run`, step 3).
    assert _loaded("bot.cli, bot.app, bot.commands.run", ("aiohttp",)) == []
    program = "import sys, bot.cli, bot.app\nprint('bot.dialogue.service' in sys.modules)\n"
    done = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True
    )
    assert done.stdout.split() == ["False"]


# `tbbot run` itself, with a filter on the engine's logger that notes, when the engine says it
# is armed, which of the later parts' libraries the process holds by then.
ARMED_PROBE = """
import logging, sys
from bot.cli import main

LATER = {"telegram", "httpx", "aiohttp"}

class Probe(logging.Filter):
    def filter(self, record):
        if record.getMessage() == "reminder engine armed":
            held = sorted({m.split(".")[0] for m in sys.modules} & LATER)
            if "bot.dialogue.service" in sys.modules:
                held.append("dialogue")
            print("held when armed: " + (" ".join(held) or "none"), file=sys.stderr, flush=True)
        return True

logging.getLogger("scheduler.engine").addFilter(Probe())
sys.exit(main(["run"]))
"""


@pytest.mark.asyncio
@pytest.mark.slow
async def test_run_arms_the_engine_before_it_loads_telegram_then_answers_and_sends(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    place = Installation.create(tmp_path, fake_bot_api)
    await place.queued(CHAT, "queued before the start", "lazy")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ARMED_PROBE,
        cwd=tmp_path,
        env=place.env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    run = Run(process)
    try:
        await run.wait_for_log("held when armed: ")
        await fake_bot_api.wait_for(
            lambda: "queued before the start" in fake_bot_api.delivered_texts(CHAT), within=30
        )
        fake_bot_api.inject_command(FakeUser(CHAT), "help")
        await fake_bot_api.wait_for(lambda: len(fake_bot_api.delivered_texts(CHAT)) > 1, within=30)
    finally:
        assert await run.stop() == 0, run.log
    assert "held when armed: none" in run.log, run.log
    assert run.log.index("reminder engine armed") < run.log.index("tbbot is running")
