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

from bot.channels import CHANNELS
from bot.config import Settings
from bot.errors import UsageError
from bot.logsafe import configure_logging
from bot.runtime import Runtime, build_runtime
from bot.sms.wiring import sms_from_settings
from bot.telegram.app import TelegramAdapter, build_application, set_command_menus
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.telegram.sender import TelegramSender, build_bot
from bot.web.server import WebServer, parse_listen
from scheduler.clock import SystemClock
from scheduler.sending import Sender
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
    1. Refuse to start without a channel (a Telegram token, an SMS gateway, or both) or
       without the right master key (nothing is written).
    2. Open (and migrate) the store.
    3. Build the runtime (`bot.runtime`) with each configured channel's sender; start
       Telegram's polling, and for SMS the web server that takes the phone's webhooks; run
       the engine and the dispatcher; wait for a stop signal.
    4. Stop receiving first, so no new work arrives, then the engine and dispatcher.
    """
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token and not settings.sms_gateway_url:
        raise UsageError(NO_BOT_CREDENTIALS)
    configure_logging(token=token or None)
    if settings.crisis_lines_file is not None:
        # `bot.crisis` reads the process environment; a value from .env must reach it too.
        os.environ["TBBOT_CRISIS_LINES_FILE"] = str(settings.crisis_lines_file)
    listen = _listen_address(settings)
    try:
        store = await settings.open_store()
    except KeyConfigError as exc:
        raise UsageError(str(exc)) from None
    except StoreError as exc:
        raise UsageError(f"the database could not be opened: {exc}") from None
    clock = SystemClock()
    try:
        sms = sms_from_settings(settings, store, clock)
    except BaseException:
        await store.close()
        raise
    senders: dict[str, Sender] = {}
    sender_bot = build_bot(token, base_url=settings.telegram_api_base_url) if token else None
    if sender_bot is not None:
        senders[TELEGRAM.name] = TelegramSender(sender_bot)
    specs = list(CHANNELS)
    if sms is not None:
        senders[sms.spec.name] = sms.sender
        specs.append(sms.spec)
    runtime = build_runtime(store, clock, worker_id=worker_id(), senders=senders, channels=specs)
    server = WebServer()
    service = sms.attach(runtime) if sms is not None else None
    if service is not None:
        server.add_routes(service.routes())

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        if listen is not None:
            await _serve(server, listen)
        async with contextlib.AsyncExitStack() as stack:
            if sender_bot is not None:
                await stack.enter_async_context(sender_bot)
                await _start_telegram(settings, token, runtime, clock, stack)
            workers = asyncio.gather(
                runtime.run(stop), *([service.run(stop)] if service is not None else [])
            )
            log.info("tbbot is running%s", " with SMS" if service is not None else "")
            await stop.wait()
            await stack.aclose()  # stop receiving first: polling, then the web routes
            await server.stop()
            await workers
    finally:
        await server.stop()
        if service is not None:
            await service.close()
        await store.close()
    log.info("tbbot stopped")
    return 0


async def _start_telegram(
    settings: Settings,
    token: str,
    runtime: Runtime,
    clock: SystemClock,
    stack: contextlib.AsyncExitStack,
) -> None:
    """Long polling, with the replies through Telegram's lane; stopped by `stack`."""
    dialogue = runtime.dialogue
    application = build_application(token, settings.telegram_api_base_url)
    TelegramAdapter(
        dialogue.handle, dialogue.verbs, runtime.lane(TELEGRAM.name), clock, dialogue.sent
    ).install(application)
    await stack.enter_async_context(application)
    await set_command_menus(application)
    # Invitation links name the bot: known once the application asked Telegram (getMe).
    runtime.channels.register(with_bot_name(TELEGRAM, application.bot.username))
    await application.start()
    stack.push_async_callback(application.stop)
    updater = application.updater
    if updater is None:
        raise RuntimeError("the application was built without an updater")
    await updater.start_polling()
    stack.push_async_callback(updater.stop)


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
    log.info("serving the web routes on %s:%d", host, server.port)
