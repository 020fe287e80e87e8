"""`tbbot run` where Telegram cannot be reached: it keeps running, reminders keep being planned
and queued, it connects once Telegram answers, and it stops in bounded time even while the Bot
API hangs. A real process against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.cli.run_support import Installation, enrol_patient, queue_message
from tests.fakebotapi import FakeBotApi, Fault
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.ports import free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

CHAT = 7001


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/health") as answer,
    ):
        return answer.status, await answer.json()


async def test_the_api_unreachable_at_start_keeps_the_bot_running_until_it_answers(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    port = free_port()
    place = Installation.create(tmp_path, fake_bot_api, TBBOT_HTTP_LISTEN=f"127.0.0.1:{port}")
    store = await place.open_store()
    try:
        patient_id = await enrol_patient(store, CHAT)
        await queue_message(store, patient_id, "queued while Telegram was away", "away")
    finally:
        await store.close()
    await fake_bot_api.go_down()

    run = await place.start()
    try:
        await run.wait_for_log("Telegram cannot be reached (NetworkError)")
        await run.wait_for_log("next try in")
        # The engine runs meanwhile: it plans the new patient's doses.
        store = await place.open_store()
        try:
            (enrolment,) = await store.enrolments.active(patient_id)
            async with asyncio.timeout(20):
                # Another process writes them: there is no event to wait on.
                while not await store.doses.slots_of_enrolment(patient_id, enrolment.id):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        finally:
            await store.close()
        assert run.process.returncode is None
        # The operator's monitor sees it: reminders fine, Telegram not connected.
        status, body = await health(port)
        assert status == 503 and body["engine"]["ok"] and body["outbox"]["ok"]
        assert body["channels"]["telegram"]["connected"] is False

        await fake_bot_api.come_back()
        try:
            await fake_bot_api.wait_for(
                lambda: "queued while Telegram was away" in fake_bot_api.delivered_texts(CHAT),
                within=30,
            )
        except TimeoutError:
            raise AssertionError(run.log) from None
        await run.wait_for_log("connected to Telegram", within=30)
        status, body = await health(port)
        assert status == 200 and body["channels"]["telegram"]["last_sent_at"] is not None
        assert "Traceback" not in run.log
    finally:
        code = await run.stop()
    assert code == 0, run.log


async def test_a_stop_signal_is_obeyed_in_bounded_time_while_the_api_hangs(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    place = Installation.create(tmp_path, fake_bot_api)
    run = await place.start()
    try:
        await run.wait_for_log("connected to Telegram")
        fake_bot_api.add_fault(Fault.slow(120), times=None)  # every call now hangs
        await fake_bot_api.wait_for(lambda: fake_bot_api.answering > 0, within=15)
    finally:
        started = time.monotonic()
        code = await run.stop(within=30)
        took = time.monotonic() - started
    assert code == 0, run.log
    assert took < 11, f"stopping took {took:.1f} s:\n{run.log}"
    assert "tbbot stopped" in run.log
