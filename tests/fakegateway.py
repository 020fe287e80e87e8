"""A fake SMS Gateway for Android on 127.0.0.1: the phone's HTTP API and its signed webhooks.

The real `android-sms-gateway` client talks real HTTP to it. It follows the app's own code
(capcom6/android-sms-gateway: `MessagesRoutes.kt`, `WebhooksRoutes.kt`, `WebService.kt`,
`EventsReceiver.kt`, `PayloadSingingPlugin.kt`, `EncryptionService.kt`), as summarised in
/work/shared/sms-gateway.md:

- routes at the root (local-server mode) or under a prefix such as ``/3rdparty/v1`` (the
  operator's own server); ``/message`` = ``/messages``, ``/webhook`` = ``/webhooks``;
- basic auth everywhere but ``/health``, 401 with ``WWW-Authenticate``;
- ``POST /messages``: 202 with state ``Pending``; a second send with the same id is 409; numbers
  are checked at send time and an invalid one fails its recipient; ``isEncrypted`` messages are
  decrypted with the passphrase (AES-256-CBC, PBKDF2-SHA1, the app's format), written here
  independently of the client's encryptor;
- ``GET /messages/{id}``: the state, per recipient, with the time of each state;
- ``POST /webhooks {id, url, event}``: 201, an existing id is replaced, only ``https://`` or
  ``http://127.0.0.1`` URLs;
- webhooks: ``{id, webhookId, event, deviceId, payload}`` as Gson writes it (``<>&='``
  escaped), signed with ``X-Signature`` = hex HMAC-SHA256 over the body then ``X-Timestamp``,
  retried with the same envelope id and a fresh signature until a 2xx answer.

Faults on demand: answers with a status (5xx) or after a delay (timeouts), the whole server
down (connection refused), the phone without signal (messages stay ``Pending``), recipients
whose delivery fails, and every webhook delivered twice.

Usage::

    async with FakeGateway.running(signing_key="k") as gateway:
        client = AsyncAPIClient(gateway.user, gateway.password, base_url=gateway.base_url, ...)
        gateway.add_fault(Fault(status=503), route="send")
        await gateway.receive_sms("+8613800138000", "1")
        await gateway.idle()
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import phonenumbers
from aiohttp import web
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

EVENTS = frozenset(
    {
        "sms:received",
        "sms:data-received",
        "sms:sent",
        "sms:delivered",
        "sms:failed",
        "sms:cancelled",
        "system:ping",
        "mms:received",
        "mms:downloaded",
        "app:started",
    }
)
FINAL_STATES = frozenset({"Delivered", "Failed"})
SERVER_PREFIX = "/3rdparty/v1"
STATS_PATH = "/_fake/stats"  # not part of the app's API: counts for a benchmark in another process


class GatewayDown(Exception):
    pass


@dataclass
class Fault:
    """Instead of answering normally: wait `delay` seconds first, then answer `status` (or
    answer normally if `status` is None). Applies to the next `count` matching requests."""

    status: int | None = None
    delay: float = 0.0
    count: int = 1


@dataclass
class FakeMessage:
    id: str
    text: str
    phone_numbers: list[str]
    encrypted: bool
    sent_as: list[str]  # the numbers as the client sent them (ciphertext when encrypted)
    with_delivery_report: bool
    ttl: int | None
    valid_until: str | None
    priority: int
    sim_number: int | None
    state: str = "Pending"
    recipient_states: dict[str, str] = field(default_factory=dict)
    recipient_errors: dict[str, str | None] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)


@dataclass
class Delivery:
    """One webhook request the fake made: what it sent and what the receiver answered."""

    envelope: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    status: int | None  # None: no answer (connection refused or timed out)


def _iso(at: datetime) -> str:
    """Gson's `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the device's zone."""
    text = at.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def gson_dumps(value: Any) -> bytes:
    """JSON as Gson writes it: compact, UTF-8, and HTML-safe escapes for ``<>&='``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for ch in "<>&='":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text.encode()


def sign(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def decrypt(passphrase: str, value: str) -> str:
    """The app's `EncryptionService.decrypt`: ``$aes-256-cbc/pbkdf2-sha1$i=N$salt$data``."""
    chunks = value.split("$")
    if len(chunks) < 5 or chunks[1] != "aes-256-cbc/pbkdf2-sha1":
        raise ValueError("unsupported encrypted format")
    params = dict(p.split("=", 1) for p in chunks[2].split(","))
    salt = base64.b64decode(chunks[3])
    key = PBKDF2HMAC(hashes.SHA1(), 32, salt, int(params["i"])).derive(passphrase.encode())  # noqa: S303 - the app's own algorithm
    decryptor = Cipher(algorithms.AES(key), modes.CBC(salt)).decryptor()
    padded = decryptor.update(base64.b64decode(chunks[4])) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


def parts_count(text: str) -> int:
    """Roughly what Android's `divideMessage` gives; enough for `sms:sent`'s `partsCount`."""
    single, part = (160, 153) if text.isascii() else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / part)


