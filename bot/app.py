"""`tbbot run`: the real bot. This module only wires the parts together.

One process receives updates by long polling (or by webhook: then several processes may share
the work on one PostgreSQL database, see docs/deploy.md), runs the reminder engine and the outbox
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
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.channels import CHANNELS
from bot.config import Settings
from bot.errors import UsageError
from bot.health import ChannelWatch, DeadMansSwitch, Health, SendWatch
from bot.lifecycle import Part, run_until_stopped
from bot.logsafe import configure_logging
from bot.runtime import Runtime, build_runtime
from bot.sms.wiring import sms_from_settings
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.web.metrics import metrics_routes
from bot.web.server import WebServer, parse_listen
from scheduler.channels import ChannelSpec
from scheduler.clock import SystemClock
from scheduler.leases import release_dead, worker_id
from scheduler.sending import Sender
from scheduler.shared_pace import SharedPace
from scheduler.wakeup import ApschedulerWakeup
from storage.errors import KeyConfigError, StoreError

if TYPE_CHECKING:
    from telegram import Bot

    from bot.telegram.app import TelegramApplication
    from bot.telegram.link import TelegramLink
    from bot.telegram.webhook import WebhookConfig

log = logging.getLogger(__name__)

NO_BOT_CREDENTIALS = (
    "TELEGRAM_BOT_TOKEN is not set. Copy .env.example to .env and put the token from "
    "@BotFather there (never commit .env). To try the bot without Telegram, run `make demo`."
)


async def run(settings: Settings, *, webhook: bool = False) -> int:
    """Steps:
    1. Refuse to start without a channel (a Telegram token, an SMS gateway, or both) or
       without the right master key (nothing is written).
    2. Open (and migrate) the store; give back the leases of this host's dead processes.
    3. Build the runtime (`bot.runtime`) with each configured channel's sender (Telegram's
       watched for the health report). Run the engine, the dispatcher, the Telegram link and
       the SMS watch side by side until a stop signal.
       The link connects in the background, with backoff, so reminders and other channels run
       whether or not Telegram can be reached (`bot.telegram.link`).
    4. With `TBBOT_HTTP_LISTEN`, serve `/health` (`bot.health`), and for SMS the phone's
       webhooks and `/health/sms` (`bot.sms.wiring`); with `TBBOT_HEALTHCHECK_URL`, ping that
       dead-man's switch while healthy.
    5. With `webhook`, Telegram updates come by webhook on that server instead of long
       polling (`bot.telegram.webhook`), so any number of processes can share the work.
    6. Stop everything within `bot.lifecycle.STOP_WITHIN` seconds, even if the Bot API hangs.
    """
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token and not settings.sms_gateway_url:
        raise UsageError(NO_BOT_CREDENTIALS)
    listen = _listen_address(settings)
    hook = _webhook_config(settings, token, listen) if webhook else None
    configure_logging(settings.log_level, token=token or None)
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
    try:
        sms = sms_from_settings(settings, store, clock)
        await release_dead(store, me)  # a crash before this start must not delay anyone
    except BaseException:
        await store.close()
        raise
    senders: dict[str, Sender] = {}
    telegram = _telegram_spec(settings)
    specs = [telegram if spec.name == TELEGRAM.name else spec for spec in CHANNELS]
    sender_bot = _telegram_bot(settings, token) if token else None
    telegram_sends = None
    if sender_bot is not None:
        from bot.telegram.sender import TelegramSender

        telegram_sender: Sender = TelegramSender(sender_bot)
        if settings.workers > 1:
            telegram_sender = SharedPace(
                telegram_sender, store, TELEGRAM.name, settings.telegram_rate, clock
            )
        telegram_sends = SendWatch(telegram_sender, clock)
    if telegram_sends is not None:
        senders[TELEGRAM.name] = telegram_sends
    if sms is not None:
        senders[sms.spec.name] = sms.sender
        specs.append(sms.spec)
    runtime = build_runtime(
        store,
        clock,
        worker_id=me,
        senders=senders,
        channels=specs,
        wakeup=ApschedulerWakeup(),
        retention=settings.retention_policy(),
    )
    server = WebServer()
    parts: dict[str, Part] = {
        "the reminder engine": runtime.engine.run_forever,
        "the dispatcher": runtime.dispatcher.run_forever,
        "the chat cleaner": runtime.cleaner.run_forever,
        "the retention rule": runtime.retention.run_forever,
    }
    watches: dict[str, ChannelWatch] = {}
    if telegram_sends is not None:
        link = _telegram_link(settings, token, runtime, clock, hook, me, telegram)
        if link.webhook is not None:
            server.add_routes(link.webhook.routes())
        watches[TELEGRAM.name] = ChannelWatch(lambda: link.connected, telegram_sends)
        parts["the Telegram link"] = link.run
    service = sms.attach(runtime) if sms is not None else None
    if service is not None:
        parts["the SMS watch"] = service.run
    health = Health(store, clock, watches)
    if settings.healthcheck_url is not None:
        switch = DeadMansSwitch(health, settings.healthcheck_url.get_secret_value())
        parts["the dead-man's switch"] = switch.run
    server.add_routes(health.routes())
    server.add_routes(metrics_routes(runtime.engine.metrics, store, clock.now))
    if service is not None:
        server.add_routes(service.routes())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        if listen is not None:
            await _serve(server, listen)
        async with contextlib.AsyncExitStack() as stack:
            if sender_bot is not None:
                from bot.telegram.link import sending

                await stack.enter_async_context(sending(sender_bot))
            log.info("tbbot is running%s", " with SMS" if service is not None else "")
            ok = await run_until_stopped(parts, stop)
    finally:
        await server.stop()
        if service is not None:
            await service.close()
        await store.close()
    log.info("tbbot stopped")
    return 0 if ok else 1


def _telegram_link(
    settings: Settings,
    token: str,
    runtime: Runtime,
    clock: SystemClock,
    hook: WebhookConfig | None,
    me: str,
    spec: ChannelSpec,
) -> TelegramLink:
    """Long polling, or the webhook `hook`, with the replies through Telegram's lane
    (`bot.telegram.link`)."""
    from bot.telegram.app import TelegramAdapter, build_application, set_command_menus
    from bot.telegram.link import TelegramLink
    from bot.telegram.webhook import TelegramWebhook

    dialogue = runtime.dialogue
    application = build_application(token, settings.telegram_api_base_url)
    adapter = TelegramAdapter(
        dialogue.handle, dialogue.verbs, runtime.lane(TELEGRAM.name), clock, dialogue.sent
    )
    adapter.install(application)
    receiver = None
    if hook is not None:
        receiver = TelegramWebhook(hook, application, adapter, runtime.store, clock, owner=me)

    async def connected(app: TelegramApplication) -> None:
        await set_command_menus(app)
        # Invitation links name the bot: known once Telegram answered getMe.
        runtime.channels.register(with_bot_name(spec, app.bot.username))

    return TelegramLink(application, connected, webhook=receiver)


def _telegram_bot(settings: Settings, token: str) -> Bot:
    """The Bot API client. python-telegram-bot (with httpx) is imported here, only when a
    token is set: an SMS-only deployment never loads it."""
    from bot.telegram.sender import build_bot

    return build_bot(token, base_url=settings.telegram_api_base_url)


def _telegram_spec(settings: Settings) -> ChannelSpec:
    """Telegram's pace: `TBBOT_TELEGRAM_RATE` kept here, or with several workers kept by all
    of them together (`scheduler.shared_pace`), this process keeping only the per-chat gap."""
    shared = settings.workers > 1
    limits = replace(TELEGRAM.limits, global_rate=None if shared else settings.telegram_rate)
    return replace(TELEGRAM, limits=limits)


def _webhook_config(
    settings: Settings, token: str, listen: tuple[str, int] | None
) -> WebhookConfig:
    """`--webhook`'s settings, checked before anything starts."""
    from bot.telegram.webhook import WebhookConfig, WebhookConfigError

    if not token:
        raise UsageError("--webhook receives Telegram updates: set TELEGRAM_BOT_TOKEN")
    if listen is None:
        raise UsageError(
            "--webhook serves Telegram's updates on the web server: set TBBOT_HTTP_LISTEN "
            "(for example 127.0.0.1:8080, behind a TLS proxy)"
        )
    if not settings.telegram_webhook_url:
        raise UsageError(
            "--webhook needs TBBOT_TELEGRAM_WEBHOOK_URL, the public https:// address "
            "Telegram posts to (for example https://bot.example.org/telegram/webhook)"
        )
    try:
        return WebhookConfig(
            settings.telegram_webhook_url, settings.telegram_webhook_secret_value()
        )
    except WebhookConfigError as exc:
        raise UsageError(f"--webhook: {exc}") from None


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
