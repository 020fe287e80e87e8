"""The health endpoint a monitor polls, and the dead-man's switch: they say when reminders or
messages stop going out, on the real store (SQLite and PostgreSQL) and a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.health import ChannelWatch, DeadMansSwitch, Health, SendWatch
from bot.web.server import WebServer
from scheduler.clock import FakeClock
from scheduler.outbox import Kind, Payload
from scheduler.sending import RetryLater, RetryReason, SendResult, Sent
from storage.store import Store
from tests.scheduler.engine_support import enrol_patient, make_engine
from tests.scheduler.test_sql_outbox import queue

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai on 1 December


class Telegram:
    """A sender whose answers the test decides."""

    def __init__(self) -> None:
        self.up = True

    async def send(self, chat_id: int, payload: Payload) -> SendResult:
        return Sent(1) if self.up else RetryLater(RetryReason.NETWORK)


@pytest_asyncio.fixture
async def served(store: Store) -> AsyncIterator[tuple[Health, FakeClock, str, dict[str, bool]]]:
    clock = FakeClock(T0)
    state = {"connected": True}
    sends = SendWatch(Telegram(), clock)
    health = Health(store, clock, {"telegram": ChannelWatch(lambda: state["connected"], sends)})
    server = WebServer()
    server.add_routes(health.routes())
    await server.start("127.0.0.1", 0)
    try:
        yield health, clock, f"http://127.0.0.1:{server.port}/health", state
    finally:
        await server.stop()


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.json()


async def test_a_stuck_engine_and_a_queue_that_does_not_drain_turn_the_health_check_red(
    served: tuple[Health, FakeClock, str, dict[str, bool]], store: Store
) -> None:
    _, clock, url, _ = served
    status, body = await get(url)
    assert status == 200 and body["ok"] and body["engine"]["oldest_overdue_seconds"] == 0

    mina = await enrol_patient(
        store,
        make_engine(store, clock),
        T0,
        alias="Mina",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=date(2026, 12, 1),
        chat_id=1001,
    )
    clock.advance(DUE - T0 + timedelta(minutes=4))  # nobody ticks: the reminder is 4 min late
    status, body = await get(url)
    assert status == 200 and body["engine"]["oldest_overdue_seconds"] == 240
    clock.advance(timedelta(minutes=2))
    status, body = await get(url)
    assert status == 503 and not body["ok"] and not body["engine"]["ok"]
    assert body["outbox"]["ok"]

    await queue(store, mina.patient.id, Kind.NOTICE, "waiting", clock.now() - timedelta(minutes=6))
    status, body = await get(url)
    assert not body["outbox"]["ok"] and body["outbox"]["oldest_due_seconds"] == 360
    text = str(body)
    assert mina.patient.id not in text and "Mina" not in text  # nothing about anyone


async def test_a_disconnected_channel_is_unhealthy_and_its_last_send_is_reported(
    served: tuple[Health, FakeClock, str, dict[str, bool]],
) -> None:
    health, clock, url, state = served
    watch = health.channels["telegram"].sends
    await watch.send(1, Payload.message("hi"))
    sent_at = clock.now()
    clock.advance(timedelta(minutes=1))
    assert isinstance(watch.inner, Telegram)
    watch.inner.up = False
    await watch.send(1, Payload.message("hi"))  # a failed send is not a send
    state["connected"] = False
    status, body = await get(url)
    assert status == 503
    assert body["channels"]["telegram"] == {
        "ok": False,
        "connected": False,
        "last_sent_at": sent_at.isoformat(timespec="seconds"),
    }


async def test_the_dead_mans_switch_is_pinged_only_while_healthy(
    served: tuple[Health, FakeClock, str, dict[str, bool]],
) -> None:
    health, _, _, state = served
    pings: list[str] = []
    two = asyncio.Event()

    async def ping(request: web.Request) -> web.Response:
        pings.append(request.path)
        if len(pings) >= 2:
            two.set()
        return web.Response(text="OK")

    twin = WebServer()  # a self-hosted healthchecks twin
    twin.add_routes([web.get("/ping/{uuid}", ping)])
    await twin.start("127.0.0.1", 0)
    stop = asyncio.Event()
    switch = DeadMansSwitch(health, f"http://127.0.0.1:{twin.port}/ping/abc", every=0.05)
    task = asyncio.create_task(switch.run(stop))
    try:
        await asyncio.wait_for(two.wait(), 5)
        state["connected"] = False
        await asyncio.sleep(0.1)  # a round that may have started before the change
        silent_from = len(pings)
        await asyncio.sleep(0.3)
        assert len(pings) == silent_from  # unhealthy: the pings stop, the twin raises the alarm
    finally:
        stop.set()
        await task
        await twin.stop()
    assert set(pings) == {"/ping/abc"}
