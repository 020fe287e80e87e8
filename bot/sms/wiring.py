"""The SMS channel's parts, joined: for `tbbot run`, the end-to-end tests and the benchmark.

Two steps, because the dispatcher's lanes are built with the runtime, and the conversation
needs the runtime's dialogue:

1. `prepare_sms`: the phones (one transport each, pooled, watched), the sender with the
   operator's caps, and the channel's spec with their pace. Its sender goes into the runtime.
2. `SmsPrepared.attach`: with the runtime, the inbound conversation, the delivery reports, the
   webhook receiver and the health route; `SmsService.run` probes the phones and looks for
   texts stuck on them, once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.config import Settings
from bot.errors import UsageError
from bot.runtime import Runtime
from bot.sms.channel import SmsDeliveries, SmsEventsHub, sms_spec
from bot.sms.gateway_config import GatewayConfig
from bot.sms.inbound import SmsInbound
from bot.sms.outgoing import SmsReplies
from bot.sms.policy import SmsPolicy
from bot.sms.pool import PooledTransport
from bot.sms.sender import SmsSender
from bot.sms.transport import SmsTransport
from bot.sms.watch import GatewayWatch, WatchedTransport
from bot.sms.webhooks import Verifier, WebhookReceiver
from scheduler.channels import ChannelSpec
from scheduler.clock import Clock
from storage.store import Store

log = logging.getLogger(__name__)

PROBE_EVERY = timedelta(minutes=1)


@dataclass
class SmsPrepared:
    spec: ChannelSpec
    sender: SmsSender
    transport: WatchedTransport
    watch: GatewayWatch
    signing_key: str
    region: str | None

    def attach(self, runtime: Runtime) -> SmsService:
        out = SmsReplies(runtime.lane(self.spec.name), self.sender, runtime.clock)
        inbound = SmsInbound(
            runtime.store, runtime.dialogue.handle, runtime.dialogue.verbs, out, runtime.clock
        )
        events = SmsEventsHub(inbound, SmsDeliveries(runtime.store))
        receiver = WebhookReceiver(
            Verifier(self.signing_key, runtime.clock.now),
            runtime.store.sms,
            events,
            region=self.region,
        )
        return SmsService(self, runtime.store, runtime.clock, receiver, inbound)

    async def close(self) -> None:
        await self.transport.close()


@dataclass
class SmsService:
    prepared: SmsPrepared
    store: Store
    clock: Clock
    receiver: WebhookReceiver
    inbound: SmsInbound

    def routes(self) -> list[web.RouteDef]:
        return [*self.receiver.routes(), *self.prepared.watch.routes()]

    async def watch_once(self) -> None:
        """Probe the phones, and count texts accepted but still unsent for too long."""
        watch = self.prepared.watch
        await self.prepared.transport.health()
        count, oldest = await self.store.outbox.stuck_deliveries(
            self.prepared.spec.name, self.clock.now() - watch.alarm_after
        )
        watch.pending(count, oldest)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.watch_once()
            except Exception as exc:  # the watch must outlive a database hiccup
                log.error("sms watch: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_EVERY.total_seconds())


def sms_from_settings(settings: Settings, store: Store, clock: Clock) -> SmsPrepared | None:
    """The SMS parts as the operator configured them; None when SMS is not configured.
    Raises `UsageError` for settings that cannot work (a webhook signing key is required)."""
    configs = settings.sms_gateways()
    if not configs:
        return None
    key = settings.sms_signing_key.get_secret_value() if settings.sms_signing_key else ""
    if not key:
        raise UsageError(
            "TBBOT_SMS_SIGNING_KEY is not set: set the same key as in the app (Settings > "
            "Webhooks), or every webhook from the phone would be refused"
        )
    if not settings.http_listen:
        raise UsageError("SMS needs TBBOT_HTTP_LISTEN: the phone posts its webhooks there")
    return prepare_sms(
        store,
        clock,
        configs,
        signing_key=key,
        policy=settings.sms_policy(),
        per_minute=settings.sms_per_minute,
        alarm_after=timedelta(minutes=settings.sms_alarm_minutes),
        region=settings.sms_default_region,
    )


def prepare_sms(
    store: Store,
    clock: Clock,
    configs: list[GatewayConfig],
    *,
    signing_key: str,
    policy: SmsPolicy,
    per_minute: float,
    alarm_after: timedelta,
    region: str | None,
    transports: list[SmsTransport] | None = None,
) -> SmsPrepared:
    """The SMS parts before the runtime; `transports` replaces the gateways (a benchmark)."""
    phones = transports or _open_gateways(configs)
    watch = GatewayWatch(clock, alarm_after)
    transport = WatchedTransport(PooledTransport(phones), watch)
    return SmsPrepared(
        spec=sms_spec(policy, per_minute, phones=len(phones), region=region),
        sender=SmsSender(store, transport, clock, policy),
        transport=transport,
        watch=watch,
        signing_key=signing_key,
        region=region,
    )


def _open_gateways(configs: list[GatewayConfig]) -> list[SmsTransport]:
    # Imported here: the gateway's client (android-sms-gateway, requests, pycryptodome) costs
    # a tenth of a second at every start, and a bot without SMS never needs it.
    from bot.sms.gateway import GatewayTransport

    return [GatewayTransport.open(config) for config in configs]
