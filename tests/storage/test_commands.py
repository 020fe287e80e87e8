"""The `tbbot keys` commands and the settings they read."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.cli import main as tbbot
from bot.config import Settings, config_dir
from storage.errors import KeyConfigError
from storage.keyring import create_key_file, read_key_file
from tests.conftest import TestDatabase


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in (
        "DATABASE_URL",
        "TBBOT_MASTER_KEY",
        "TBBOT_MASTER_KEY_FILE",
        "TBBOT_FORGOTTEN_FILE",
    ):
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
    key_file = config_dir() / "master.key"  # apart from the data folder, read by default
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not (workdir / "data").exists()
    assert "apart from the database backups" in capsys.readouterr().out
    assert Settings().key_file() == key_file
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
    key_file = config_dir() / "first.key"
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", str(key_file))
    assert tbbot(["keys", "init", "--file", str(key_file)]) == 0
    assert tbbot(["keys", "rotate"]) == 0
    assert tbbot(["keys", "rotate", "--new-key"]) == 0
    assert "nothing is re-wrapped yet" in capsys.readouterr().out
    assert tbbot(["keys", "check"]) == 0
    out = capsys.readouterr().out
    assert "newest: encrypts" in out and "wraps 0 data keys and 2 store keys" in out
    assert "unused" in out and "run `tbbot keys rotate`" in out  # step 2 still to do

    other = config_dir() / "other.key"
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


def test_keys_rotate_new_key_only_adds_the_key_and_a_second_step_rewraps(
    workdir: Path,
    database: TestDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A key must be backed up before any data depends on it: step 1 only adds it."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    assert tbbot(["keys", "init"]) == 0
    assert tbbot(["migrate"]) == 0
    assert tbbot(["keys", "rotate"]) == 0  # the store key is made under the first key
    first = read_key_file(config_dir() / "master.key").keys[0].id
    capsys.readouterr()
    assert tbbot(["keys", "rotate", "--new-key"]) == 0
    out = capsys.readouterr().out
    assert "Back up" in out and "then run `tbbot keys rotate`" in out
    newest = read_key_file(config_dir() / "master.key").newest.id
    assert newest != first
    assert tbbot(["keys", "check"]) == 0
    out = capsys.readouterr().out
    assert f"{first}: wraps 0 data keys and 2 store keys" in out
    assert f"{newest}: unused" in out
    assert tbbot(["keys", "rotate"]) == 0
    capsys.readouterr()
    assert tbbot(["keys", "check"]) == 0
    out = capsys.readouterr().out
    assert f"{newest}: wraps 0 data keys and 2 store keys" in out and f"{first}: unused" in out


def test_a_key_file_beside_the_database_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "Back up data/" must not copy the key that opens it."""
    beside = workdir / "data" / "master.key"
    assert tbbot(["keys", "init", "--file", str(beside)]) == 2
    assert "beside the database" in capsys.readouterr().err
    assert not beside.exists()
    # A key file put there by hand (as the old default did) stops every command that opens
    # the store, before anything is read or written.
    beside.parent.mkdir()
    create_key_file(beside)
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", str(beside))
    for command in (["keys", "check"], ["keys", "rotate"]):
        assert tbbot(command) == 2
        err = capsys.readouterr().err
        assert "beside the database" in err and str(config_dir()) in err
    assert not (workdir / "data" / "tbbot.sqlite3").exists()
    # Also next to a SQLite file outside the data folder.
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{workdir / 'db' / 'x.sqlite3'}")
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", str(workdir / "db" / "master.key"))
    with pytest.raises(KeyConfigError, match="beside the database"):
        Settings().keyring()


def test_an_empty_master_key_file_variable_counts_as_unset(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`TBBOT_MASTER_KEY_FILE=` as .env.example leaves it is not the current folder."""
    key = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", "")
    monkeypatch.setenv("TBBOT_MASTER_KEY", key)
    settings = Settings()
    assert settings.master_key_file is None
    assert len(settings.keyring().keys) == 1  # not "both are set"
    monkeypatch.delenv("TBBOT_MASTER_KEY")
    (workdir / ".env").write_text("TBBOT_MASTER_KEY_FILE=\nTBBOT_MASTER_KEY=\nDATABASE_URL=\n")
    monkeypatch.delenv("TBBOT_MASTER_KEY_FILE")
    settings = Settings()
    assert (settings.master_key_file, settings.master_key, settings.database_url) == (None,) * 3
    with pytest.raises(KeyConfigError, match="tbbot keys init"):
        settings.keyring()
