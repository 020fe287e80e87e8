"""`tbbot run` starts without the libraries it does not need.

- The record renderers' libraries (fpdf2 with fontTools, Pillow, fhir.resources) load on the
  first /progress, /report or /export (`bot.dialogue.records`), not at start, where they cost
  more import time than the rest of the bot.
- The SMS gateway's client (android-sms-gateway, with requests and pycryptodome) loads only
  when a gateway is configured (`bot.sms.wiring`), and python-telegram-bot (with httpx) only
  when a token is set (`bot.app`): importing what `run` needs loads neither.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RENDERERS = ("fpdf", "fontTools", "PIL", "fhir")
SMS_CLIENT = ("android_sms_gateway", "requests", "Crypto")
TELEGRAM = ("telegram", "httpx")


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


def test_the_run_command_imports_no_renderer() -> None:
    assert _loaded("bot.cli, bot.app", RENDERERS) == []


def test_the_renderers_module_still_loads_them() -> None:
    assert _loaded("bot.cli, bot.app, bot.records.replies", RENDERERS) == sorted(RENDERERS)


def test_the_run_command_imports_neither_the_sms_client_nor_telegram() -> None:
    assert _loaded("bot.cli, bot.app, bot.commands.run", SMS_CLIENT + TELEGRAM) == []


def test_the_gateway_transport_still_loads_the_sms_client() -> None:
    assert _loaded("bot.cli, bot.app, bot.sms.gateway", SMS_CLIENT) == sorted(SMS_CLIENT)


def test_the_telegram_side_still_loads_python_telegram_bot() -> None:
    assert _loaded("bot.cli, bot.app, bot.telegram.link", TELEGRAM) == sorted(TELEGRAM)
