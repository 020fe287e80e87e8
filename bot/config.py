"""Configuration from the environment and ``.env``, with secrets kept out of repr and logs.

Every setting is an environment variable (names below); a ``.env`` file in the working folder
is read too (see ``.env.example``). Secrets are `SecretStr`: printing the settings shows
``'**********'``. Add new settings here with their variable name as ``validation_alias``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import UsageError
from bot.sms.gateway import DEFAULT_TIMEOUT, GatewayConfig, GatewayConfigError, Mode
from bot.sms.sender import (
    DEFAULT_DAILY_SEGMENTS,
    DEFAULT_MAX_SEGMENTS,
    DEFAULT_PER_MINUTE,
    SmsPolicy,
)
from bot.sms.watch import DEFAULT_ALARM_MINUTES
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

    http_listen: str | None = Field(default=None, validation_alias="TBBOT_HTTP_LISTEN")
    """``HOST:PORT`` of the web server (health endpoint, webhooks); off when unset."""

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
