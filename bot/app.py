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
from typing import TYPE_CHECKING, Any

from bot.channels import CHANNELS
from bot.config import Settings
from bot.errors import UsageError
from bot.lifecycle import Part, finish, run_until_stopped
from bot.logsafe import configure_logging
from bot.runtime import Runtime, build_runtime
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.web.listen import parse_listen
from scheduler.channels import ChannelSpec
from scheduler.clock import SystemClock
from scheduler.leases import release_dead, worker_id
from scheduler.wakeup import ApschedulerWakeup
from storage.errors import KeyConfigError, StoreError
from storage.store import Store

if TYPE_CHECKING:
    from telegram import Bot

    from bot.health import ChannelWatch, SendWatch
    from bot.sms.wiring import SmsPrepared
    from bot.telegram.app import TelegramApplication
    from bot.telegram.link import TelegramLink
    from bot.telegram.webhook import WebhookConfig
    from bot.web.server import WebServer

log = logging.getLogger(__name__)

NO_BOT_CREDENTIALS = (
    "TELEGRAM_BOT_TOKEN is not set. Copy .env.example to .env and put the token from "
    "@BotFather there (never commit .env). To try the bot without Telegram, run `make demo`."
)
ARM_WAIT = 5.0
"""Seconds the rest of the start waits for the engine's first round (a backlog after an
outage can make it long): Telegram and the web routes are never held up longer."""


