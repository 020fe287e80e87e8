"""`tbbot run`: the real bot. This module only wires the parts together.

One process receives updates by long polling, runs the reminder engine and the outbox
dispatcher, and stops cleanly on SIGINT or SIGTERM within a bounded time (what it was doing is
either committed or left to be retried: nothing is lost by stopping). Telegram being out of
reach at start, or later, stops none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from telegram.ext import Application

from bot.config import Settings
from bot.errors import UsageError
from bot.health import ChannelWatch, DeadMansSwitch, Health, SendWatch
from bot.lifecycle import Part, run_until_stopped
from bot.logsafe import configure_logging
from bot.runtime import build_runtime
from bot.telegram.app import TelegramAdapter, build_application, set_command_menus
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.telegram.link import TelegramLink, sending
from bot.telegram.sender import TelegramSender, build_bot
from bot.web.server import WebServer, parse_listen
from scheduler.clock import SystemClock
from scheduler.leases import release_dead, worker_id
from storage.errors import KeyConfigError, StoreError

log = logging.getLogger(__name__)

NO_BOT_CREDENTIALS = (
    "TELEGRAM_BOT_TOKEN is not set. Copy .env.example to .env and put the token from "
    "@BotFather there (never commit .env). To try the bot without Telegram, run `make demo`."
)


async def run(settings: Settings) -> int:
    """Steps:
    1. Refuse to start without a token or without the right master key (nothing is written).
    2. Open (and migrate) the store; give back the leases of this host's dead processes.
    3. Build the runtime (`bot.runtime`) with Telegram's sender, watched for the health
       report. Run the engine, the dispatcher and the Telegram link side by side until a stop
       signal.
       The link connects in the background, with backoff, so reminders and other channels run
       whether or not Telegram can be reached (`bot.telegram.link`).
    4. With `TBBOT_HTTP_LISTEN`, serve `/health` (`bot.health`); with `TBBOT_HEALTHCHECK_URL`,
       ping that dead-man's switch while healthy.
    5. Stop everything within `bot.lifecycle.STOP_WITHIN` seconds, even if the Bot API hangs.
    """
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise UsageError(NO_BOT_CREDENTIALS)
    listen = _listen_address(settings)
    token = settings.telegram_bot_token.get_secret_value()
    configure_logging(settings.log_level, token=token)
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
    stop = asyncio.Event()
    me = worker_id()
    await release_dead(store, me)  # a crash before this start must not delay anyone
    sender_bot = build_bot(token, base_url=settings.telegram_api_base_url)
    telegram_sends = SendWatch(TelegramSender(sender_bot), clock)
    runtime = build_runtime(store, clock, worker_id=me, senders={TELEGRAM.name: telegram_sends})
    dialogue = runtime.dialogue
    application = build_application(token, settings.telegram_api_base_url)
    TelegramAdapter(
        dialogue.handle, dialogue.verbs, runtime.lane(TELEGRAM.name), clock, dialogue.sent
    ).install(application)

    async def connected(app: Application) -> None:
        await set_command_menus(app)
        # Invitation links name the bot: known once Telegram answered getMe.
        runtime.channels.register(with_bot_name(TELEGRAM, app.bot.username))

    link = TelegramLink(application, connected)
    health = Health(
        store, clock, {TELEGRAM.name: ChannelWatch(lambda: link.connected, telegram_sends)}
    )
    parts: dict[str, Part] = {
        "the reminder engine": runtime.engine.run_forever,
        "the dispatcher": runtime.dispatcher.run_forever,
        "the Telegram link": link.run,
    }
    if settings.healthcheck_url is not None:
        switch = DeadMansSwitch(health, settings.healthcheck_url.get_secret_value())
        parts["the dead-man's switch"] = switch.run
    server = WebServer()
    server.add_routes(health.routes())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        if listen is not None:
            await _serve(server, listen)
        async with sending(sender_bot):
            log.info("tbbot is running")
            ok = await run_until_stopped(parts, stop)
    finally:
        await server.stop()
        await store.close()
    log.info("tbbot stopped")
    return 0 if ok else 1


def _listen_address(settings: Settings) -> tuple[str, int] | None:
    if settings.http_listen is None:
        return None
    try:
        return parse_listen(settings.http_listen)
    except ValueError as exc:
        raise UsageError(f"TBBOT_HTTP_LISTEN: {exc}") from None


async def _serve(server: WebServer, listen: tuple[str, int]) -> None:
    host, port = listen
    try:
        await server.start(host, port)
    except OSError as exc:
        raise UsageError(
            f"TBBOT_HTTP_LISTEN: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    log.info("serving /health on %s:%d", host, server.port)
