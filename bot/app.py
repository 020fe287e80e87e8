"""`tbbot run`: the real bot. This module only wires the parts together.

One process receives updates by long polling, runs the reminder engine and the outbox
dispatcher, and stops cleanly on SIGINT or SIGTERM (what it was doing is either committed
or left to be retried: nothing is lost by stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from bot.config import Settings
from bot.errors import UsageError
from bot.logsafe import configure_logging
from bot.runtime import build_runtime
from bot.telegram.app import TelegramAdapter, build_application, set_command_menus
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.telegram.sender import TelegramSender, build_bot
from scheduler.clock import SystemClock
from storage.errors import KeyConfigError, StoreError

log = logging.getLogger(__name__)

NO_BOT_CREDENTIALS = (
    "TELEGRAM_BOT_TOKEN is not set. Copy .env.example to .env and put the token from "
    "@BotFather there (never commit .env). To try the bot without Telegram, run `make demo`."
)


def worker_id() -> str:
    return f"{socket.gethostname()[:24]}-{os.getpid()}"


async def run(settings: Settings) -> int:
    """Steps:
    1. Refuse to start without a token or without the right master key (nothing is written).
    2. Open (and migrate) the store.
    3. Build the runtime (`bot.runtime`) with Telegram's sender; start polling, the engine
       and the dispatcher; wait for a stop signal.
    4. Stop polling first, so no new work arrives, then the engine and dispatcher.
    """
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise UsageError(NO_BOT_CREDENTIALS)
    token = settings.telegram_bot_token.get_secret_value()
    configure_logging(token=token)
    if settings.crisis_lines_file is not None:
        # `bot.crisis` reads the process environment; a value from .env must reach it too.
        os.environ["TBBOT_CRISIS_LINES_FILE"] = str(settings.crisis_lines_file)
    try:
        store = await settings.open_store()
    except KeyConfigError as exc:
        raise UsageError(str(exc)) from None
    except StoreError as exc:
        raise UsageError(f"the database could not be opened: {exc}") from None
    clock = SystemClock()
    sender_bot = build_bot(token, base_url=settings.telegram_api_base_url)
    runtime = build_runtime(
        store, clock, worker_id=worker_id(), senders={TELEGRAM.name: TelegramSender(sender_bot)}
    )
    dialogue = runtime.dialogue
    application = build_application(token, settings.telegram_api_base_url)
    TelegramAdapter(
        dialogue.handle, dialogue.verbs, runtime.lane(TELEGRAM.name), clock, dialogue.sent
    ).install(application)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with application, sender_bot:
            await set_command_menus(application)
            # Invitation links name the bot: known once the application asked Telegram (getMe).
            runtime.channels.register(with_bot_name(TELEGRAM, application.bot.username))
            await application.start()
            updater = application.updater
            if updater is None:
                raise RuntimeError("the application was built without an updater")
            await updater.start_polling()
            log.info("tbbot is running")
            workers = asyncio.create_task(runtime.run(stop))
            await stop.wait()
            await updater.stop()
            await application.stop()
            await workers
    finally:
        await store.close()
    log.info("tbbot stopped")
    return 0
