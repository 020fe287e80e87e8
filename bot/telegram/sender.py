"""Telegram's `Sender` (for the dispatcher and for replies), on python-telegram-bot's `Bot`.

The address is the chat id, in decimal: the only form Telegram addresses take.

Every error python-telegram-bot raises for a send becomes one of three outcomes (see
`scheduler.sending`), so that retry rules live in one place and the dispatcher never sees a
library exception. The mapping, from PTB 22's `BaseRequest._request_wrapper`:

- 429 with `retry_after` → `RetryAfter` → retry after exactly that long (flood control);
- 403 → `Forbidden` → permanent: blocked, deactivated, or otherwise not allowed to write;
- 400 → `BadRequest` → permanent, except "message is not modified", which is success;
- 401/404 → `InvalidToken` → retry later: a configuration error must not fail every message;
- read/connect timeouts → `TimedOut`; 5xx and transport errors → `NetworkError`: retry later.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import aiohttp
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.transport import AiohttpRequest, Timeouts
from scheduler.channels import Attachment
from scheduler.outbox import Action, AttachedFile, ButtonRows, FailureReason, Payload
from scheduler.sending import Permanent, RetryLater, RetryReason, SendResult, Sent

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


def build_bot(
    token: str,
    *,
    base_url: str | None = None,
    timeouts: Timeouts | None = None,
    connections: int = 16,
) -> Bot:
    """A `Bot` for sending, over aiohttp (`bot.telegram.transport`). `base_url` points at a
    self-hosted Bot API server if there is one; `connections` should be at least the
    dispatcher's `max_in_flight`."""
    request = AiohttpRequest(connections=connections, timeouts=timeouts or Timeouts())
    return Bot(token, base_url=base_url or DEFAULT_BASE_URL, request=request)


class TelegramSender:
    """Carries out outbox payloads through an initialised `Bot` (`async with bot: ...`)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, address: str, payload: Payload) -> SendResult:
        try:
            chat_id = int(address)
        except ValueError:
            return Permanent(FailureReason.CHAT_NOT_FOUND)
        try:
            return await self._perform(chat_id, payload)
        except RetryAfter as exc:
            return RetryLater(RetryReason.FLOOD, after=_retry_after_seconds(exc))
        except Forbidden as exc:
            return Permanent(_forbidden_reason(exc.message))
        except ChatMigrated:
            return Permanent(FailureReason.CHAT_MIGRATED)
        except BadRequest as exc:
            return _bad_request_outcome(exc.message, payload)
        except TimedOut:
            return RetryLater(RetryReason.TIMEOUT)
        except InvalidToken:
            return RetryLater(RetryReason.UNAUTHORIZED)
        except NetworkError as exc:
            # PTB raises NetworkError both for 5xx answers and for transport failures; only
            # the latter carry the aiohttp exception as their cause.
            if isinstance(exc.__cause__, aiohttp.ClientError):
                return RetryLater(RetryReason.NETWORK)
            return RetryLater(RetryReason.SERVER_ERROR)
        except TelegramError:
            return RetryLater(RetryReason.UNEXPECTED)

    async def _perform(self, chat_id: int, payload: Payload) -> SendResult:
        keyboard = _keyboard(payload.buttons)
        target = payload.target_message_id
        if payload.file is not None:
            return await self._send_file(chat_id, payload, payload.file, keyboard)
        if target is None:
            sent = await self.bot.send_message(chat_id, payload.text, reply_markup=keyboard)
            return Sent(sent.message_id)
        match payload.action:
            case Action.EDIT:
                await self.bot.edit_message_text(
                    payload.text, chat_id=chat_id, message_id=target, reply_markup=keyboard
                )
                return Sent(target)
            case Action.EDIT_BUTTONS:
                await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=target, reply_markup=keyboard
                )
                return Sent(target)
            case _:
                # A payload with a target is an edit or a deletion; the edits are above.
                await self.bot.delete_message(chat_id, target)
                return Sent(None)

    async def _send_file(
        self,
        chat_id: int,
        payload: Payload,
        file: AttachedFile,
        keyboard: InlineKeyboardMarkup | None,
    ) -> SendResult:
        """A picture as a photo (shown in the chat), anything else as a document; the text
        is the caption."""
        upload = InputFile(file.data, filename=file.filename)
        caption = payload.text or None
        if file.kind is Attachment.PHOTO:
            sent = await self.bot.send_photo(
                chat_id, upload, caption=caption, reply_markup=keyboard
            )
        else:
            sent = await self.bot.send_document(
                chat_id, upload, caption=caption, reply_markup=keyboard
            )
        return Sent(sent.message_id)


def _keyboard(rows: ButtonRows) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.callback_data) for b in row]
            for row in rows
        ]
    )


def _retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 returns an int and warns, or a timedelta when PTB_TIMEDELTA is set; a later major
    # version returns only the timedelta. Accept both, without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _forbidden_reason(message: str) -> FailureReason:
    text = message.lower()
    if "blocked" in text:
        return FailureReason.BLOCKED
    if "deactivated" in text:
        return FailureReason.USER_DEACTIVATED
    return FailureReason.FORBIDDEN


def _bad_request_outcome(message: str, payload: Payload) -> SendResult:
    text = message.lower()
    if "chat not found" in text:
        return Permanent(FailureReason.CHAT_NOT_FOUND)
    if "message is not modified" in text:
        # The chat already shows what we wanted: an edit retried after a timeout lands here.
        return Sent(payload.target_message_id)
    if "message to edit not found" in text or "message to delete not found" in text:
        return Permanent(FailureReason.MESSAGE_GONE)
    if "message can't be" in text:
        return Permanent(FailureReason.MESSAGE_GONE)
    return Permanent(FailureReason.BAD_REQUEST)
