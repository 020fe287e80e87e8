"""A fake Telegram Bot API server on 127.0.0.1, for tests and benchmarks.

The real python-telegram-bot talks real HTTP to it, so everything up to the socket is the code
that runs in production. It records every request, keeps the chats' messages, hands out injected
updates through `getUpdates`, and fails on demand: flood control (429 with `retry_after`), server
errors, slow answers, a blocked bot, an unknown chat, or no server at all for a while.

Usage, from any test suite (re-export the fixture in a conftest, or import it in the test module):

    from tests.fakebotapi import FakeBotApi, Fault, FakeUser, fake_bot_api as fake_bot_api

    async def test_something(fake_bot_api: FakeBotApi) -> None:
        bot = telegram.Bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
        fake_bot_api.add_fault(Fault.blocked(), method="sendMessage", chat_id=42)
        fake_bot_api.inject_command(FakeUser(42), "start")
        await fake_bot_api.wait_for_request("sendMessage", chat_id=42)

Only standard library: a small HTTP/1.1 server on asyncio streams, with keep-alive, which is all
httpx needs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import json
import struct
import sys
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest_asyncio

# Shaped like a real token (bot id, colon, long secret) so that redaction patterns meet it.
# Token-shaped, so redaction is tested on the real shape; built in two parts so that no
# token-like literal sits in the repository for secret scanners to flag.
TEST_TOKEN = "123456789" + ":AAHfakeTokenForTestsOnly_0123456789abc"
BOT_USER_ID = 123456789

# Not part of the Bot API: lets a benchmark read the counts from another process.
STATS_PATH = "/_fake/stats"

# Form fields whose values are strings even when they look like numbers or JSON.
_STRING_FIELDS = frozenset(
    {
        "text",
        "callback_query_id",
        "caption",
        "url",
        "parse_mode",
        "inline_message_id",
        "secret_token",
    }
)
# The sending methods that Telegram's flood control counts.
_FLOOD_COUNTED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
    }
)
# The Bot API's limits on uploads through it (https://core.telegram.org/bots/api#sending-files).
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_CAPTION_CHARS = 1024


@dataclass(frozen=True)
class Fault:
    """What the server does instead of (or before) answering normally.

    `status` 200 with a `delay` answers normally, late: with a client timeout shorter than
    the delay, the client sees a timeout while the server still carries out the request, as
    Telegram would.
    """

    status: int = 200
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0

    @classmethod
    def too_many_requests(cls, retry_after: int) -> Fault:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status, HTTPStatus(status).phrase)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(delay=seconds)

    @classmethod
    def blocked(cls) -> Fault:
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def user_deactivated(cls) -> Fault:
        return cls(403, "Forbidden: user is deactivated")

    @classmethod
    def chat_not_found(cls) -> Fault:
        return cls(400, "Bad Request: chat not found")


@dataclass
class FaultRule:
    fault: Fault
    method: str | None
    chat_id: int | None
    remaining: int | None

    def matches(self, method: str, chat_id: int | None) -> bool:
        return (
            self.remaining != 0
            and self.method in (None, method)
            and self.chat_id in (None, chat_id)
        )


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str = "Test"
    language_code: str | None = "en"
    username: str | None = None

    def to_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        if self.username:
            user["username"] = self.username
        return user


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    params: dict[str, Any]
    chat_id: int | None
    status: int
    at: float

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the server received it."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    text: str
    from_bot: bool
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    edited: bool = False
    entities: list[dict[str, Any]] = field(default_factory=list)
    photo: UploadedFile | None = None
    document: UploadedFile | None = None
    caption: str = ""

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline buttons as rows of (label, callback data)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]


class BotApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class FakeBotApi:
    """The server. `start()` binds a free port on 127.0.0.1; `stop()` releases everything.

    `clock` stamps recorded requests and drives flood control; tests on virtual time pass their
    fake clock's `monotonic`. `flood_limit` answers 429 once more than that many sending calls
    arrive within one second, as Telegram's flood control does.
    """

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        clock: Callable[[], float] = time.monotonic,
        flood_limit: int | None = None,
        max_long_poll: float = 0.5,
    ) -> None:
        self.token = token
        self.clock = clock
        self.flood_limit = flood_limit
        self.max_long_poll = max_long_poll
        self.port = 0
        self.requests: list[RecordedRequest] = []
        # Successful calls per method, cheap enough to poll after every request.
        self.accepted: Counter[str] = Counter()
        self.commands: list[dict[str, Any]] = []
        self.left: set[int] = set()  # chats the bot left
        self._faults: list[FaultRule] = []
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._users: dict[int, FakeUser] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._callback_chats: dict[str, int] = {}
        self._next_callback_id = 1
        self._flood_window: deque[int] = deque()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        # Replaced on every change, so that waking everyone needs no lock: waiters hold the
        # old event, which is set once and never cleared.
        self._changed = asyncio.Event()
        # Requests read and not yet answered (a slow fault holds one here); not recorded yet.
        self.answering = 0
        # What `setWebhook` asked for ({"url", "secret_token"}); delivered by
        # `tests.fakewebhook.WebhookDelivery`, and while set `getUpdates` is refused.
        self.webhook: dict[str, Any] | None = None

    @property
    def base_url(self) -> str:
        """For `telegram.Bot(token, base_url=...)`."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve_connection, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.go_down()

    async def go_down(self) -> None:
        """Stop listening and drop every open connection: clients get 'connection refused'."""
        if self._server is None:
            return
        self._server.close()
        tasks = list(self._connections)
        for task, writer in self._connections.items():
            writer.transport.abort()
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def come_back(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            await self.start()

    @contextlib.asynccontextmanager
    async def down(self) -> AsyncIterator[None]:
        await self.go_down()
        try:
            yield
        finally:
            await self.come_back()

    # -- fault injection --------------------------------------------------------------------

    def add_fault(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Apply `fault` to the next `times` matching requests (None: until cleared)."""
        rule = FaultRule(fault, method, chat_id, times)
        self._faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        self._faults.clear()

    # -- updates from users -----------------------------------------------------------------

    def inject_message(self, user: FakeUser, text: str, *, chat_id: int | None = None) -> int:
        """The user writes `text` to the bot; returns the update id."""
        chat = user.id if chat_id is None else chat_id
        self._users[chat] = user
        message = self._store(chat, text, from_bot=False)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message.entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._push_update({"message": self._message_json(message, sender=user)})

    def inject_command(
        self, user: FakeUser, command: str, args: str = "", *, chat_id: int | None = None
    ) -> int:
        text = f"/{command.lstrip('/')}" + (f" {args}" if args else "")
        return self.inject_message(user, text, chat_id=chat_id)

    def inject_added_to_group(self, user: FakeUser, chat_id: int) -> int:
        """`user` adds the bot to group `chat_id` (a negative id): a `my_chat_member` update."""
        self._users[chat_id] = user
        member = {"user": self._bot_user(), "status": "left"}
        return self._push_update(
            {
                "my_chat_member": {
                    "chat": _chat_json(chat_id, user),
                    "from": user.to_dict(),
                    "date": int(time.time()),
                    "old_chat_member": member,
                    "new_chat_member": {**member, "status": "member"},
                }
            }
        )

    def inject_callback(
        self,
        user: FakeUser,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> str:
        """The user presses a button; returns the callback query id.

        Without `message_id`, the newest bot message in the chat carrying a button with `data`
        is pressed. With one, any data can be sent, as a forged client could.
        """
        chat = user.id if chat_id is None else chat_id
        self._users.setdefault(chat, user)
        if message_id is None:
            message = self._find_button(chat, data)
        else:
            message = self._messages.get((chat, message_id)) or StoredMessage(
                chat, message_id, "…", from_bot=True
            )
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._callback_chats[query_id] = chat
        self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_dict(),
                    "chat_instance": f"instance-{chat}",
                    "data": data,
                    "message": self._message_json(message),
                }
            }
        )
        return query_id

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (by `getUpdates` offset, or a 2xx webhook answer)."""
        return list(self._updates)

    def confirm(self, update_id: int) -> None:
        """A webhook delivery of `update_id` was answered 2xx: Telegram forgets it."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._poke()

    async def changed(self, within: float) -> None:
        """Wait (bounded) for the next request or update."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._changed.wait()

    # -- assertions -------------------------------------------------------------------------

    def calls(
        self, method: str, *, chat_id: int | None = None, ok: bool | None = None
    ) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == method
            and (chat_id is None or r.chat_id == chat_id)
            and (ok is None or r.ok == ok)
        ]

    def messages_in(self, chat_id: int, *, from_bot: bool = True) -> list[StoredMessage]:
        """The chat's messages still shown (not deleted), oldest first."""
        return [
            m
            for (chat, _), m in sorted(self._messages.items())
            if chat == chat_id and m.from_bot == from_bot and not m.deleted
        ]

    def delivered_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of accepted sendMessage calls, in arrival order."""
        return [r.params["text"] for r in self.calls("sendMessage", chat_id=chat_id, ok=True)]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 3.0) -> None:
        """Wait (bounded, real time) until `predicate` holds after some request."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._changed.wait()

    async def wait_for_request(
        self, method: str, *, chat_id: int | None = None, count: int = 1, within: float = 3.0
    ) -> list[RecordedRequest]:
        await self.wait_for(lambda: len(self.calls(method, chat_id=chat_id)) >= count, within)
        return self.calls(method, chat_id=chat_id)

    # -- HTTP -------------------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while await self._serve_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only `go_down` cancels these. Ending quietly matters on Python 3.11, whose stream
            # server calls `exception()` on a finished connection task and logs a traceback if
            # it was cancelled.
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _serve_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read one request and answer it; False when the connection is done."""
        request_line = await reader.readline()
        if not request_line.strip():
            return False
        # The Bot API answers GET and POST alike, so the verb does not matter.
        _, target, _ = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        self.answering += 1
        self._poke()
        try:
            status, answer = await self._dispatch(target, headers.get("content-type", ""), body)
        finally:
            self.answering -= 1
        data = json.dumps(answer).encode()
        phrase = HTTPStatus(status).phrase
        writer.write(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode("latin-1")
            + data
        )
        await writer.drain()
        return headers.get("connection", "").lower() != "close"

    async def _dispatch(
        self, target: str, content_type: str, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        if url.path == STATS_PATH:
            return HTTPStatus.OK, self._stats()
        token, _, method = url.path.removeprefix("/bot").partition("/")
        if not url.path.startswith("/bot") or token != self.token:
            return self._error(BotApiError(401, "Unauthorized"))
        params = _decode_params(url.query, content_type, body)
        chat_id = _as_chat_id(params.get("chat_id"))
        if chat_id is None and "callback_query_id" in params:
            chat_id = self._callback_chats.get(str(params["callback_query_id"]))
        try:
            result = await self._answer(method, params, chat_id)
        except BotApiError as exc:
            status, answer = self._error(exc)
        else:
            status, answer = HTTPStatus.OK, {"ok": True, "result": result}
        self.requests.append(RecordedRequest(method, params, chat_id, status, self.clock()))
        if status == HTTPStatus.OK:
            self.accepted[method] += 1
        self._poke()
        return status, answer

    def _stats(self) -> dict[str, Any]:
        """For a client in another process (the benchmark): counts and send instants."""
        return {
            "accepted": dict(self.accepted),
            "too_many_requests": sum(1 for r in self.requests if r.status == 429),
            "sent_at": [r.at for r in self.requests if r.method == "sendMessage" and r.ok],
        }

    def _poke(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    @staticmethod
    def _error(exc: BotApiError) -> tuple[int, dict[str, Any]]:
        answer: dict[str, Any] = {
            "ok": False,
            "error_code": exc.status,
            "description": exc.description,
        }
        if exc.retry_after is not None:
            answer["parameters"] = {"retry_after": exc.retry_after}
        return exc.status, answer

    async def _answer(self, method: str, params: dict[str, Any], chat_id: int | None) -> Any:
        for rule in self._faults:
            if rule.matches(method, chat_id):
                if rule.remaining is not None:
                    rule.remaining -= 1
                if rule.fault.delay:
                    await asyncio.sleep(rule.fault.delay)
                if rule.fault.status != HTTPStatus.OK:
                    fault = rule.fault
                    raise BotApiError(fault.status, fault.description, fault.retry_after)
                break
        if method in _FLOOD_COUNTED:
            self._check_flood()
        handler = _METHODS.get(method)
        if handler is None:
            raise BotApiError(404, "Not Found")
        return await handler(self, params, chat_id)

    def _check_flood(self) -> None:
        if self.flood_limit is None:
            return
        # Whole microseconds: in floats, 1.16 - 1.0 < 0.16 and a send would leave the window late.
        now = round(self.clock() * 1_000_000)
        while self._flood_window and self._flood_window[0] <= now - 1_000_000:
            self._flood_window.popleft()
        if len(self._flood_window) >= self.flood_limit:
            raise BotApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._flood_window.append(now)

    # -- Bot API methods --------------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any], chat_id: int | None) -> Any:
        return {
            "id": BOT_USER_ID,
            "is_bot": True,
            "first_name": "Companion",
            "username": "companion_test_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _true(self, params: dict[str, Any], chat_id: int | None) -> Any:
        return True

    async def _leave_chat(self, params: dict[str, Any], chat_id: int | None) -> Any:
        self.left.add(_require_chat(chat_id))
        return True

    async def _send_message(self, params: dict[str, Any], chat_id: int | None) -> Any:
        chat = _require_chat(chat_id)
        text = str(params.get("text", ""))
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        message = self._store(chat, text, from_bot=True, reply_markup=params.get("reply_markup"))
        return self._message_json(message)

    async def _send_photo(self, params: dict[str, Any], chat_id: int | None) -> Any:
        chat = _require_chat(chat_id)
        photo = self._upload(params, "photo", MAX_PHOTO_BYTES)
        size = _image_size(photo.data)
        if size is None:
            raise BotApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        message = self._store(chat, "", from_bot=True, reply_markup=params.get("reply_markup"))
        message.photo, message.caption = photo, self._caption(params)
        data = self._message_json(message)
        width, height = size
        data["photo"] = [
            {
                "file_id": f"photo-{chat}-{message.message_id}",
                "file_unique_id": f"p{chat}{message.message_id}",
                "width": width,
                "height": height,
                "file_size": len(photo.data),
            }
        ]
        return data

    async def _send_document(self, params: dict[str, Any], chat_id: int | None) -> Any:
        chat = _require_chat(chat_id)
        document = self._upload(params, "document", MAX_DOCUMENT_BYTES)
        message = self._store(chat, "", from_bot=True, reply_markup=params.get("reply_markup"))
        message.document, message.caption = document, self._caption(params)
        data = self._message_json(message)
        data["document"] = {
            "file_id": f"document-{chat}-{message.message_id}",
            "file_unique_id": f"d{chat}{message.message_id}",
            "file_name": document.filename,
            "mime_type": document.content_type,
            "file_size": len(document.data),
        }
        return data

    @staticmethod
    def _upload(params: dict[str, Any], name: str, limit: int) -> UploadedFile:
        upload = params.get(name)
        if not isinstance(upload, UploadedFile):
            # A file id or URL would name a file Telegram already has; this fake has none.
            raise BotApiError(400, f"Bad Request: there is no {name} in the request")
        if not upload.data:
            raise BotApiError(400, "Bad Request: file must be non-empty")
        if len(upload.data) > limit:
            raise BotApiError(413, "Request Entity Too Large")
        return upload

    @staticmethod
    def _caption(params: dict[str, Any]) -> str:
        caption = str(params.get("caption", ""))
        if len(caption) > MAX_CAPTION_CHARS:
            raise BotApiError(400, "Bad Request: message caption is too long")
        return caption

    async def _edit_message_text(self, params: dict[str, Any], chat_id: int | None) -> Any:
        message = self._editable(chat_id, params, "edit")
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if text == message.text and markup == message.reply_markup:
            raise BotApiError(400, _NOT_MODIFIED)
        message.text, message.reply_markup, message.edited = text, markup, True
        return self._message_json(message)

    async def _edit_message_reply_markup(self, params: dict[str, Any], chat_id: int | None) -> Any:
        message = self._editable(chat_id, params, "edit")
        markup = params.get("reply_markup")
        if markup == message.reply_markup:
            raise BotApiError(400, _NOT_MODIFIED)
        message.reply_markup, message.edited = markup, True
        return self._message_json(message)

    async def _delete_message(self, params: dict[str, Any], chat_id: int | None) -> Any:
        self._editable(chat_id, params, "delete").deleted = True
        return True

    async def _answer_callback_query(self, params: dict[str, Any], chat_id: int | None) -> Any:
        if str(params.get("callback_query_id")) not in self._callback_chats:
            raise BotApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        return True

    async def _set_my_commands(self, params: dict[str, Any], chat_id: int | None) -> Any:
        self.commands = list(params.get("commands", []))
        return True

    async def _get_my_commands(self, params: dict[str, Any], chat_id: int | None) -> Any:
        return self.commands

    async def _set_webhook(self, params: dict[str, Any], chat_id: int | None) -> Any:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        self.webhook = {"url": url, "secret_token": secret} if url else None
        return True

    async def _delete_webhook(self, params: dict[str, Any], chat_id: int | None) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], chat_id: int | None) -> Any:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _get_updates(self, params: dict[str, Any], chat_id: int | None) -> Any:
        """Long poll: confirm updates below `offset`, then wait (capped) for new ones."""
        if self.webhook is not None:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout") or 0), self.max_long_poll)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self._updates:
                    await self._changed.wait()
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    # -- state helpers ----------------------------------------------------------------------

    def _store(
        self,
        chat_id: int,
        text: str,
        *,
        from_bot: bool,
        reply_markup: dict[str, Any] | None = None,
    ) -> StoredMessage:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message = StoredMessage(chat_id, message_id, text, from_bot, reply_markup)
        self._messages[chat_id, message_id] = message
        return message

    def _editable(self, chat_id: int | None, params: dict[str, Any], verb: str) -> StoredMessage:
        message = self._messages.get((_require_chat(chat_id), int(params.get("message_id", 0))))
        if message is None or message.deleted:
            raise BotApiError(400, f"Bad Request: message to {verb} not found")
        return message

    def _find_button(self, chat_id: int, data: str) -> StoredMessage:
        for message in reversed(self.messages_in(chat_id)):
            if any(d == data for row in message.buttons for _, d in row):
                return message
        raise LookupError(f"no bot message in chat {chat_id} has a button with {data!r}")

    def _message_json(
        self, message: StoredMessage, sender: FakeUser | None = None
    ) -> dict[str, Any]:
        user = self._users.get(message.chat_id, FakeUser(message.chat_id))
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": _chat_json(message.chat_id, user),
            "from": (sender or user).to_dict() if not message.from_bot else self._bot_user(),
        }
        if message.photo is None and message.document is None:
            data["text"] = message.text
        elif message.caption:
            data["caption"] = message.caption
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.entities:
            data["entities"] = message.entities
        if message.edited:
            data["edit_date"] = int(time.time())
        return data

    @staticmethod
    def _bot_user() -> dict[str, Any]:
        return {"id": BOT_USER_ID, "is_bot": True, "first_name": "Companion"}

    def _push_update(self, content: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **content})
        self._poke()
        return update_id


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

_Handler = Callable[[FakeBotApi, dict[str, Any], int | None], Any]
_METHODS: dict[str, _Handler] = {
    "getMe": FakeBotApi._get_me,
    "sendMessage": FakeBotApi._send_message,
    "sendPhoto": FakeBotApi._send_photo,
    "sendDocument": FakeBotApi._send_document,
    "editMessageText": FakeBotApi._edit_message_text,
    "editMessageReplyMarkup": FakeBotApi._edit_message_reply_markup,
    "deleteMessage": FakeBotApi._delete_message,
    "answerCallbackQuery": FakeBotApi._answer_callback_query,
    "setMyCommands": FakeBotApi._set_my_commands,
    "getMyCommands": FakeBotApi._get_my_commands,
    "deleteWebhook": FakeBotApi._delete_webhook,
    "setWebhook": FakeBotApi._set_webhook,
    "getWebhookInfo": FakeBotApi._get_webhook_info,
    "sendChatAction": FakeBotApi._true,
    "getUpdates": FakeBotApi._get_updates,
    "leaveChat": FakeBotApi._leave_chat,
}


def _decode_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Parameters as the Bot API reads them: query string, then a JSON or form body."""
    pairs: Iterable[tuple[str, str]] = parse_qsl(query, keep_blank_values=True)
    params = {k: _decode_form_value(k, v) for k, v in pairs}
    if not body:
        return params
    if content_type.startswith("application/json"):
        params.update(json.loads(body))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qsl(body.decode(), keep_blank_values=True)
        params.update({k: _decode_form_value(k, v) for k, v in form})
    elif content_type.startswith("multipart/form-data"):
        params.update(_decode_multipart(content_type, body))
    else:
        raise BotApiError(400, f"Bad Request: unsupported content type {content_type!r}")
    return params


def _decode_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Form fields as `_decode_form_value` reads them; file parts as `UploadedFile`s."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.message_from_bytes(head + body, policy=email.policy.HTTP)
    if not message.is_multipart():
        raise BotApiError(400, "Bad Request: malformed multipart body")
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise BotApiError(400, "Bad Request: a multipart part has no name")
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        filename = part.get_filename()
        if filename is None:
            params[name] = _decode_form_value(name, data.decode())
        else:
            params[name] = UploadedFile(filename, part.get_content_type(), data)
    return params


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            marker, length = data[index + 1], struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return width, height
            index += 2 + length
    return None


def _decode_form_value(name: str, value: str) -> Any:
    """PTB sends strings as they are and everything else JSON-encoded."""
    if name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_chat_id(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _require_chat(chat_id: int | None) -> int:
    if chat_id is None:
        raise BotApiError(400, "Bad Request: chat not found")
    return chat_id


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


async def _serve_until_stdin_closes(flood_limit: int | None) -> None:
    api = FakeBotApi(flood_limit=flood_limit)
    await api.start()
    print(api.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await api.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve in a process of its own (`python -m tests.fakebotapi`), so that a benchmark's
    client does not share a CPU and an event loop with the server. Prints the port, serves
    until standard input is closed."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--flood-limit", type=int, default=None)
    asyncio.run(_serve_until_stdin_closes(parser.parse_args(argv).flood_limit))


def _chat_json(chat_id: int, user: FakeUser) -> dict[str, Any]:
    """Telegram gives private chats the user's (positive) id and groups negative ids."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": user.first_name}
    return {"id": chat_id, "type": "supergroup", "title": "a group"}


if __name__ == "__main__":
    main()
