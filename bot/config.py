"""Configuration from the environment and ``.env``, with secrets kept out of repr and logs.

Every setting is an environment variable (names below); a ``.env`` file in the working folder
is read too (see ``.env.example``). Secrets are `SecretStr`: printing the settings shows
``'**********'``. Add new settings here with their variable name as ``validation_alias``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import default_sqlite_url
from storage.keyring import Keyring, load_keyring
from storage.store import Store


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    """From @BotFather; needed by `tbbot run` only."""

    telegram_api_base_url: str | None = Field(
        default=None, validation_alias="TELEGRAM_API_BASE_URL"
    )
    """A self-hosted Bot API server, passed to python-telegram-bot as ``base_url``."""

    data_dir: Path = Field(default=Path("data"), validation_alias="TBBOT_DATA_DIR")
    """Where the default SQLite database (and the demo's key file) live."""

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    """SQLAlchemy URL; may hold a password, hence secret. Default: SQLite in ``data_dir``."""

    master_key: SecretStr | None = Field(default=None, validation_alias="TBBOT_MASTER_KEY")
    """Master keys themselves (see `storage.keyring`); exclusive with ``master_key_file``."""

    master_key_file: Path | None = Field(default=None, validation_alias="TBBOT_MASTER_KEY_FILE")
    """A key file written by `tbbot keys init`."""

    crisis_lines_file: Path | None = Field(default=None, validation_alias="TBBOT_CRISIS_LINES_FILE")
    """The operator's crisis help lines (see `bot.crisis`); default: the packaged file."""

    def resolved_database_url(self) -> str:
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return default_sqlite_url(self.data_dir)

    def keyring(self) -> Keyring:
        """The master keys; raises `storage.errors.KeyConfigError` if missing or malformed."""
        secret = self.master_key.get_secret_value() if self.master_key else None
        return load_keyring(secret, self.master_key_file)

    async def open_store(self, *, migrate: bool = True) -> Store:
        """Load the keys, then open (and migrate) the database; refuses wrong keys."""
        return await Store.open(self.resolved_database_url(), self.keyring(), migrate=migrate)
