"""The gateway's webhooks on the bot's web server: signed, fresh, handled once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig
from bot.sms.transport import DeliveryState, InboundSms, OutgoingSms, StatusReport
from bot.sms.webhooks import (
    MAX_TEXT,
    WEBHOOK_PATH,
    Verifier,
    WebhookReceiver,
    parse_envelope,
    signature,
    to_inbound,
    to_status,
)
from bot.web.server import WebServer
from storage.store import Store
from tests.fakegateway import FakeGateway, gson_dumps

KEY = "signing key set in the app"
LI = "+8613800138000"


@dataclass
class Recorder:
    """An `SmsEvents` that remembers what reached it, and can fail on demand."""

    inbound: list[InboundSms] = field(default_factory=list)
    reports: list[StatusReport] = field(default_factory=list)
    fail_next: int = 0

    async def received(self, sms: InboundSms) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("the database went away")
        self.inbound.append(sms)

    async def status(self, report: StatusReport) -> None:
        self.reports.append(report)


@dataclass
class Rig:
    gateway: FakeGateway
    events: Recorder
    url: str
    clock_offset: list[timedelta]


@pytest_asyncio.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    offset = [timedelta()]
    events = Recorder()
    receiver = WebhookReceiver(
        Verifier(KEY, lambda: datetime.now(UTC) + offset[0]), store.sms, events, region="CN"
    )
    server = WebServer()
    server.add_routes(receiver.routes())
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}{WEBHOOK_PATH}"
    try:
        async with FakeGateway.running(signing_key=KEY) as gateway:
            transport = GatewayTransport.open(
                GatewayConfig(url=gateway.base_url, user=gateway.user, password=gateway.password)
            )
            try:
                await transport.register_webhooks(url)
            finally:
                await transport.close()
            yield Rig(gateway, events, url, offset)
    finally:
        await server.stop()


async def test_an_inbound_sms_reaches_the_bot_with_its_number_in_e164(rig: Rig) -> None:
    await rig.gateway.receive_sms("138 0013 8000", "１ 谢谢")
    await rig.gateway.idle()
    assert [(s.sender, s.text) for s in rig.events.inbound] == [(LI, "１ 谢谢")]
    assert rig.gateway.delivered("sms:received")[0].status == 200


async def test_a_webhook_delivered_twice_is_handled_once(rig: Rig) -> None:
    rig.gateway.duplicate_webhooks = True
    await rig.gateway.receive_sms(LI, "1")
    await rig.gateway.idle()
    assert len(rig.events.inbound) == 1
    deliveries = [d for d in rig.gateway.deliveries if d.envelope["event"] == "sms:received"]
    assert len(deliveries) >= 2
    assert all(d.status is not None and d.status in (200, 409) for d in deliveries)
    assert len({d.envelope["id"] for d in deliveries}) == 1


async def test_a_replayed_request_is_handled_once(rig: Rig) -> None:
    await rig.gateway.receive_sms(LI, "STOP")
    await rig.gateway.idle()
    first = rig.gateway.delivered("sms:received")[0]
    assert await rig.gateway.post_raw(rig.url, first.body, first.headers) == 200
    assert len(rig.events.inbound) == 1


async def test_a_forged_or_unsigned_webhook_is_refused(rig: Rig) -> None:
    envelope = {
        "id": "forged-1",
        "webhookId": "tbbot-sms-received",
        "event": "sms:received",
        "deviceId": "x",
        "payload": {"message": "STOP", "sender": LI, "receivedAt": "2026-12-01T08:00:00.000Z"},
    }
    forged = await rig.gateway.post_envelope(rig.url, envelope, key="a guess")
    assert forged.status == 401
    body = gson_dumps(envelope)
    assert await rig.gateway.post_raw(rig.url, body, {"Content-Type": "application/json"}) == 401
    # A valid signature over other bytes: the body was changed in transit.
    genuine = await rig.gateway.post_envelope(rig.url, {**envelope, "id": "genuine-1"})
    tampered = genuine.body.replace(b"STOP", b"STAR")
    assert await rig.gateway.post_raw(rig.url, tampered, genuine.headers) == 401
    assert [s.text for s in rig.events.inbound] == ["STOP"]


async def test_a_stale_timestamp_is_refused(rig: Rig) -> None:
    envelope = {
        "id": "old-1",
        "webhookId": "w",
        "event": "sms:received",
        "deviceId": "d",
        "payload": {"message": "1", "sender": LI},
    }
    stale = await rig.gateway.post_envelope(
        rig.url, envelope, at=datetime.now(UTC) - timedelta(minutes=10)
    )
    assert stale.status == 401
    future = await rig.gateway.post_envelope(
        rig.url, {**envelope, "id": "future-1"}, at=datetime.now(UTC) + timedelta(minutes=10)
    )
    assert future.status == 401
    assert rig.events.inbound == []


async def test_the_raw_bytes_are_verified_with_gsons_escapes(rig: Rig) -> None:
    text = "<b>a&b='c'</b> 吃了"
    await rig.gateway.receive_sms(LI, text)
    await rig.gateway.idle()
    assert b"\\u003cb\\u003e" in rig.gateway.delivered("sms:received")[0].body
    assert [s.text for s in rig.events.inbound] == [text]


async def test_a_failure_while_handling_is_retried_by_the_gateway_and_handled_once(
    rig: Rig,
) -> None:
    rig.events.fail_next = 1
    await rig.gateway.receive_sms(LI, "2")
    await rig.gateway.idle()
    statuses = [d.status for d in rig.gateway.deliveries if d.envelope["event"] == "sms:received"]
    assert statuses == [500, 200]
    assert [s.text for s in rig.events.inbound] == ["2"]


async def test_delivery_states_arrive_as_status_reports(rig: Rig) -> None:
    transport = GatewayTransport.open(
        GatewayConfig(
            url=rig.gateway.base_url, user=rig.gateway.user, password=rig.gateway.password
        )
    )
    try:
        await transport.send(OutgoingSms("c" * 32, LI, "x" * 200))
        rig.gateway.failing_numbers.add("+8613900139000")
        await transport.send(OutgoingSms("d" * 32, "+8613900139000", "hi"))
    finally:
        await transport.close()
    await rig.gateway.idle()
    by_message: dict[str, list[tuple[DeliveryState, int | None]]] = {}
    for report in rig.events.reports:
        by_message.setdefault(report.message_id, []).append((report.state, report.parts))
    assert sorted(by_message["c" * 32], key=str) == sorted(
        [(DeliveryState.SENT, 2), (DeliveryState.DELIVERED, None), (DeliveryState.DELIVERED, None)],
        key=str,
    )
    assert by_message["d" * 32] == [(DeliveryState.FAILED, None)]
    failed = next(r for r in rig.events.reports if r.state is DeliveryState.FAILED)
    assert failed.error == "RESULT_ERROR_GENERIC_FAILURE"


@pytest.mark.parametrize("sender", ["10086", "VERIFY", "", "+1"])
async def test_texts_from_short_codes_and_names_are_acknowledged_and_dropped(
    rig: Rig, sender: str
) -> None:
    await rig.gateway.receive_sms(sender, "Your balance is low")
    await rig.gateway.idle()
    assert rig.events.inbound == []
    assert rig.gateway.delivered("sms:received")


async def test_a_very_long_text_is_cut_before_anything_reads_it(rig: Rig) -> None:
    await rig.gateway.receive_sms(LI, "1" + "x" * 5000)
    await rig.gateway.idle()
    assert len(rig.events.inbound[0].text) == MAX_TEXT


async def test_a_signed_body_that_is_not_an_envelope_is_a_bad_request(rig: Rig) -> None:
    stamp = str(int(datetime.now(UTC).timestamp()))
    for body in (b"not json", b"[]", b'{"id": 5}', b'{"id": "x", "event": "sms:received"}'):
        headers = {"X-Timestamp": stamp, "X-Signature": signature(KEY, body, stamp)}
        assert await rig.gateway.post_raw(rig.url, body, headers) == 400


async def test_concurrent_duplicates_are_told_to_retry_not_lost(rig: Rig) -> None:
    stamp = str(int(datetime.now(UTC).timestamp()))
    body = gson_dumps(
        {
            "id": "same",
            "webhookId": "w",
            "event": "sms:received",
            "deviceId": "d",
            "payload": {"message": "3", "sender": LI},
        }
    )
    headers = {"X-Timestamp": stamp, "X-Signature": signature(KEY, body, stamp)}
    statuses = await asyncio.gather(
        *(rig.gateway.post_raw(rig.url, body, headers) for _ in range(4))
    )
    assert 200 in statuses and set(statuses) <= {200, 409}
    assert len(rig.events.inbound) == 1


NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@given(st.binary(max_size=300), st.text(max_size=80), st.text(max_size=20))
def test_no_body_or_header_passes_without_the_key(body: bytes, sig: str, stamp: str) -> None:
    verifier = Verifier(KEY, lambda: NOW)
    assert not verifier.verify(body, sig, stamp) or sig == signature(KEY, body, stamp)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
        ),
        max_leaves=20,
    )
)
def test_any_signed_json_is_read_or_refused_without_error(value: object) -> None:
    import json

    body = json.dumps(value).encode()
    envelope = parse_envelope(body)
    if envelope is None:
        return
    for event in ("sms:received", "sms:sent", "sms:delivered", "sms:failed", envelope.event):
        shaped = type(envelope)(envelope.id, event, envelope.payload)
        to_inbound(shaped, NOW, "CN")
        to_status(shaped, NOW)
