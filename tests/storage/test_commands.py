"""The `tbbot keys` commands and the settings they read."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.cli import main as tbbot
from bot.config import Settings
from tests.conftest import TestDatabase


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "TBBOT_MASTER_KEY", "TBBOT_MASTER_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TBBOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_settings_hide_secrets_and_default_to_sqlite_in_the_data_folder(workdir: Path) -> None:
    settings = Settings(
        TELEGRAM_BOT_TOKEN="123:SECRET-TOKEN",
        TBBOT_MASTER_KEY="c2VjcmV0",
        DATABASE_URL=None,
    )
    shown = repr(settings) + str(settings)
    assert "SECRET-TOKEN" not in shown and "c2VjcmV0" not in shown
    assert settings.resolved_database_url() == (
        f"sqlite+aiosqlite:///{(workdir / 'data' / 'tbbot.sqlite3').resolve()}"
    )


def test_keys_init_writes_a_private_file_once(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tbbot(["keys", "init"]) == 0
    key_file = workdir / "data" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "TBBOT_MASTER_KEY_FILE" in capsys.readouterr().out
    before = key_file.read_bytes()
    assert tbbot(["keys", "init"]) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert key_file.read_bytes() == before


def test_keys_check_names_the_ids_in_use_and_refuses_a_wrong_key(
    workdir: Path,
    database: TestDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database.url)
    key_file = workdir / "master.key"
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", str(key_file))
    assert tbbot(["keys", "init", "--file", str(key_file)]) == 0
    assert tbbot(["keys", "rotate"]) == 0
    assert tbbot(["keys", "rotate", "--new-key"]) == 0
    capsys.readouterr()
    assert tbbot(["keys", "check"]) == 0
    out = capsys.readouterr().out
    assert "newest: encrypts" in out and "wraps 0 data keys and 1 store keys" in out
    assert "unused" in out

    other = workdir / "other.key"
    assert tbbot(["keys", "init", "--file", str(other)]) == 0
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", str(other))
    capsys.readouterr()
    assert tbbot(["keys", "check"]) == 1
    assert "not configured" in capsys.readouterr().err
    assert tbbot(["keys", "rotate"]) == 2
    assert "not configured" in capsys.readouterr().err


def test_missing_key_is_a_usage_error_with_what_to_do(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tbbot(["keys", "rotate"]) == 2
    assert "tbbot keys init" in capsys.readouterr().err
