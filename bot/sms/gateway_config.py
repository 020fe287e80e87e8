"""An SMS gateway's settings: what `bot.config` reads and checks at every start.

Kept apart from `bot.sms.gateway` so that reading the settings does not import the gateway's
client (android-sms-gateway, with requests and pycryptodome): a bot without SMS never loads it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SERVER_PREFIX = "/3rdparty/v1"
DEFAULT_TIMEOUT = 15.0


class Mode(enum.StrEnum):
    LOCAL = "local"
    SERVER = "server"


class GatewayConfigError(ValueError):
    """The gateway settings cannot work; the message says what to change."""


@dataclass(frozen=True)
class GatewayConfig:
    url: str
    password: str
    user: str = "sms"
    mode: Mode = Mode.LOCAL
    passphrase: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    sim_number: int | None = None

    def __repr__(self) -> str:
        return f"GatewayConfig(url={self.url!r}, mode={self.mode.value}, user={self.user!r})"

    def base_url(self) -> str:
        """The client's base URL; refuses a URL that cannot work in this mode.

        The phone serves its routes at the root: the cloud server's ``/3rdparty/v1`` prefix
        there gives 404 on every call. An own server needs the prefix: it is added if missing.
        """
        url = self.url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise GatewayConfigError("TBBOT_SMS_GATEWAY_URL must start with http:// or https://")
        if self.mode is Mode.LOCAL:
            if url.endswith(SERVER_PREFIX):
                raise GatewayConfigError(
                    f"in local mode the phone serves its API at the root: drop {SERVER_PREFIX} "
                    "from TBBOT_SMS_GATEWAY_URL, or set TBBOT_SMS_GATEWAY_MODE=server"
                )
            return url
        return url if url.endswith(SERVER_PREFIX) else url + SERVER_PREFIX
