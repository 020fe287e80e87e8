"""Telegram updates by webhook, on the bot's own web server (`bot.web.server.WebServer`).

With a webhook set, Telegram POSTs each update to our public URL and delivers it again until
one delivery is answered 2xx. That is the durability polling lacks: the update stays Telegram's
problem until we say it is handled. So the answer waits for the handling, whose effects (the
dialogue's writes, its replies) are committed first; a process that dies before answering
leaves the update to be delivered again.

Every request is untrusted until its ``X-Telegram-Bot-Api-Secret-Token`` header equals, in
constant time, the secret given to ``setWebhook`` (only Telegram has it). Answers:

- 401: no secret header; 403: a wrong one. Nothing is read, nothing is claimed.
- 503: the bot is not connected to Telegram yet (``getMe`` has not answered), or another
  process is handling this very update now: Telegram retries later.
- 400: authenticated, but not an update (Telegram never sends that; retrying will not help).
- 500: handling failed with nothing marked done: the re-delivery handles it again.
- 200: handled now, handled before (a re-delivery), or given up after `MAX_ATTEMPTS` failed
  handlings (the person is told something went wrong, as with polling).

Any number of processes may sit behind the webhook's URL: each update is claimed in the store
(`storage.repositories.telegram_updates`) under a lease, so it is handled by one of them, once,
and again only when that handling did not finish.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bot.telegram.app import TelegramAdapter, TelegramApplication
from scheduler.clock import Clock
from scheduler.leases import dead_here
from storage.repositories.telegram_updates import Claimed, UpdateClaim
from storage.store import Store

log = logging.getLogger(__name__)

# The name of the header, not a secret.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # nosec B105
DEFAULT_PATH = "/telegram/webhook"
# Longer than any one update's handling (a report PDF included), short enough that an update
# whose process died on another host is handled again within a couple of Telegram's retries.
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 3
# Telegram keeps an update it could not deliver for 24 hours; receipts outlive that.
KEEP = timedelta(hours=48)
PRUNE_EVERY = timedelta(hours=1)
RETRY_AFTER_SECONDS = 5
# The characters and length Telegram allows in a secret token (`setWebhook`).
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookConfigError(ValueError):
    pass


@dataclass(frozen=True)
class WebhookConfig:
    """The public URL Telegram posts to, and the secret it sends with every update."""

    url: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        loopback = parts.hostname in _LOOPBACK
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise WebhookConfigError(
                "the webhook URL must be https:// (Telegram posts nowhere else), or "
                "http://127.0.0.1 behind a local TLS proxy"
            )
        if not parts.hostname or parts.query or parts.fragment:
            raise WebhookConfigError("the webhook URL needs a host, and no query or fragment")
        if not _SECRET.fullmatch(self.secret):
            raise WebhookConfigError(
                "the webhook secret must be 1 to 256 characters among A-Z, a-z, 0-9, _ and -"
            )

    @property
    def path(self) -> str:
        """Where the route listens: the URL's path (a proxy in front passes it unchanged)."""
        return urlsplit(self.url).path or DEFAULT_PATH


def update_id_of(body: bytes) -> tuple[int, dict[str, Any]] | None:
    """The update id and the update itself, or None when the body is not an update."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        return None
    return update_id, data


class TelegramWebhook:
    """The webhook's route, its registration with Telegram, and the handling of each update
    by `application` (where `adapter` is installed) under a claim held by `owner`."""

    def __init__(
        self,
        config: WebhookConfig,
        application: TelegramApplication,
        adapter: TelegramAdapter,
        store: Store,
        clock: Clock,
        *,
        owner: str,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.config = config
        self.application = application
        self.adapter = adapter
        self.store = store
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.max_attempts = max_attempts
        self.ready = False
        self._pruned_at: datetime | None = None
        adapter.redelivered = True  # failures are retried by Telegram, not apologised for

    def __repr__(self) -> str:
        return f"TelegramWebhook(path={self.config.path!r}, <secret hidden>)"

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.config.path, self.handle)]

    async def register(self, bot: Bot) -> None:
        """Point Telegram at our URL with our secret (`setWebhook`). Every process does this at
        start with the same values, which changes nothing; updates queued while none was
        listening are kept and delivered."""
        await bot.set_webhook(
            url=self.config.url, secret_token=self.config.secret, drop_pending_updates=False
        )

    async def handle(self, request: web.Request) -> web.Response:
        """1. The secret header, in constant time; then readiness.
        2. The update id from the body; prune old receipts once an hour.
        3. Claim the update: a duplicate is answered 200 at once, one in hand elsewhere 503.
        4. Let python-telegram-bot hand it to the adapter (`Application.process_update`),
           which returns once the dialogue's writes are committed and its replies sent.
        5. Mark it done, then answer 200; on failure give the claim back and answer 500."""
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            log.warning("telegram webhook refused: no secret token")
            return web.json_response({"error": "unauthorised"}, status=401)
        if not hmac.compare_digest(given.encode(), self.config.secret.encode()):
            log.warning("telegram webhook refused: wrong secret token")
            return web.json_response({"error": "forbidden"}, status=403)
        if not self.ready:
            return _retry_later("not connected to Telegram yet")
        parsed = update_id_of(await request.read())
        if parsed is None:
            log.warning("telegram webhook refused: not an update")
            return web.json_response({"error": "not an update"}, status=400)
        update_id, data = parsed
        await self._prune()
        claimed = await self._claim(update_id)
        if claimed.outcome is UpdateClaim.DONE:
            return web.json_response({"ok": True, "duplicate": True})
        if claimed.outcome is UpdateClaim.BUSY:
            return _retry_later("being handled")
        update = Update.de_json(data, self.application.bot)
        if claimed.outcome is UpdateClaim.GIVE_UP:
            log.error("telegram update given up after %d failed handlings", claimed.attempt)
            await self.adapter.apologise(update)
            await self.store.telegram_updates.finish(update_id)
            return web.json_response({"ok": True, "given_up": True})
        try:
            await self.application.process_update(update)
            failed = self.adapter.failed(update)
        except Exception as exc:  # PTB hands handler errors to `on_error`; this is the rest
            log.error("telegram update failed: %s", type(exc).__name__)
            failed = True
        if failed:
            await self.store.telegram_updates.release(update_id, self.owner)
            return web.json_response({"error": "failed"}, status=500)
        await self.store.telegram_updates.finish(update_id)
        return web.json_response({"ok": True})

    async def _claim(self, update_id: int) -> Claimed:
        """Step 3. A lease held by a process of this host that has died (killed in the middle
        of this update) is taken over at once rather than when it runs out."""
        updates = self.store.telegram_updates
        claimed = await updates.claim(
            update_id, self.owner, self.lease, max_attempts=self.max_attempts
        )
        holder = claimed.holder
        if claimed.outcome is UpdateClaim.BUSY and holder and dead_here({holder}, self.owner):
            await updates.release_leases({holder})
            claimed = await updates.claim(
                update_id, self.owner, self.lease, max_attempts=self.max_attempts
            )
        return claimed

    async def _prune(self) -> None:
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        await self.store.telegram_updates.prune(now - KEEP)


def _retry_later(why: str) -> web.Response:
    return web.json_response(
        {"error": why}, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )
