"""The Telegram adapter: python-telegram-bot receives updates, the dialogue answers.

One handler for every update, because the conversation is channel-agnostic: the adapter
only translates an `Update` into an `Inbound`, and sends the dialogue's `Reply` objects
through Telegram's lane (`bot.channels.replies`): the same `TelegramSender` and rate limiter
as the dispatcher's messages, rendered as messages with inline buttons (or edits of the
message a button was pressed on).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.replies import SentHook, send_replies
from bot.dialogue.messages import Inbound, Reply
from bot.flows.info import command_descriptions
from bot.i18n import DEFAULT_LOCALE, LOCALES, negotiate, translator
from bot.telegram.inbound import to_inbound
from bot.telegram.transport import AiohttpRequest, Timeouts
from scheduler.clock import Clock
from scheduler.outbox import Payload
from scheduler.sending import Lane, Sent

logger = logging.getLogger(__name__)

Handle = Callable[[Inbound], Awaitable[list[Reply]]]
# Telegram matches a user's app language by its code; Chinese users' apps report "zh".
TELEGRAM_LANGUAGE = {"en": None, "ko": "ko", "zh_Hans": "zh"}


# Updates are handled one at a time (PTB's default), so a few connections carry every reply.
REPLY_CONNECTIONS = 4

# The application as `build_application` makes it: PTB's default bot, context and data types.
TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(token: str, base_url: str | None = None) -> TelegramApplication:
    """The application that receives updates and sends the replies, over the same aiohttp
    transport as the dispatcher (`bot.telegram.transport`): one connection for getUpdates long
    polling, `REPLY_CONNECTIONS` for everything else. `base_url` points at a self-hosted Bot API
    server if there is one."""
    builder = Application.builder().token(token)
    if base_url:
        builder = builder.base_url(base_url)
    return (
        builder.request(AiohttpRequest(connections=REPLY_CONNECTIONS, timeouts=Timeouts()))
        .get_updates_request(AiohttpRequest(connections=1, timeouts=Timeouts()))
        .build()
    )


class TelegramAdapter:
    """Receives updates for `handle` and sends what it answers through `lane`.

    `sent`, when given, hears of every message sent for a reply (for instance to delete
    health details from the chat later in discreet mode).
    """

    def __init__(
        self,
        handle: Handle,
        verbs: frozenset[str],
        lane: Lane,
        clock: Clock,
        sent: SentHook | None = None,
    ) -> None:
        self.handle = handle
        self.verbs = verbs
        self.lane = lane
        self.clock = clock
        self.sent = sent
        # Set for webhooks: a failed update is delivered again by Telegram, so the person is
        # told nothing until the webhook gives up on it (`bot.telegram.webhook`).
        self.redelivered = False
        self._failed: set[int] = set()

    def install(self, application: TelegramApplication) -> None:
        application.add_handler(TypeHandler(Update, self.on_update))
        application.add_error_handler(self.on_error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """1. Answer a button press at once (the client shows a spinner until then).
        2. Ask the dialogue; 3. send or edit each reply in order."""
        event = to_inbound(update, self.verbs)
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except TelegramError:
                logger.info("callback query could not be answered (expired)")
        if event is None:
            return
        replies = await self.handle(event)
        await send_replies(self.lane, self.clock, event, replies, self.sent)
        if any(reply.leave for reply in replies):
            try:
                await context.bot.leave_chat(int(event.chat))
            except TelegramError as exc:
                logger.warning("could not leave a group chat: %s", type(exc).__name__)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the kind of failure only (never the update: it holds ids and text). With
        polling, tell the person that nothing they confirmed was lost; with webhooks, note the
        failure for the webhook, which lets Telegram deliver the update again."""
        error = context.error
        logger.error("update failed: %s", type(error).__name__)
        if not isinstance(update, Update):
            return
        if self.redelivered:
            self._failed.add(update.update_id)
            return
        await self.apologise(update)

    def failed(self, update: Update) -> bool:
        """Whether handling `update` raised (asked once, after `process_update`)."""
        if update.update_id in self._failed:
            self._failed.discard(update.update_id)
            return True
        return False

    async def apologise(self, update: Update) -> None:
        """Tell the person in a private chat that something went wrong on our side."""
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return
        language = update.effective_user.language_code if update.effective_user else None
        t = translator(negotiate(language))
        sorry = t._("Sorry, something went wrong on my side. Please try again in a moment.")
        result = await self.lane.send_now(self.clock, str(chat.id), Payload.message(sorry))
        if not isinstance(result, Sent):
            logger.warning("could not tell the user about the failure")


async def set_command_menus(application: TelegramApplication) -> None:
    """The command list Telegram shows, per language. A failure here must not stop the bot."""
    for locale in LOCALES:
        t = translator(locale)
        commands = [BotCommand(name, text) for name, text in command_descriptions(t).items()]
        code = TELEGRAM_LANGUAGE[locale] if locale != DEFAULT_LOCALE else None
        try:
            await application.bot.set_my_commands(commands, language_code=code)
        except TelegramError as exc:
            logger.warning("command menu for %s not set: %s", locale, type(exc).__name__)