class FakeGateway:
    def __init__(
        self,
        *,
        user: str = "sms",
        password: str = "fake-gateway-password",  # noqa: S107 - a fake phone's password
        signing_key: str | None = "fake-signing-key",
        passphrase: str | None = None,
        prefix: str = "",
        device_id: str = "fakeDevice0000001",
        device_zone: timezone = timezone(timedelta(hours=8)),
        webhook_retries: int = 5,
        webhook_retry_delay: float = 0.02,
        webhook_timeout: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.user = user
        self.password = password
        self.signing_key = signing_key
        self.passphrase = passphrase
        self.prefix = prefix
        self.device_id = device_id
        self.device_zone = device_zone
        self.webhook_retries = webhook_retries
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        # The phone's own clock: real time, or the test's virtual time (signatures, dates).
        self.clock = clock or (lambda: datetime.now(UTC))

        self.messages: dict[str, FakeMessage] = {}
        self.webhooks: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.deliveries: list[Delivery] = []
        self.auto_send = True
        self.no_signal = False
        self.failing_numbers: set[str] = set()
        self.duplicate_webhooks = False
        self._faults: dict[str, list[Fault]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, **options: Any) -> AsyncIterator[FakeGateway]:
        gateway = cls(**options)
        await gateway.start()
        try:
            yield gateway
        finally:
            await gateway.stop()

    async def start(self, port: int = 0) -> None:
        app = web.Application(middlewares=[self._record])
        routes = [
            web.get("/health", self._health),
            web.post("/message", self._send),
            web.post("/messages", self._send),
            web.get("/messages/{id}", self._state),
            web.get("/webhooks", self._list_webhooks),
            web.get("/webhook", self._list_webhooks),
            web.post("/webhooks", self._create_webhook),
            web.post("/webhook", self._create_webhook),
            web.delete("/webhooks/{id}", self._delete_webhook),
        ]
        app.router.add_get(STATS_PATH, self._stats)
        app.add_routes([web.route(r.method, self.prefix + r.path, r.handler) for r in routes])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port or self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.idle()
        await self._close_server()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _close_server(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.asynccontextmanager
    async def down(self) -> AsyncIterator[None]:
        """The phone is off or off the network: connections are refused until the block ends."""
        await self._close_server()
        try:
            yield
        finally:
            await self.start(self._port)

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}{self.prefix}"

    async def idle(self) -> None:
        """Wait until every background send and webhook delivery has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- faults ----------------------------------------------------------------------------

    def add_fault(self, fault: Fault, route: str) -> None:
        """`route`: "send", "state", "webhooks" or "health"."""
        self._faults.setdefault(route, []).append(fault)

    async def _apply_fault(self, route: str) -> web.Response | None:
        faults = self._faults.get(route)
        if not faults:
            return None
        fault = faults[0]
        fault.count -= 1
        if fault.count <= 0:
            faults.pop(0)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        return web.json_response({"message": "fault injected"}, status=fault.status)

    # --- the HTTP API ----------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        self.requests.append((request.method, request.path, response.status))
        return response

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Basic {expected}".encode())

    def _unauthorised(self) -> web.Response:
        return web.json_response(
            {"message": "Unauthorized"},
            status=401,
            headers={"WWW-Authenticate": "Basic realm=\"Access to the '/' path\""},
        )

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"messages": len(self.messages), "requests": len(self.requests)})

    async def _health(self, request: web.Request) -> web.Response:
        fault = await self._apply_fault("health")
        if fault is not None:
            return fault
        connection = "warn" if self.no_signal else "pass"
        return web.json_response(
            {
                "status": connection,
                "version": "1.40.0",
                "releaseId": 40,
                "checks": {
                    "connection:status": {
                        "status": connection,
                        "description": "Internet connection status",
                        "observedValue": 0 if self.no_signal else 1,
                        "observedUnit": "boolean",
                    }
                },
            }
        )

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        fault = await self._apply_fault("send")
        if fault is not None:
            return fault
        try:
            body = await request.json()
            message = self._accept(body)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"message": str(exc)}, status=400)
        if message.id in self.messages:
            return web.json_response({"message": "Message with ID already exists"}, status=409)
        self.messages[message.id] = message
        answer = self._state_of(message)
        if self.auto_send and not self.no_signal:
            self._spawn(self._process(message.id))
        return web.json_response(answer, status=202)

    def _accept(self, body: dict[str, Any]) -> FakeMessage:
        kinds = [k for k in ("message", "textMessage", "dataMessage") if body.get(k) is not None]
        if len(kinds) != 1:
            raise ValueError("Must specify exactly one of: textMessage, dataMessage, or message")
        text = body["message"] if kinds[0] == "message" else body[kinds[0]].get("text", "")
        if not isinstance(text, str) or not text:
            raise ValueError("Text message is empty")
        numbers = body["phoneNumbers"]
        if not isinstance(numbers, list) or not numbers:
            raise ValueError("Empty phone numbers list")
        if body.get("ttl") is not None and body.get("validUntil") is not None:
            raise ValueError("fields conflict: ttl and validUntil")
        encrypted = bool(body.get("isEncrypted"))
        plain_numbers = list(numbers)
        if encrypted:
            if self.passphrase is None:
                raise ValueError("Passphrase is not set")
            text = decrypt(self.passphrase, text)
            plain_numbers = [decrypt(self.passphrase, n) for n in numbers]
        message_id = body.get("id") or secrets.token_urlsafe(16)
        message = FakeMessage(
            id=str(message_id),
            text=text,
            phone_numbers=plain_numbers,
            encrypted=encrypted,
            sent_as=list(numbers),
            with_delivery_report=body.get("withDeliveryReport", True),
            ttl=body.get("ttl"),
            valid_until=body.get("validUntil"),
            priority=int(body.get("priority", 0)),
            sim_number=body.get("simNumber"),
        )
        now = self._now()
        message.states["Pending"] = _iso(now)
        for number in plain_numbers:
            message.recipient_states[number] = "Pending"
            message.recipient_errors[number] = None
        return message

    async def _state(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        fault = await self._apply_fault("state")
        if fault is not None:
            return fault
        message = self.messages.get(request.match_info["id"])
        if message is None:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(self._state_of(message))

    def _state_of(self, message: FakeMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "deviceId": self.device_id,
            "state": message.state,
            "isHashed": False,
            "isEncrypted": message.encrypted,
            "recipients": [
                {
                    "phoneNumber": shown,
                    "state": message.recipient_states[plain],
                    "error": message.recipient_errors[plain],
                }
                for shown, plain in zip(message.sent_as, message.phone_numbers, strict=True)
            ],
            "states": dict(message.states),
        }

    async def _list_webhooks(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        fault = await self._apply_fault("webhooks")
        if fault is not None:
            return fault
        return web.json_response(
            [{**hook, "deviceId": None, "source": "Local"} for hook in self.webhooks.values()]
        )

    async def _create_webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        fault = await self._apply_fault("webhooks")
        if fault is not None:
            return fault
        try:
            body = await request.json()
            url, event = str(body["url"]), str(body["event"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"message": "bad request"}, status=400)
        if not (url.startswith("https://") or url.startswith("http://127.0.0.1")):
            return web.json_response(
                {"message": "url must start with https:// or http://127.0.0.1"}, status=400
            )
        if event not in EVENTS:
            return web.json_response({"message": "Unsupported event"}, status=400)
        hook_id = body.get("id") or secrets.token_urlsafe(15)
        self.webhooks[hook_id] = {"id": hook_id, "url": url, "event": event}
        return web.json_response(
            {**self.webhooks[hook_id], "deviceId": None, "source": "Local"}, status=201
        )

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        self.webhooks.pop(request.match_info["id"], None)
        return web.Response(status=204)

    # --- the phone: sending and events -----------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().astimezone(self.device_zone)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send_pending(self) -> None:
        """The phone got its signal back: send every message still pending, newest first
        (the app's default order)."""
        pending = [m for m in self.messages.values() if m.state == "Pending"]
        for message in reversed(pending):
            await self._process(message.id)

    async def _process(self, message_id: str) -> None:
        """Processed, then for each recipient Sent and Delivered (or Failed), each with its
        webhook; the message's state is the recipients' combined state."""
        message = self.messages[message_id]
        message.state = "Processed"
        message.states["Processed"] = _iso(self._now())
        for number in message.phone_numbers:
            if number in self.failing_numbers or not _valid(number):
                error = "RESULT_ERROR_GENERIC_FAILURE" if _valid(number) else "Invalid phone number"
                message.recipient_states[number] = "Failed"
                message.recipient_errors[number] = error
                message.states["Failed"] = _iso(self._now())
                await self._emit(
                    "sms:failed",
                    {
                        **self._message_fields(message, number),
                        "failedAt": _iso(self._now()),
                        "reason": error,
                    },
                )
                continue
            message.recipient_states[number] = "Sent"
            message.states["Sent"] = _iso(self._now())
            parts = parts_count(message.text)
            await self._emit(
                "sms:sent",
                {
                    **self._message_fields(message, number),
                    "partsCount": parts,
                    "sentAt": _iso(self._now()),
                },
            )
            if message.with_delivery_report:
                message.recipient_states[number] = "Delivered"
                message.states["Delivered"] = _iso(self._now())
                for _ in range(parts):
                    await self._emit(
                        "sms:delivered",
                        {**self._message_fields(message, number), "deliveredAt": _iso(self._now())},
                    )
        recipient_states = set(message.recipient_states.values())
        message.state = (
            "Failed"
            if recipient_states == {"Failed"}
            else ("Delivered" if "Delivered" in recipient_states else "Sent")
        )

    def _message_fields(self, message: FakeMessage, number: str) -> dict[str, Any]:
        return {
            "messageId": message.id,
            "sender": None,
            "recipient": number,
            "simNumber": message.sim_number,
            "phoneNumber": number,
        }

    async def receive_sms(self, sender: str, text: str, *, at: datetime | None = None) -> str:
        """An SMS arrives on the phone: `sms:received` to every webhook registered for it.
        Returns the envelope id of the first webhook posted (for checking deduplication)."""
        received = (at or self.clock()).astimezone(self.device_zone)
        payload = {
            # The app's messageId is a hash of the message: the same text at the same instant
            # from the same number gives the same id. Not unique.
            "messageId": format(hash((sender, text, received)) & 0xFFFFFFFF, "x"),
            "message": text,
            "receivedAt": _iso(received),
            "sender": sender,
            "recipient": None,
            "simNumber": 1,
            "phoneNumber": sender,
        }
        ids = await self._emit("sms:received", payload)
        return ids[0] if ids else ""

    async def _emit(self, event: str, payload: dict[str, Any]) -> list[str]:
        """Queue one envelope per webhook registered for `event`; they are posted in the
        background, like the app's WorkManager jobs. Returns the envelope ids."""
        ids: list[str] = []
        for hook in [h for h in self.webhooks.values() if h["event"] == event]:
            envelope_id = secrets.token_urlsafe(15)
            envelope: dict[str, Any] = {
                "id": envelope_id,
                "webhookId": hook["id"],
                "event": event,
                "deviceId": self.device_id,
                "payload": payload,
            }
            ids.append(envelope_id)
            self._spawn(self._deliver(hook["url"], envelope))
            if self.duplicate_webhooks:
                self._spawn(self._deliver(hook["url"], envelope))
        return ids

    async def post_envelope(
        self,
        url: str,
        envelope: dict[str, Any],
        *,
        key: str | None = None,
        at: datetime | None = None,
    ) -> Delivery:
        """Post one envelope once, signed with `key` (default: the phone's signing key) and
        the time `at` (default: now)."""
        assert self._session is not None
        body = gson_dumps(envelope)
        timestamp = str(int((at or self.clock()).timestamp()))
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        signing_key = key if key is not None else self.signing_key
        if signing_key is not None:
            headers["X-Timestamp"] = timestamp
            headers["X-Signature"] = sign(signing_key, body, timestamp)
        status: int | None
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = None
        delivery = Delivery(envelope, body, headers, status)
        self.deliveries.append(delivery)
        return delivery

    async def post_raw(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        """Post exactly these bytes and headers (a replay, or a forgery)."""
        assert self._session is not None
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                return response.status
        except aiohttp.ClientError:
            return None

    async def _deliver(self, url: str, envelope: dict[str, Any]) -> None:
        """Post until a 2xx answer, re-signed each time, with the same envelope id."""
        delay = self.webhook_retry_delay
        for _ in range(self.webhook_retries + 1):
            delivery = await self.post_envelope(url, envelope)
            if delivery.status is not None and 200 <= delivery.status < 300:
                return
            await asyncio.sleep(delay)
            delay *= 2

    def delivered(self, event: str | None = None) -> list[Delivery]:
        """Webhook requests the receiver accepted (2xx), optionally of one event."""
        return [
            d
            for d in self.deliveries
            if d.status is not None
            and 200 <= d.status < 300
            and (event is None or d.envelope["event"] == event)
        ]


def _valid(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


async def _serve_until_stdin_closes(options: argparse.Namespace) -> None:
    gateway = FakeGateway(
        passphrase=options.passphrase, webhook_retries=0, signing_key=options.signing_key
    )
    gateway.auto_send = not options.no_send
    await gateway.start(options.port)

    print(gateway.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await gateway.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve in a process of its own (`python -m tests.fakegateway`), so that a benchmark's
    client does not share a CPU and an event loop with the phone it is measured against, and a
    test can kill the bot's process without killing the phone. Prints the port, serves until
    standard input is closed."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--passphrase", default=None)
    parser.add_argument("--signing-key", default="fake-signing-key")
    parser.add_argument("--no-send", action="store_true", help="accept texts, never send them")
    asyncio.run(_serve_until_stdin_closes(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
