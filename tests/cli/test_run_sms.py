"""`tbbot run` with SMS only (no Telegram): the phone's webhooks reach the process, its
answers reach the phone, and `kill -9` while reminders are going out loses none and sends
none twice (the gateway refuses a second send under the same id)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot.config import Settings
from bot.sms.watch import HEALTH_PATH
from bot.sms.webhooks import WEBHOOK_PATH
from scheduler.outbox import Kind, Payload
from storage.records import PATIENT, OutboxMessage
from tests.fakegateway import FakeGateway
from tests.ports import free_port

TBBOT = Path(sys.executable).with_name("tbbot")
KEY = "signing key of the test phone"
LI = "+8613800138000"


class Bot:
    def __init__(self, tmp: Path, gateway: FakeGateway) -> None:
        self.port = free_port()
        self.gateway = gateway
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TBBOT_", "TELEGRAM"))}
        self.env.update(
            {
                "TBBOT_DATA_DIR": str(tmp / "data"),
                "TBBOT_MASTER_KEY_FILE": str(tmp / "master.key"),
                "TBBOT_HTTP_LISTEN": f"127.0.0.1:{self.port}",
                "TBBOT_SMS_GATEWAY_URL": gateway.base_url,
                "TBBOT_SMS_GATEWAY_PASSWORD": gateway.password,
                "TBBOT_SMS_SIGNING_KEY": KEY,
                "TBBOT_SMS_DEFAULT_REGION": "CN",
                "TBBOT_SMS_PER_MINUTE": "6000",
            }
        )
        self.cwd = tmp
        self.process: asyncio.subprocess.Process | None = None

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    async def keys(self) -> None:
        process = await asyncio.create_subprocess_exec(
            str(TBBOT),
            "keys",
            "init",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert await process.wait() == 0

    async def spawn(self) -> asyncio.subprocess.Process:
        """`tbbot run`, its output and errors together in one pipe."""
        self.process = await asyncio.create_subprocess_exec(
            str(TBBOT),
            "run",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return self.process

    async def start(self) -> None:
        process = await self.spawn()
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}{HEALTH_PATH}") as answer:
                        if answer.status in (200, 503):
                            return
                except aiohttp.ClientError:
                    pass
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.1)
        output = await process.stdout.read() if process.stdout else b""
        raise AssertionError(f"tbbot run did not start: {output.decode()[-2000:]}")

    async def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        assert self.process is not None
        self.process.send_signal(sig)
        output, _ = await self.process.communicate()
        return self.process.returncode or 0, output.decode()

    async def kill_if_running(self) -> None:
        """After a failed test: no process is left behind."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway.running(signing_key=KEY) as fake:
        yield fake


@pytest_asyncio.fixture
async def bot(gateway: FakeGateway, tmp_path: Path) -> AsyncIterator[Bot]:
    running = Bot(tmp_path, gateway)
    try:
        yield running
    finally:
        await running.kill_if_running()


async def wait_for(condition, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(within / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def texts_to(gateway: FakeGateway, number: str) -> list[str]:
    return [m.text for m in gateway.messages.values() if m.phone_numbers == [number]]


async def test_tbbot_run_answers_texts_over_sms_alone(gateway: FakeGateway, bot: Bot) -> None:
    await bot.keys()
    await bot.start()
    for hook_id, event in (("r", "sms:received"), ("s", "sms:sent"), ("d", "sms:delivered")):
        gateway.webhooks[hook_id] = {"id": hook_id, "url": bot.webhook_url, "event": event}
    await gateway.receive_sms("138 0013 8000", "开始")
    await wait_for(lambda: bool(texts_to(gateway, LI)))
    # The privacy notice, in Chinese: the language is guessed from the number's country.
    assert "我同意" in texts_to(gateway, LI)[0]
    await gateway.receive_sms(LI, "1")  # 我同意
    await wait_for(lambda: len(texts_to(gateway, LI)) >= 2)
    code, output = await bot.stop()
    assert code == 0, output
    assert "13800138000" not in output and "开始" not in output


async def queue_notices(bot: Bot, count: int) -> list[str]:
    """`count` patients on SMS, each with one message due now; the outbox ids."""
    settings = Settings(_env_file=None, **bot.env)  # type: ignore[call-arg, arg-type]
    store = await settings.open_store()
    try:
        ids = []
        for n in range(count):
            patient = await store.patients.create(alias=f"p{n}", language="en", time_zone="UTC")
            await store.identities.link(patient.id, "sms", f"+86138{n:08d}")
            entry = await store.outbox.enqueue(
                OutboxMessage(
                    patient_id=patient.id,
                    recipient=PATIENT,
                    kind=Kind.NOTICE.value,
                    payload=Payload.message(f"Notice {n}").to_dict(),
                    dedupe_key=f"kill-test:{n}",
                    not_before=datetime.now(UTC),
                )
            )
            assert entry is not None
            ids.append(entry.id)
        return ids
    finally:
        await store.close()


@pytest.mark.slow
@pytest.mark.serial
async def test_kill_9_while_sending_loses_nothing_and_sends_nothing_twice(
    gateway: FakeGateway, bot: Bot
) -> None:
    bot.env["TBBOT_SMS_PER_MINUTE"] = "1200"  # 20 a second: sending lasts several seconds
    await bot.keys()
    ids = await queue_notices(bot, 80)
    rng = random.Random(20261201)
    landed_while_sending = 0
    for _ in range(4):
        await bot.start()
        await asyncio.sleep(rng.uniform(0.2, 1.2))
        await bot.stop(signal.SIGKILL)
        if 0 < len(gateway.messages) < len(ids):
            landed_while_sending += 1
    await bot.start()
    # Messages a killed process had claimed come back when their lease (2 minutes) ends.
    await wait_for(lambda: len(gateway.messages) == len(ids), within=200)
    code, output = await bot.stop()
    assert code == 0, output
    assert landed_while_sending >= 1, "the kills should land while sending"
    assert set(gateway.messages) == set(ids), "a message was lost"
    accepted = [s for method, path, s in gateway.requests if method == "POST" and s == 202]
    assert len(accepted) == len(ids), "a message was sent twice"


async def test_a_port_already_taken_stops_the_start_with_the_reason_and_nothing_left_open(
    bot: Bot,
) -> None:
    await bot.keys()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", bot.port))
        squatter.listen()
        process = await bot.spawn()
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    said = output.decode()
    assert process.returncode == 2, said
    assert f"TBBOT_HTTP_LISTEN: cannot listen on 127.0.0.1:{bot.port}" in said
    # The gateway's HTTP session, opened before the web server, is closed on the way out.
    assert "Unclosed" not in said
    assert "Traceback" not in said
