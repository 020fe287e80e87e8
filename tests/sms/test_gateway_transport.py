"""The gateway transport: the real `android-sms-gateway` client over HTTP to the fake phone."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig, GatewayConfigError, Mode
from bot.sms.transport import Accepted, DeliveryState, OutgoingSms
from scheduler.outbox import FailureReason
from scheduler.sending import Permanent, RetryLater, RetryReason
from tests.fakegateway import SERVER_PREFIX, FakeGateway, Fault

LI = "+8613800138000"
REMINDER = "8:00 维生素? 1 吃了 2 稍后 3 今天不吃 4 不舒服"


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway.running() as fake:
        yield fake


def config_for(fake: FakeGateway, **overrides: object) -> GatewayConfig:
    options: dict[str, object] = {
        "url": fake.base_url,
        "user": fake.user,
        "password": fake.password,
        "timeout": 2.0,
    }
    options.update(overrides)
    return GatewayConfig(**options)  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def transport(gateway: FakeGateway) -> AsyncIterator[GatewayTransport]:
    opened = GatewayTransport.open(config_for(gateway))
    try:
        yield opened
    finally:
        await opened.close()


def sms(message_id: str = "a" * 32, text: str = REMINDER) -> OutgoingSms:
    return OutgoingSms(message_id, LI, text)


async def test_a_text_is_accepted_under_our_own_id(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    outcome = await transport.send(sms())
    assert outcome == Accepted("a" * 32)
    sent = gateway.messages["a" * 32]
    assert (sent.text, sent.phone_numbers, sent.with_delivery_report) == (REMINDER, [LI], True)


async def test_a_second_send_with_the_same_id_is_accepted_and_not_sent_twice(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    """A send whose answer was lost is retried with the same id: the phone answers 409."""
    assert await transport.send(sms()) == Accepted("a" * 32)
    assert await transport.send(sms()) == Accepted("a" * 32)
    assert len(gateway.messages) == 1
    assert [status for method, _, status in gateway.requests if method == "POST"] == [202, 409]


async def test_valid_until_reaches_the_phone(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    await transport.send(OutgoingSms("b" * 32, LI, "hi", valid_until=until))
    stored = gateway.messages["b" * 32].valid_until
    assert stored is not None
    assert datetime.fromisoformat(stored) == until


async def test_own_server_mode_uses_the_prefixed_routes() -> None:
    async with FakeGateway.running(prefix=SERVER_PREFIX) as fake:
        root = fake.base_url.removesuffix(SERVER_PREFIX)
        transport = GatewayTransport.open(config_for(fake, url=root, mode=Mode.SERVER))
        try:
            assert await transport.send(sms()) == Accepted("a" * 32)
        finally:
            await transport.close()
    assert fake.requests[0][1] == f"{SERVER_PREFIX}/messages"


def test_local_mode_refuses_the_cloud_prefix_with_a_hint() -> None:
    config = GatewayConfig(url="http://192.168.1.20:8080/3rdparty/v1", password="x")
    with pytest.raises(GatewayConfigError, match="TBBOT_SMS_GATEWAY_MODE=server"):
        config.base_url()
    with pytest.raises(GatewayConfigError):
        GatewayConfig(url="192.168.1.20:8080", password="x").base_url()


def test_the_password_never_shows_in_the_config_repr() -> None:
    config = GatewayConfig(url="http://192.168.1.20:8080", password="hunter2", passphrase="p")
    assert "hunter2" not in repr(config)
    assert "'p'" not in repr(config)


async def test_a_wrong_password_is_retried_later_not_failed(gateway: FakeGateway) -> None:
    transport = GatewayTransport.open(config_for(gateway, password="wrong"))
    try:
        assert await transport.send(sms()) == RetryLater(RetryReason.UNAUTHORIZED)
    finally:
        await transport.close()
    assert gateway.messages == {}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried_later(
    gateway: FakeGateway, transport: GatewayTransport, status: int
) -> None:
    gateway.add_fault(Fault(status=status), route="send")
    assert await transport.send(sms()) == RetryLater(RetryReason.SERVER_ERROR)
    assert await transport.send(sms()) == Accepted("a" * 32)


async def test_a_slow_gateway_times_out_within_our_own_timeout(gateway: FakeGateway) -> None:
    gateway.add_fault(Fault(delay=3.0), route="send")
    transport = GatewayTransport.open(config_for(gateway, timeout=0.5))
    started = time.monotonic()
    try:
        assert await transport.send(sms()) == RetryLater(RetryReason.TIMEOUT)
    finally:
        await transport.close()
    assert time.monotonic() - started < 2.5


async def test_an_unreachable_phone_is_retried_later(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    async with gateway.down():
        assert await transport.send(sms()) == RetryLater(RetryReason.NETWORK)
        health = await transport.health()
        assert (health.reachable, health.ok) == (False, False)
    assert await transport.send(sms()) == Accepted("a" * 32)


async def test_a_message_the_phone_refuses_is_never_retried(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    assert await transport.send(sms(text="")) == Permanent(FailureReason.BAD_REQUEST)


async def test_with_a_passphrase_neither_text_nor_number_travels_in_clear() -> None:
    async with FakeGateway.running(passphrase="correct horse") as fake:
        transport = GatewayTransport.open(config_for(fake, passphrase="correct horse"))
        try:
            assert await transport.send(sms()) == Accepted("a" * 32)
            await fake.idle()
            report = await transport.status("a" * 32)
        finally:
            await transport.close()
    sent = fake.messages["a" * 32]
    assert sent.encrypted
    assert (sent.text, sent.phone_numbers) == (REMINDER, [LI])
    assert LI not in sent.sent_as[0] and sent.sent_as[0].startswith("$aes-256-cbc/pbkdf2-sha1$")
    assert report is not None and report.state is DeliveryState.DELIVERED


async def test_a_phone_with_another_passphrase_refuses_the_message() -> None:
    async with FakeGateway.running(passphrase="the phone's") as fake:
        transport = GatewayTransport.open(config_for(fake, passphrase="not the phone's"))
        try:
            assert await transport.send(sms()) == Permanent(FailureReason.BAD_REQUEST)
        finally:
            await transport.close()


async def test_the_state_of_a_text_is_read_back(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    gateway.no_signal = True
    await transport.send(sms())
    pending = await transport.status("a" * 32)
    assert pending is not None and pending.state is DeliveryState.PENDING
    gateway.no_signal = False
    await gateway.send_pending()
    delivered = await transport.status("a" * 32)
    assert delivered is not None and delivered.state is DeliveryState.DELIVERED
    assert await transport.status("f" * 32) is None


async def test_a_failed_recipient_reads_as_failed_with_its_error(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    gateway.failing_numbers.add(LI)
    await transport.send(sms())
    await gateway.idle()
    report = await transport.status("a" * 32)
    assert report is not None
    assert (report.state, report.error) == (DeliveryState.FAILED, "RESULT_ERROR_GENERIC_FAILURE")


async def test_health_checks_the_password_too(gateway: FakeGateway) -> None:
    good = GatewayTransport.open(config_for(gateway))
    bad = GatewayTransport.open(config_for(gateway, password="wrong"))
    try:
        assert (await good.health()).ok
        refused = await bad.health()
        assert (refused.reachable, refused.ok) == (True, False)
        assert refused.detail == "gateway answered 401 (wrong user or password)"
    finally:
        await good.close()
        await bad.close()


async def test_registering_webhooks_twice_replaces_them(
    gateway: FakeGateway, transport: GatewayTransport
) -> None:
    await transport.register_webhooks("http://127.0.0.1:9/old")
    hooks = await transport.register_webhooks("https://bot.example.org/sms/webhook")
    assert len(hooks) == 4
    assert {h["event"] for h in gateway.webhooks.values()} == {
        "sms:received",
        "sms:sent",
        "sms:delivered",
        "sms:failed",
    }
    assert {h["url"] for h in gateway.webhooks.values()} == {"https://bot.example.org/sms/webhook"}
