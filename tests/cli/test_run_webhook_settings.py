"""`tbbot run --webhook` refuses incomplete or unsafe settings before touching anything, and
never echoes the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main as tbbot
from tests.fakebotapi import TEST_TOKEN

GOOD = {
    "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
    "TBBOT_HTTP_LISTEN": "127.0.0.1:0",
    "TBBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
    "TBBOT_TELEGRAM_WEBHOOK_SECRET": "0123456789abcdef-_ABC",
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"TBBOT_HTTP_LISTEN": ""}, "set TBBOT_HTTP_LISTEN"),
        ({"TBBOT_TELEGRAM_WEBHOOK_URL": ""}, "needs TBBOT_TELEGRAM_WEBHOOK_URL"),
        ({"TBBOT_TELEGRAM_WEBHOOK_URL": "http://bot.example.org/hook"}, "must be https://"),
        ({"TBBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/h?x=1"}, "no query"),
        ({"TBBOT_TELEGRAM_WEBHOOK_SECRET": ""}, "needs a secret"),
        ({"TBBOT_TELEGRAM_WEBHOOK_SECRET": "not allowed: spaces!"}, "1 to 256 characters"),
        ({"TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE": "/nonexistent/secret"}, "not both"),
    ],
)
def test_incomplete_webhook_settings_are_refused_without_echoing_the_secret(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    problem: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {**GOOD, **change}.items():
        monkeypatch.setenv(name, value)
    assert tbbot(["run", "--webhook"]) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert "spaces!" not in err and GOOD["TBBOT_TELEGRAM_WEBHOOK_SECRET"] not in err
    assert not (tmp_path / "data").exists()  # nothing was opened or created


def test_the_secret_comes_from_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / "webhook.secret"
    secret.write_text("bad secret with spaces\n")
    for name, value in {**GOOD, "TBBOT_TELEGRAM_WEBHOOK_SECRET": ""}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE", str(secret))
    assert tbbot(["run", "--webhook"]) == 2  # read, and checked
    err = capsys.readouterr().err
    assert "1 to 256 characters" in err and "bad secret" not in err
    monkeypatch.setenv("TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE", str(tmp_path / "missing"))
    assert tbbot(["run", "--webhook"]) == 2
    assert "cannot read" in capsys.readouterr().err
