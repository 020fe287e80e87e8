"""The operator hears when the phone stops working: one WARNING, and the health route."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import pytest_asyncio

from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig
from bot.sms.transport import Accepted, OutgoingSms
from bot.sms.watch import HEALTH_PATH, GatewayWatch, WatchedTransport
from bot.web.server import WebServer
from scheduler.clock import FakeClock
from tests.fakegateway import FakeGateway

LI = "+8613800138000"


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway.running() as fake:
        yield fake


async def test_an_outage_longer_than_the_setting_is_logged_once_and_served_as_503(
    gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    watch = GatewayWatch(clock, alarm_after=timedelta(minutes=10))
    inner = GatewayTransport.open(
        GatewayConfig(url=gateway.base_url, user=gateway.user, password=gateway.password)
    )
    transport = WatchedTransport(inner, watch)
    server = WebServer()
    server.add_routes(watch.routes())
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}{HEALTH_PATH}"
    caplog.set_level(logging.INFO, logger="bot.sms.watch")
    try:
        async with aiohttp.ClientSession() as http:
            assert await transport.send(OutgoingSms("a" * 32, LI, "hi")) == Accepted("a" * 32)
            async with gateway.down():
                await transport.send(OutgoingSms("b" * 32, LI, "hi"))
                clock.advance(timedelta(minutes=5))
                await transport.health()
                async with http.get(url) as response:
                    assert response.status == 200  # not yet past the setting
                clock.advance(timedelta(minutes=6))
                await transport.send(OutgoingSms("c" * 32, LI, "hi"))
                await transport.send(OutgoingSms("d" * 32, LI, "hi"))
                async with http.get(url) as response:
                    assert response.status == 503
                    body = await response.json()
            assert body["status"] == "failing"
            assert body["problems"][0].startswith("gateway unreachable for 11 min")
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1
            assert LI not in warnings[0].getMessage()
            await transport.send(OutgoingSms("e" * 32, LI, "hi"))
            async with http.get(url) as response:
                assert response.status == 200
            assert "working again" in caplog.records[-1].getMessage()
    finally:
        await server.stop()
        await transport.close()


def test_texts_stuck_pending_on_the_phone_are_a_problem_after_the_setting() -> None:
    clock = FakeClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    watch = GatewayWatch(clock, alarm_after=timedelta(minutes=30))
    watch.pending(3, clock.now() - timedelta(minutes=10))
    assert watch.problems() == []
    watch.pending(3, clock.now() - timedelta(minutes=31))
    assert watch.problems() == ["3 text(s) pending on the phone, oldest 31 min"]
    watch.pending(0, None)
    assert watch.snapshot()["status"] == "ok"
