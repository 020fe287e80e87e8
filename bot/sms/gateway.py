"""The SMS transport over SMS Gateway for Android, with its Python client `android-sms-gateway`.

Two ways to reach the phone, with the same API:

- ``local``: the phone's own server on the LAN (``http://192.168.1.20:8080``), routes at the
  root, basic auth with the user and password shown in the app;
- ``server``: the operator's own server for the app (its "private server" mode), routes under
  ``/3rdparty/v1``, same basic auth.

The client picks httpx when it is installed (python-telegram-bot brings it), and its default
aiohttp session waits five minutes for an answer; so the transport passes its own aiohttp
session, with a timeout, explicitly. With a passphrase the client encrypts the text and the
number (AES-256-CBC, PBKDF2; the phone decrypts): whoever runs a server in between sees neither.

Failures, from the client's mapping of HTTP statuses and aiohttp's errors:

- 202: accepted; 409 (a message with this id exists): accepted earlier, by a send whose answer
  was lost, so it is accepted now too and not sent twice;
- 400: never (the phone refused the message itself);
- 401/403/404: retry later: a wrong password or URL is the operator's to fix, and must not fail
  every message in the meantime;
- 429, 5xx, timeouts, refused connections: retry later.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import aiohttp
from android_sms_gateway import (
    AsyncAPIClient,
    Encryptor,
    Message,
    MessageState,
    ProcessState,
    TextMessage,
    Webhook,
    WebhookEvent,
)
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
from android_sms_gateway.errors import APIError

from bot.sms.gateway_config import GatewayConfig
from bot.sms.transport import (
    Accepted,
    DeliveryState,
    Health,
    OutgoingSms,
    SendOutcome,
    StatusReport,
)
from scheduler.outbox import FailureReason
from scheduler.sending import Permanent, RetryLater, RetryReason

log = logging.getLogger(__name__)

# The events the bot needs, with the ids it registers them under: registering again replaces.
WEBHOOK_EVENTS = {
    "tbbot-sms-received": WebhookEvent.SMS_RECEIVED,
    "tbbot-sms-sent": WebhookEvent.SMS_SENT,
    "tbbot-sms-delivered": WebhookEvent.SMS_DELIVERED,
    "tbbot-sms-failed": WebhookEvent.SMS_FAILED,
}
_STATES = {
    ProcessState.Pending: DeliveryState.PENDING,
    ProcessState.Processed: DeliveryState.PENDING,
    ProcessState.Sent: DeliveryState.SENT,
    ProcessState.Delivered: DeliveryState.DELIVERED,
    ProcessState.Failed: DeliveryState.FAILED,
}


def _state(state: MessageState) -> DeliveryState:
    return _STATES[state.state]


def _retry_reason(status: int | None) -> RetryReason:
    if status in (401, 403, 404):
        return RetryReason.UNAUTHORIZED
    if status == 429:
        return RetryReason.FLOOD
    if status is not None and status >= 500:
        return RetryReason.SERVER_ERROR
    return RetryReason.UNEXPECTED


class GatewayTransport:
    """`bot.sms.transport.SmsTransport` on one phone (or one own server)."""

    def __init__(self, config: GatewayConfig, session: aiohttp.ClientSession) -> None:
        self.config = config
        self._session = session
        self._client = AsyncAPIClient(
            config.user,
            config.password,
            base_url=config.base_url(),
            encryptor=Encryptor(config.passphrase) if config.passphrase else None,
            http_client=AiohttpAsyncHttpClient(session),
        )

    @classmethod
    def open(cls, config: GatewayConfig) -> GatewayTransport:
        """A transport with its own session: a total timeout per call, a few connections
        (a phone sends one text at a time), no cookies kept between calls."""
        config.base_url()  # fail at start-up, not at the first reminder
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=config.timeout, connect=min(5.0, config.timeout)),
            connector=aiohttp.TCPConnector(limit=4),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return cls(config, session)

    async def close(self) -> None:
        await self._session.close()

    async def send(self, message: OutgoingSms) -> SendOutcome:
        request = Message(
            phone_numbers=[message.to],
            text_message=TextMessage(text=message.text),
            id=message.id,
            valid_until=message.valid_until.astimezone(UTC) if message.valid_until else None,
            sim_number=self.config.sim_number,
            with_delivery_report=True,
        )
        try:
            state = await self._client.send(request)
        except APIError as exc:
            if exc.status_code == 409:
                return Accepted(message.id)
            if exc.status_code == 400:
                log.warning("sms %s: the gateway refused the message", message.id)
                return Permanent(FailureReason.BAD_REQUEST)
            reason = _retry_reason(exc.status_code)
            log.warning("sms %s: gateway answered %s", message.id, exc.status_code)
            return RetryLater(reason)
        except TimeoutError:
            return RetryLater(RetryReason.TIMEOUT)
        except aiohttp.ClientError as exc:
            log.info("sms %s: gateway unreachable (%s)", message.id, type(exc).__name__)
            return RetryLater(RetryReason.NETWORK)
        except (KeyError, ValueError, TypeError) as exc:
            # An answer the client could not read: the text may have been accepted. The retry
            # carries the same id, so the gateway answers 409 rather than send it twice.
            log.error("sms %s: unreadable gateway answer (%s)", message.id, type(exc).__name__)
            return RetryLater(RetryReason.UNEXPECTED)
        return Accepted(state.id)

    async def status(self, message_id: str) -> StatusReport | None:
        try:
            state = await self._client.get_state(message_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise
        recipient = state.recipients[0] if state.recipients else None
        return StatusReport(
            message_id=state.id,
            state=_state(state),
            at=datetime.now(UTC),
            error=recipient.error if recipient is not None else None,
        )

    async def health(self) -> Health:
        """The phone's health, then one authenticated call (health needs no password)."""
        try:
            answer = await self._client.health_check()
            await self._client.get_webhooks()
        except APIError as exc:
            hint = {401: "wrong user or password", 403: "not allowed", 404: "wrong URL"}.get(
                exc.status_code or 0, "error"
            )
            return Health(True, False, f"gateway answered {exc.status_code} ({hint})")
        except TimeoutError:
            return Health(False, False, "no answer in time")
        except aiohttp.ClientError as exc:
            return Health(False, False, f"cannot connect ({type(exc).__name__})")
        except (KeyError, ValueError, TypeError) as exc:
            return Health(True, False, f"unreadable answer ({type(exc).__name__})")
        status = answer.status.value
        return Health(True, status != "fail", f"gateway health: {status}")

    async def webhooks(self) -> list[Webhook]:
        return list(await self._client.get_webhooks())

    async def register_webhooks(self, url: str) -> list[Webhook]:
        """Point the bot's four webhooks at `url` (the same ids again replace the old ones)."""
        registered = []
        for hook_id, event in WEBHOOK_EVENTS.items():
            registered.append(
                await self._client.create_webhook(Webhook(id=hook_id, url=url, event=event))
            )
        return registered
