"""A crash does not delay everyone: after `kill -9` of `tbbot run` in the middle of a send, the
restarted process sends the message the dead one had claimed within seconds, not after the
dead process's 2-minute lease. A real process, killed for real."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.records import OutboxEntry, OutboxState
from storage.store import Store
from tests.cli.run_support import Installation, enrol_patient, queue_message
from tests.fakebotapi import FakeBotApi, Fault
from tests.fakebotapi import fake_bot_api as fake_bot_api

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.serial]

CHAT = 7001
TEXT = "claimed by a process that then died"
TARGET = 15.0  # seconds after the restart (issue 15)


async def the_message(store: Store, patient_id: str) -> OutboxEntry:
    (entry,) = [e for e in await store.outbox.for_patient(patient_id) if TEXT in str(e.payload)]
    return entry


async def test_the_dead_processs_claimed_message_goes_out_soon_after_the_restart(
    fake_bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place = Installation.create(tmp_path, fake_bot_api)
    store = await place.open_store()
    try:
        patient_id = await enrol_patient(store, CHAT)
        await queue_message(store, patient_id, TEXT, "crash")
    finally:
        await store.close()
    fake_bot_api.add_fault(Fault.slow(600), method="sendMessage", times=None)

    first = await place.start()
    store = await place.open_store()
    try:
        async with asyncio.timeout(20):
            while (entry := await the_message(store, patient_id)).state is not OutboxState.LEASED:  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # another process claims it: no event to wait on
        await fake_bot_api.wait_for(lambda: fake_bot_api.answering > 0)  # the send is on the wire
        first.process.send_signal(signal.SIGKILL)
        assert await first.process.wait() == -signal.SIGKILL
        fake_bot_api.clear_faults()
        entry = await the_message(store, patient_id)
    finally:
        await store.close()
    assert entry.state is OutboxState.LEASED and entry.lease_until is not None
    lease_left = (entry.lease_until - datetime.now(UTC)).total_seconds()

    restarted = time.monotonic()
    second = await place.start()
    try:
        await fake_bot_api.wait_for(
            lambda: TEXT in fake_bot_api.delivered_texts(CHAT), within=TARGET + 30
        )
        late = time.monotonic() - restarted
    finally:
        assert await second.stop() == 0, second.log
    with capsys.disabled():
        print(
            f"\n[crash] sent {late:.1f} s after the restart; "
            f"waiting out the lease would have taken {lease_left:.0f} s more"
        )
    assert "gave back the leases of stopped processes: 0 dose timers, 1 messages" in second.log
    assert late < TARGET, second.log
    assert lease_left > 60  # without the release it would have waited for the lease