async def run(settings: Settings, *, webhook: bool = False) -> int:
    """Steps:
    1. Refuse to start without a channel (a Telegram token, an SMS gateway, or both) or
       without the right master key (nothing is written).
    2. Open (and migrate) the store; give back the leases of this host's dead processes;
       prepare the SMS channel if a gateway is configured.
    3. Build the runtime (`bot.runtime`) and start the reminder engine first: it is armed
       (due reminders queued, its next wake-up set) before the Telegram stack and the
       dialogue are even imported, which takes longer than the engine's first round. Wait
       for that, at most `ARM_WAIT` seconds.
    4. Then the rest (`_start_the_rest`): each configured channel's sender as a lane of the
       dispatcher (Telegram's watched for the health report), the Telegram link, the SMS
       watch, the chat cleaner and the retention rule. Run them beside the engine until a
       stop signal. The link connects in the background, with backoff, so reminders and
       other channels run whether or not Telegram can be reached (`bot.telegram.link`).
    5. With `TBBOT_HTTP_LISTEN`, serve `/health` (`bot.health`), `/metrics`, and for SMS the
       phone's webhooks and `/health/sms` (`bot.sms.wiring`); with `TBBOT_HEALTHCHECK_URL`,
       ping that dead-man's switch while healthy.
    6. With `webhook`, Telegram updates come by webhook on that server instead of long
       polling (`bot.telegram.webhook`), so any number of processes can share the work.
    7. Stop everything within `bot.lifecycle.STOP_WITHIN` seconds, even if the Bot API hangs.
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
    sms: SmsPrepared | None = None
    try:
        sms = _prepare_sms(settings, store, clock)
        await release_dead(store, me)  # a crash before this start must not delay anyone
    except BaseException:
        if sms is not None:
            await sms.close()
        await store.close()
        raise
    specs = [_telegram_spec(settings) if spec.name == TELEGRAM.name else spec for spec in CHANNELS]
    if sms is not None:
        specs.append(sms.spec)
    runtime = build_runtime(
        store,
        clock,
        worker_id=me,
        channels=specs,
        wakeup=ApschedulerWakeup(),
        retention=settings.retention_policy(),
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    engine = asyncio.ensure_future(runtime.engine.run_forever(stop))
    server: WebServer | None = None
    try:
        await _until_armed(runtime, engine, stop)
        async with contextlib.AsyncExitStack() as stack:
            parts, server = await _start_the_rest(
                settings, token, runtime, sms, hook, listen, me, stack
            )
            parts = {"the reminder engine": lambda _stop: engine, **parts}
            log.info("tbbot is running%s", " with SMS" if sms is not None else "")
            ok = await run_until_stopped(parts, stop)
    finally:
        stop.set()
        await finish({engine})  # ended already, unless a later step of the start failed
        if server is not None:
            await server.stop()
        if sms is not None:  # its gateway sessions were opened before anything else started
            await sms.close()
        await store.close()
    log.info("tbbot stopped")
    return 0 if ok else 1


async def _until_armed(runtime: Runtime, engine: asyncio.Future[None], stop: asyncio.Event) -> None:
    """Until the engine is armed, has ended (a crash, reported by `run_until_stopped`), a stop
    is asked, or `ARM_WAIT` has passed."""
    armed = asyncio.ensure_future(runtime.engine.armed.wait())
    stopped = asyncio.ensure_future(stop.wait())
    ends: list[asyncio.Future[Any]] = [armed, stopped, engine]
    try:
        await asyncio.wait(ends, timeout=ARM_WAIT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        armed.cancel()
        stopped.cancel()


async def _start_the_rest(
    settings: Settings,
    token: str,
    runtime: Runtime,
    sms: SmsPrepared | None,
    hook: WebhookConfig | None,
    listen: tuple[str, int] | None,
    me: str,
    stack: contextlib.AsyncExitStack,
) -> tuple[dict[str, Part], WebServer]:
    """Everything but the engine (step 4 of `run`): the parts to run beside it, and the web
    server (serving already when `listen` is set)."""
    from bot.health import ChannelWatch, DeadMansSwitch, Health
    from bot.web.metrics import metrics_routes
    from bot.web.server import WebServer

    clock = runtime.clock
    parts: dict[str, Part] = {
        "the dispatcher": runtime.dispatcher.run_forever,
        "the chat cleaner": runtime.cleaner.run_forever,
        "the retention rule": runtime.retention.run_forever,
    }
    server = WebServer()
    watches: dict[str, ChannelWatch] = {}
    if token:
        telegram_sends = await _telegram_sender(settings, token, runtime, stack)
        spec = runtime.channels[TELEGRAM.name]
        link = _telegram_link(settings, token, runtime, hook, me, spec)
        if link.webhook is not None:
            server.add_routes(link.webhook.routes())
        watches[TELEGRAM.name] = ChannelWatch(lambda: link.connected, telegram_sends)
        parts["the Telegram link"] = link.run
    if sms is not None:
        runtime.deliver(sms.spec.name, sms.sender)
        service = sms.attach(runtime)
        parts["the SMS watch"] = service.run
        server.add_routes(service.routes())
    health = Health(runtime.store, clock, watches)
    if settings.healthcheck_url is not None:
        switch = DeadMansSwitch(health, settings.healthcheck_url.get_secret_value())
        parts["the dead-man's switch"] = switch.run
    server.add_routes(health.routes())
    server.add_routes(metrics_routes(runtime.engine.metrics, runtime.store, clock.now))
    if listen is not None:
        await _serve(server, listen)
    return parts, server


async def _telegram_sender(
    settings: Settings, token: str, runtime: Runtime, stack: contextlib.AsyncExitStack
) -> SendWatch:
    """Telegram's lane of the dispatcher: the Bot API client (python-telegram-bot, imported
    here: an SMS-only deployment never loads it), paced by this process or, with several
    workers, by all of them together (`scheduler.shared_pace`); watched for `/health`."""
    from bot.health import SendWatch
    from bot.telegram.link import sending
    from bot.telegram.sender import TelegramSender, build_bot
    from scheduler.sending import Sender
    from scheduler.shared_pace import SharedPace

    bot: Bot = await stack.enter_async_context(
        sending(build_bot(token, base_url=settings.telegram_api_base_url))
    )
    sender: Sender = TelegramSender(bot)
    if settings.workers > 1:
        sender = SharedPace(
            sender, runtime.store, TELEGRAM.name, settings.telegram_rate, runtime.clock
        )
    sends = SendWatch(sender, runtime.clock)
    runtime.deliver(TELEGRAM.name, sends)
    return sends


def _prepare_sms(settings: Settings, store: Store, clock: SystemClock) -> SmsPrepared | None:
    """The SMS channel's parts when a gateway is configured (`bot.sms.wiring`, imported only
    then)."""
    if not settings.sms_gateway_url:
        return None
    from bot.sms.wiring import sms_from_settings

    return sms_from_settings(settings, store, clock)


def _telegram_link(
    settings: Settings,
    token: str,
    runtime: Runtime,
    hook: WebhookConfig | None,
    me: str,
    spec: ChannelSpec,
) -> TelegramLink:
    """Long polling, or the webhook `hook`, with the replies through Telegram's lane
    (`bot.telegram.link`)."""
    from bot.telegram.app import TelegramAdapter, build_application, set_command_menus
    from bot.telegram.link import TelegramLink
    from bot.telegram.webhook import TelegramWebhook

    clock = runtime.clock
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
