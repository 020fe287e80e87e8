"""Configuration from the environment and ``.env``, with secrets kept out of repr and logs.

Every setting is an environment variable (names below); a ``.env`` file in the working folder
is read too (see ``.env.example``). Secrets are `SecretStr`: printing the settings shows
``'**********'``. Add new settings here with their variable name as ``validation_alias``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import UsageError
from bot.logsafe import LEVELS
from bot.sms.gateway_config import DEFAULT_TIMEOUT, GatewayConfig, GatewayConfigError, Mode
from bot.sms.policy import (
    DEFAULT_ALARM_MINUTES,
    DEFAULT_DAILY_SEGMENTS,
    DEFAULT_MAX_SEGMENTS,
    DEFAULT_PER_MINUTE,
    SmsPolicy,
)
from scheduler.retention import (
    DEFAULT_AFTER_SILENCE_DAYS,
    DEFAULT_AFTER_TREATMENT_DAYS,
    DEFAULT_NOTICE_DAYS,
    RetentionPolicy,
)
from storage.db import default_sqlite_url, sqlite_path
from storage.errors import KeyConfigError
from storage.forgotten import ForgottenList
from storage.keyring import Keyring, load_keyring
from storage.store import Store

KEY_FILE_NAME = "master.key"
FORGOTTEN_FILE_NAME = "forgotten.txt"


def config_dir() -> Path:
    """Where tbbot's own files live by default, apart from the data folder:
    ``$XDG_CONFIG_HOME/tbbot`` (``~/.config/tbbot``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tbbot"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/tbbot`` (``~/.local/state/tbbot``): the forgotten list."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tbbot"


def setting_problem(exc: ValidationError) -> str:
    """What is wrong with the settings, in their own words: never pydantic's echo of the
    value, which may be a secret."""
    error = exc.errors()[0]
    names = ", ".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{names}: {message}" if names else message


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

    telegram_webhook_url: str | None = Field(
        default=None, validation_alias="TBBOT_TELEGRAM_WEBHOOK_URL"
    )
    """For `tbbot run --webhook`: the public https URL Telegram posts updates to (its path is
    the route served on ``TBBOT_HTTP_LISTEN``, a reverse proxy in front terminating TLS)."""

    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TBBOT_TELEGRAM_WEBHOOK_SECRET"
    )
    """The secret Telegram sends with every webhook update; exclusive with the file below."""

    telegram_webhook_secret_file: Path | None = Field(
        default=None, validation_alias="TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE"
    )
    """A file holding that secret (first line), readable by the bot only."""

    telegram_rate: float = Field(default=25.0, gt=0, le=30, validation_alias="TBBOT_TELEGRAM_RATE")
    """Messages a second to Telegram for the whole bot, all processes together (Telegram's
    ceiling is about 30)."""

    workers: int = Field(default=1, ge=1, le=64, validation_alias="TBBOT_WORKERS")
    """How many `tbbot run` processes share the database. Above 1 they keep
    ``TBBOT_TELEGRAM_RATE`` together, each send booking its instant in the database."""

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

    regimens_dir: Path | None = Field(default=None, validation_alias="TBBOT_REGIMENS_DIR")
    """The operator's custom regimen files, offered in set-up (see `bot.operator_regimens`)."""

    forgotten_file: Path | None = Field(default=None, validation_alias="TBBOT_FORGOTTEN_FILE")
    """The forgotten list (`storage.forgotten`); default ``state_dir()/forgotten.txt``."""

    log_level: str = Field(default="INFO", validation_alias="TBBOT_LOG_LEVEL")
    """DEBUG, INFO, WARNING or ERROR (`tbbot run --log-level` overrides it)."""

    http_listen: str | None = Field(default=None, validation_alias="TBBOT_HTTP_LISTEN")
    """``HOST:PORT`` of the web server (health endpoint, webhooks); off when unset."""

    healthcheck_url: SecretStr | None = Field(
        default=None, validation_alias="TBBOT_HEALTHCHECK_URL"
    )
    """The dead-man's switch (`bot.health.DeadMansSwitch`): pinged while healthy; off when
    unset. Secret: whoever has it can fake the pings."""

    sms_gateway_url: str | None = Field(default=None, validation_alias="TBBOT_SMS_GATEWAY_URL")
    """SMS Gateway for Android: the phone (``http://192.168.1.20:8080``) or your own server;
    several phones sharing the load: their URLs separated by commas."""

    sms_gateway_mode: Mode = Field(default=Mode.LOCAL, validation_alias="TBBOT_SMS_GATEWAY_MODE")
    """``local`` (the phone's own server on the LAN) or ``server`` (your own server for it)."""

    sms_gateway_user: str = Field(default="sms", validation_alias="TBBOT_SMS_GATEWAY_USER")

    sms_gateway_password: SecretStr | None = Field(
        default=None, validation_alias="TBBOT_SMS_GATEWAY_PASSWORD"
    )

    sms_passphrase: SecretStr | None = Field(default=None, validation_alias="TBBOT_SMS_PASSPHRASE")
    """The app's end-to-end encryption passphrase; texts and numbers are then sent encrypted."""

    sms_signing_key: SecretStr | None = Field(
        default=None, validation_alias="TBBOT_SMS_SIGNING_KEY"
    )
    """The app's webhook signing key; webhooks are refused without it."""

    sms_webhook_url: str | None = Field(default=None, validation_alias="TBBOT_SMS_WEBHOOK_URL")
    """Where the phone posts its webhooks: this bot's address as the phone reaches it, ending
    in ``/sms/gateway/webhook`` (``https://``, or ``http://127.0.0.1`` only)."""

    sms_default_region: str | None = Field(
        default=None, validation_alias="TBBOT_SMS_DEFAULT_REGION"
    )
    """The country (``CN``, ``KR``) of numbers the phone reports without a country code."""

    sms_timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, validation_alias="TBBOT_SMS_TIMEOUT")
    """Seconds to wait for the gateway's answer to one call."""

    sms_sim: int | None = Field(default=None, ge=1, le=3, validation_alias="TBBOT_SMS_SIM")
    """Which SIM of the phone sends (1 to 3); default: the phone's default SIM."""

    sms_max_segments: int = Field(
        default=DEFAULT_MAX_SEGMENTS, ge=1, le=10, validation_alias="TBBOT_SMS_MAX_SEGMENTS"
    )
    """The longest SMS, in segments; longer content is shortened (reminders are always one)."""

    sms_daily_segments: int = Field(
        default=DEFAULT_DAILY_SEGMENTS, ge=1, validation_alias="TBBOT_SMS_DAILY_SEGMENTS"
    )
    """Segments per person per day; beyond it only a STOP confirmation is sent."""

    sms_per_minute: float = Field(
        default=DEFAULT_PER_MINUTE, gt=0, validation_alias="TBBOT_SMS_PER_MINUTE"
    )
    """How many texts a minute each phone sends (its carrier's pace)."""

    sms_alarm_minutes: int = Field(
        default=DEFAULT_ALARM_MINUTES, ge=1, validation_alias="TBBOT_SMS_ALARM_MINUTES"
    )
    """After how long an unreachable gateway or texts stuck pending are reported."""

    retention_after_treatment_days: int = Field(
        default=DEFAULT_AFTER_TREATMENT_DAYS,
        ge=0,
        validation_alias="TBBOT_RETENTION_AFTER_TREATMENT_DAYS",
    )
    """Erase a patient's data this many days after their treatment ends (0: never)."""

    retention_after_silence_days: int = Field(
        default=DEFAULT_AFTER_SILENCE_DAYS,
        ge=0,
        validation_alias="TBBOT_RETENTION_AFTER_SILENCE_DAYS",
    )
    """Erase a patient's data after this many days without a message from them (0: never)."""

    retention_notice_days: int = Field(
        default=DEFAULT_NOTICE_DAYS, ge=1, validation_alias="TBBOT_RETENTION_NOTICE_DAYS"
    )
    """Tell the patient this many days before their data is erased."""

    @field_validator(
        "telegram_bot_token",
        "telegram_api_base_url",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "telegram_webhook_secret_file",
        "database_url",
        "master_key",
        "master_key_file",
        "crisis_lines_file",
        "regimens_dir",
        "forgotten_file",
        "http_listen",
        "healthcheck_url",
        "sms_gateway_url",
        "sms_gateway_password",
        "sms_passphrase",
        "sms_signing_key",
        "sms_webhook_url",
        "sms_default_region",
        "sms_sim",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """``NAME=`` (as .env.example leaves them) means unset: never the current folder as a
        key file, never an empty secret."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return "INFO"
        if isinstance(value, str) and value.strip().upper() in LEVELS:
            return value.strip().upper()
        raise ValueError(f"must be one of {', '.join(LEVELS)}")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return Path("data")
        return value

    def retention_policy(self) -> RetentionPolicy:
        try:
            return RetentionPolicy.in_days(
                self.retention_after_treatment_days,
                self.retention_after_silence_days,
                self.retention_notice_days,
            )
        except ValueError as exc:
            raise UsageError(
                "TBBOT_RETENTION_AFTER_TREATMENT_DAYS and TBBOT_RETENTION_AFTER_SILENCE_DAYS "
                f"must each be 0 (off) or more than TBBOT_RETENTION_NOTICE_DAYS: {exc}"
            ) from None

    def sms_policy(self) -> SmsPolicy:
        if self.sms_daily_segments < self.sms_max_segments:
            raise UsageError("TBBOT_SMS_DAILY_SEGMENTS must be at least TBBOT_SMS_MAX_SEGMENTS")
        return SmsPolicy(self.sms_max_segments, self.sms_daily_segments)

    def sms_gateways(self) -> list[GatewayConfig]:
        """One gateway per phone (empty when SMS is not configured). Several phones: URLs
        separated by commas, with one password for all or one per URL in the same order.
        Raises `UsageError` when the settings are half there or cannot work."""
        urls = [u.strip() for u in (self.sms_gateway_url or "").split(",") if u.strip()]
        if not urls:
            return []
        secret = self.sms_gateway_password.get_secret_value() if self.sms_gateway_password else ""
        passwords = [p.strip() for p in secret.split(",")] if secret else []
        if not passwords:
            raise UsageError("TBBOT_SMS_GATEWAY_URL is set but TBBOT_SMS_GATEWAY_PASSWORD is not")
        if len(passwords) not in (1, len(urls)):
            raise UsageError(
                "TBBOT_SMS_GATEWAY_PASSWORD: give one password, or one per URL of "
                "TBBOT_SMS_GATEWAY_URL in the same order"
            )
        configs = []
        for n, url in enumerate(urls):
            config = GatewayConfig(
                url=url,
                user=self.sms_gateway_user,
                password=passwords[n if len(passwords) > 1 else 0],
                mode=self.sms_gateway_mode,
                passphrase=self.sms_passphrase.get_secret_value() if self.sms_passphrase else None,
                timeout=self.sms_timeout,
                sim_number=self.sms_sim,
            )
            try:
                config.base_url()
            except GatewayConfigError as exc:
                raise UsageError(str(exc)) from None
            configs.append(config)
        return configs

    def telegram_webhook_secret_value(self) -> str:
        """The webhook secret, from the environment or its file; `UsageError` when there is
        none, or both, or the file cannot be read. Never echoed in an error."""
        secret, path = self.telegram_webhook_secret, self.telegram_webhook_secret_file
        if secret is not None and path is not None:
            raise UsageError(
                "set TBBOT_TELEGRAM_WEBHOOK_SECRET or TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE, not both"
            )
        if secret is not None:
            return secret.get_secret_value().strip()
        if path is None:
            raise UsageError(
                "--webhook needs a secret: TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE (a file holding "
                "it) or TBBOT_TELEGRAM_WEBHOOK_SECRET; make one with `openssl rand -hex 32`"
            )
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(
                f"TBBOT_TELEGRAM_WEBHOOK_SECRET_FILE: cannot read {path} ({exc.strerror})"
            ) from None
        return lines[0].strip() if lines else ""

    def resolved_database_url(self) -> str:
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return default_sqlite_url(self.data_dir)

    def key_file(self) -> Path | None:
        """``TBBOT_MASTER_KEY_FILE``; without it (and without ``TBBOT_MASTER_KEY``), the
        default key file if `tbbot keys init` wrote one there."""
        if self.master_key_file is not None or self.master_key is not None:
            return self.master_key_file
        default = config_dir() / KEY_FILE_NAME
        return default if default.is_file() else None

    def keyring(self) -> Keyring:
        """The master keys; raises `storage.errors.KeyConfigError` if missing or malformed,
        or if the key file sits beside the database (see `check_apart`)."""
        secret = self.master_key.get_secret_value() if self.master_key else None
        key_file = self.key_file()
        if key_file is not None:
            self.check_apart(key_file, "master key file", config_dir())
        return load_keyring(secret, key_file)

    def forgotten_list(self) -> ForgottenList:
        path = self.forgotten_file or state_dir() / FORGOTTEN_FILE_NAME
        self.check_apart(path, "forgotten list", state_dir())
        return ForgottenList(path)

    def check_apart(self, path: Path, what: str, instead: Path) -> None:
        """Refuse `path` inside the data folder or the database's folder: copying that folder
        (the obvious backup) would then copy the key with the data it opens, or roll the
        forgotten list back with the data on a restore."""
        folders = [self.data_dir]
        database = sqlite_path(self.resolved_database_url())
        if database is not None:
            folders.append(database.parent)
        for folder in folders:
            if path.resolve().is_relative_to(folder.resolve()):
                raise KeyConfigError(
                    f"the {what} {path} is inside {folder}, beside the database: a copy of "
                    f"that folder would hold both. Move it elsewhere, for example into {instead} "
                    '(mode 0600), and point to it (docs/storage.md, "Keys apart from data")'
                )

    async def open_store(self, *, migrate: bool = True) -> Store:
        """Load the keys, then open (and migrate) the database; refuses wrong keys. The
        forgotten list is applied on the way (a restored backup obeys it)."""
        return await Store.open(
            self.resolved_database_url(),
            self.keyring(),
            migrate=migrate,
            forgotten=self.forgotten_list(),
        )


def load_settings() -> Settings:
    """The settings from the environment and ``.env``: what every command that needs them
    calls. A bad value is a `UsageError` that names the setting (`setting_problem`)."""
    try:
        return Settings()
    except ValidationError as exc:
        raise UsageError(setting_problem(exc)) from None
