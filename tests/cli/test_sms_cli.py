"""`tbbot sms check` as the operator runs it, against the fake phone over real HTTP."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.fakegateway import SERVER_PREFIX, FakeGateway, Fault

TBBOT = Path(sys.executable).with_name("tbbot")
HOOK_URL = "https://bot.example.org/sms/gateway/webhook"


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway.running() as fake:
        yield fake


def environment(fake: FakeGateway, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBBOT_")}
    env.update(
        {
            "TBBOT_SMS_GATEWAY_URL": fake.base_url,
            "TBBOT_SMS_GATEWAY_PASSWORD": fake.password,
            "TBBOT_SMS_SIGNING_KEY": "k",
            "TBBOT_SMS_WEBHOOK_URL": HOOK_URL,
            "TBBOT_SMS_TIMEOUT": "2",
        }
    )
    env.update(overrides)
    return env


async def check(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(TBBOT),
        "sms",
        "check",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_check_tests_the_connection_and_registers_the_webhooks(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    code, output = await check(environment(gateway), tmp_path)
    assert code == 0, output
    assert "ok: gateway health: pass" in output
    assert {h["event"] for h in gateway.webhooks.values()} == {
        "sms:received",
        "sms:sent",
        "sms:delivered",
        "sms:failed",
    }
    assert {h["url"] for h in gateway.webhooks.values()} == {HOOK_URL}
    assert gateway.password not in output
    code, output = await check(environment(gateway), tmp_path)
    assert code == 0 and len(gateway.webhooks) == 4
    code, output = await check(environment(gateway), tmp_path, "--no-register")
    assert code == 0 and f"4 of 4 webhooks point at {HOOK_URL}" in output


async def test_check_says_what_to_fix(gateway: FakeGateway, tmp_path: Path) -> None:
    code, output = await check(environment(gateway, TBBOT_SMS_GATEWAY_PASSWORD="wrong"), tmp_path)
    assert code == 1 and "401 (wrong user or password)" in output
    assert "wrong" not in output.replace("wrong user or password", "")
    code, output = await check(environment(gateway, TBBOT_SMS_SIGNING_KEY=""), tmp_path)
    assert code == 1 and "TBBOT_SMS_SIGNING_KEY is not set" in output
    code, output = await check(
        environment(gateway, TBBOT_SMS_WEBHOOK_URL="http://10.0.0.5/hook"), tmp_path
    )
    assert code == 1 and "refused the webhook URL (400)" in output
    assert "http://10.0.0.5/hook" not in {h["url"] for h in gateway.webhooks.values()}
    gateway.add_fault(Fault(delay=4.0), route="health")
    code, output = await check(environment(gateway), tmp_path)
    assert code == 1 and "no answer in time" in output


async def test_check_refuses_settings_that_cannot_work(tmp_path: Path) -> None:
    async with FakeGateway.running(prefix=SERVER_PREFIX) as fake:
        code, output = await check(environment(fake), tmp_path)
        assert code == 2 and "TBBOT_SMS_GATEWAY_MODE=server" in output
        code, output = await check(environment(fake, TBBOT_SMS_GATEWAY_MODE="server"), tmp_path)
        assert code == 0, output
    env = environment(fake)
    del env["TBBOT_SMS_GATEWAY_URL"]
    code, output = await check(env, tmp_path)
    assert code == 2 and "SMS is not configured" in output


async def test_check_reports_a_phone_that_is_off(gateway: FakeGateway, tmp_path: Path) -> None:
    env = environment(gateway)
    async with gateway.down():
        code, output = await check(env, tmp_path)
    assert code == 1 and "cannot connect" in output


async def test_check_covers_every_phone(tmp_path: Path) -> None:
    async with (
        FakeGateway.running(password="one") as first,
        FakeGateway.running(password="two") as second,
    ):
        env = environment(
            first,
            TBBOT_SMS_GATEWAY_URL=f"{first.base_url},{second.base_url}",
            TBBOT_SMS_GATEWAY_PASSWORD="one,two",
        )
        code, output = await check(env, tmp_path)
        assert code == 0, output
        assert len(first.webhooks) == 4 and len(second.webhooks) == 4
