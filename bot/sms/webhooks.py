"""The gateway's webhooks, received on the bot's web server (`bot.web.server.WebServer`).

Every request is untrusted until its signature checks out: ``X-Signature`` is the hex
HMAC-SHA256, keyed by the signing key set in the app, over the raw body bytes followed by the
``X-Timestamp`` value (the app's `PayloadSingingPlugin`). The body is checked as received,
never re-serialised (the app's Gson escapes ``<>&='``, Python's json would not). A timestamp
more than `MAX_SKEW` from our clock is refused, so a captured request cannot be replayed later;
inside that window the envelope id catches it, because a webhook delivered twice (the app
retries until it gets a 2xx answer, and may deliver twice anyway) is handled once.

Answers, which the app reads as "done" (2xx) or "retry" (anything else):

- 401: no signature, a wrong one, or a stale timestamp (the app retries; a forger gets nothing);
- 400: signed but not an envelope we can read: retrying will not help, but the app retries
  anyway, so this is logged once per envelope at most by the app's own retry limit;
- 200: handled now, or handled before, or nothing to do (an event we do not use, a sender that
  is not a personal number);
- 409: the same envelope is being handled by another request right now: retry later;
- 500: handling failed; nothing was committed, the retry handles it again.

The app waits about 5 seconds for an answer (`sms-gateway.md`): effects are committed first,
and the answer follows at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.sms.phone import InvalidPhone, to_e164
from bot.sms.transport import DeliveryState, InboundSms, SmsEvents, StatusReport
from storage.repositories.sms import Claim, SmsRepository

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/sms/gateway/webhook"
MAX_SKEW = timedelta(minutes=5)
LEASE = timedelta(seconds=60)
# The app retries for about two days at most (15 tries, 5 s doubling); receipts are kept longer.
KEEP_RECEIPTS = timedelta(days=7)
PRUNE_EVERY = timedelta(hours=1)
MAX_TEXT = 1600  # ten concatenated segments; longer texts are cut before anything reads them

_STATUS_EVENTS = {
    "sms:sent": DeliveryState.SENT,
    "sms:delivered": DeliveryState.DELIVERED,
    "sms:failed": DeliveryState.FAILED,
}
_TIME_FIELDS = {"sms:sent": "sentAt", "sms:delivered": "deliveredAt", "sms:failed": "failedAt"}
RECEIVED = "sms:received"


def signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Verifier:
    """Checks a webhook's signature and timestamp against `key` and `clock`."""

    key: str
    clock: Callable[[], datetime]
    max_skew: timedelta = MAX_SKEW

    def __repr__(self) -> str:
        return "Verifier(<key hidden>)"

    def verify(self, body: bytes, given: str | None, timestamp: str | None) -> bool:
        """1. Both headers present; the timestamp whole seconds within `max_skew` of now.
        2. The signature equal, in constant time, to ours over the raw body and timestamp."""
        if not given or not timestamp or len(timestamp) > 12:
            return False
        if not (timestamp.isascii() and timestamp.isdigit()):
            return False
        skew = abs(self.clock().timestamp() - int(timestamp))
        if skew > self.max_skew.total_seconds():
            return False
        expected = signature(self.key, body, timestamp)
        return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


@dataclass(frozen=True)
class Envelope:
    id: str
    event: str
    payload: dict[str, Any]

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.id.encode()).hexdigest()


def parse_envelope(body: bytes) -> Envelope | None:
    """The envelope ``{id, webhookId, event, deviceId, payload}``; None if it is not one."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict):
        return None
    envelope_id, event, payload = raw.get("id"), raw.get("event"), raw.get("payload")
    if not isinstance(envelope_id, str) or not envelope_id or len(envelope_id) > 128:
        return None
    if not isinstance(event, str) or not isinstance(payload, dict):
        return None
    return Envelope(envelope_id, event, payload)


def _instant(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        if parsed.tzinfo is not None:
            return parsed
    return fallback


def to_inbound(envelope: Envelope, now: datetime, region: str | None) -> InboundSms | None:
    """An `sms:received` payload as a text from a person; None for anything else (no sender,
    a short code or an alphanumeric sender such as a carrier's notices, no text)."""
    payload = envelope.payload
    sender = payload.get("sender") or payload.get("phoneNumber")
    text = payload.get("message")
    if not isinstance(sender, str) or not isinstance(text, str):
        return None
    try:
        number = to_e164(sender, region)
    except InvalidPhone:
        return None
    return InboundSms(
        sender=number,
        text=text[:MAX_TEXT],
        received_at=_instant(payload.get("receivedAt"), now),
        ref=envelope.digest,
    )


def to_status(envelope: Envelope, now: datetime) -> StatusReport | None:
    state = _STATUS_EVENTS.get(envelope.event)
    message_id = envelope.payload.get("messageId")
    if state is None or not isinstance(message_id, str) or not message_id:
        return None
    parts = envelope.payload.get("partsCount")
    reason = envelope.payload.get("reason")
    at_field = _TIME_FIELDS[envelope.event]
    return StatusReport(
        message_id=message_id[:64],
        state=state,
        at=_instant(envelope.payload.get(at_field), now),
        parts=parts if isinstance(parts, int) and parts > 0 else None,
        error=reason[:64] if isinstance(reason, str) else None,
    )


class WebhookReceiver:
    """The route for the gateway's webhooks; hands what it reads to `events`."""

    def __init__(
        self,
        verifier: Verifier,
        receipts: SmsRepository,
        events: SmsEvents,
        *,
        region: str | None = None,
        path: str = WEBHOOK_PATH,
    ) -> None:
        self.verifier = verifier
        self.receipts = receipts
        self.events = events
        self.region = region
        self.path = path
        self._pruned_at: datetime | None = None

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.path, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """1. Read the raw body and check its signature and timestamp.
        2. Parse the envelope; claim its id (a duplicate is answered at once).
        3. Hand the event on; its effects are committed when that returns.
        4. Mark the envelope handled, then answer."""
        body = await request.read()
        if not self.verifier.verify(
            body, request.headers.get("X-Signature"), request.headers.get("X-Timestamp")
        ):
            log.warning("sms webhook refused: bad or missing signature, or stale timestamp")
            return web.json_response({"error": "unauthorised"}, status=401)
        envelope = parse_envelope(body)
        if envelope is None:
            log.warning("sms webhook refused: signed, but not a gateway envelope")
            return web.json_response({"error": "not an envelope"}, status=400)
        await self._prune()
        claim = await self.receipts.claim_webhook(envelope.digest, envelope.event[:32], LEASE)
        if claim is Claim.DONE:
            return web.json_response({"ok": True, "duplicate": True})
        if claim is Claim.BUSY:
            return web.json_response({"error": "being handled"}, status=409)
        try:
            await self._dispatch(envelope)
        except Exception as exc:
            log.error("sms webhook %s failed: %s", envelope.event, type(exc).__name__)
            await self.receipts.release_webhook(envelope.digest)
            return web.json_response({"error": "failed"}, status=500)
        await self.receipts.finish_webhook(envelope.digest)
        return web.json_response({"ok": True})

    async def _dispatch(self, envelope: Envelope) -> None:
        now = self.verifier.clock()
        if envelope.event == RECEIVED:
            inbound = to_inbound(envelope, now, self.region)
            if inbound is not None:
                await self.events.received(inbound)
            return
        report = to_status(envelope, now)
        if report is not None:
            await self.events.status(report)

    async def _prune(self) -> None:
        now = self.verifier.clock()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        await self.receipts.prune_webhooks(now - KEEP_RECEIPTS)
        await self.receipts.prune_first_contacts(now)
