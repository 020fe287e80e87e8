"""Keeping `tbbot run` connected to Telegram without letting Telegram hold up anything else.

Where Telegram is blocked, not reaching it is the normal case, not a crash: the reminder engine,
the outbox and every other channel keep running, and the Telegram side keeps trying. The link
owns python-telegram-bot's `Application` (receiving updates); sending goes through the
dispatcher's own `Bot`, which needs no ``getMe`` (see `sending`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.telegram.app import TelegramApplication

if TYPE_CHECKING:
    from bot.telegram.webhook import TelegramWebhook

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Waits between tries: `first` seconds, times `factor` after each failure, at most `most`,
    each spread by up to `jitter` either way so that many bots restarted together do not knock
    at the same instant."""

    first: float = 2.0
    factor: float = 2.0
    most: float = 300.0
    jitter: float = 0.2

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            # Not a secret: spreading retries needs no cryptographic randomness.
            yield delay * random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311  # nosec B311
            delay = min(delay * self.factor, self.most)


class TelegramLink:
    """Connects the `application`, then keeps it polling until told to stop; or, given a
    `webhook`, registers it with Telegram and lets it take updates until told to stop.

    `on_connected` runs once the bot is known (``getMe`` answered), for what needs its name.
    `connected` says whether updates are being received, for the health report.
    """

    def __init__(
        self,
        application: TelegramApplication,
        on_connected: Callable[[TelegramApplication], Awaitable[None]],
        backoff: Backoff | None = None,
        webhook: TelegramWebhook | None = None,
    ) -> None:
        self.application = application
        self.on_connected = on_connected
        self.backoff = backoff or Backoff()
        self.webhook = webhook
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        """1. Until `stop`: ask Telegram who the bot is (``getMe``); when that fails, log the
           kind of failure (never the message: PTB puts the token in some) and wait the next
           backoff delay, or until `stop`.
        2. Run `on_connected`, start the application and long polling. PTB retries polling
           failures itself from then on; they are logged by kind only. With a webhook:
           register it (``setWebhook``, retried with backoff like step 1), then let it answer.
        3. At `stop`, stop polling (or refuse webhook deliveries: Telegram keeps them for the
           other processes, or for the next start) and the application. The webhook stays set,
           because other processes may still be serving it. The caller bounds how long that may
           take (`bot.lifecycle.stop_within`): a hanging Bot API cannot hold up a stop.
        """
        try:
            if not await self._connect(stop):
                return
            await self.on_connected(self.application)
            await self.application.start()
            if self.webhook is not None:
                if not await self._register(self.webhook, stop):
                    return
                self.webhook.ready = True
                how = "by webhook"
            else:
                updater = self.application.updater
                if updater is None:
                    raise RuntimeError("the application was built without an updater")
                await updater.start_polling(error_callback=_polling_failed)
                how = "by long polling"
            self.connected = True
            logger.info("connected to Telegram; receiving updates %s", how)
            await stop.wait()
        finally:
            self.connected = False
            if self.webhook is not None:
                self.webhook.ready = False
            await self._close()

    async def _register(self, webhook: TelegramWebhook, stop: asyncio.Event) -> bool:
        """`webhook.register` until it succeeds; False if `stop` came first."""
        delays = self.backoff.delays()
        while not stop.is_set():
            try:
                await _first(webhook.register(self.application.bot), stop)
                return not stop.is_set()
            except TelegramError as exc:
                delay = next(delays)
                logger.warning(
                    "Telegram did not accept the webhook (%s); next try in %.0f s",
                    type(exc).__name__,
                    delay,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        return False

    async def _connect(self, stop: asyncio.Event) -> bool:
        """Step 1; False if `stop` came first."""
        delays = self.backoff.delays()
        while not stop.is_set():
            try:
                await _first(self.application.initialize(), stop)
                return not stop.is_set()
            except InvalidToken:
                problem = "Telegram refused the token (check TELEGRAM_BOT_TOKEN)"
            except TelegramError as exc:
                problem = f"Telegram cannot be reached ({type(exc).__name__})"
            delay = next(delays)
            logger.warning(
                "%s; reminders and other channels keep running; next try in %.0f s", problem, delay
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        return False

    async def _close(self) -> None:
        application = self.application
        updater = application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        # An application whose getMe never answered is not "initialized", and its shutdown
        # leaves the bot's connections open: close them here.
        await application.bot.shutdown()


async def _first(work: Awaitable[None], stop: asyncio.Event) -> None:
    """Await `work`, abandoning it (cancelled) if `stop` is set first."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return
    task.result()


def _polling_failed(error: TelegramError) -> None:
    logger.warning("receiving updates failed (%s); retrying", type(error).__name__)


@contextlib.asynccontextmanager
async def sending(bot: Bot) -> AsyncIterator[Bot]:
    """`bot` ready to send, without asking Telegram anything first: `Bot.initialize` would
    call ``getMe`` and fail where Telegram cannot be reached, and the dispatcher must run
    anyway (its sends then fail as retryable network errors until Telegram answers)."""
    await bot.request.initialize()
    try:
        yield bot
    finally:
        await bot.request.shutdown()
