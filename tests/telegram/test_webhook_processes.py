"""`tbbot run --webhook` as real processes: two of them on one PostgreSQL database behind one
"load balancer" (the fake Telegram posting to each in turn), killed with SIGKILL in the middle of
updates. Every update is handled once, and reminders keep going out."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.flows.reminder import TAKEN
from scheduler.clock import FakeClock, SystemClock
from storage.models import TelegramUpdateRow
from storage.records import DoseOutcome
from storage.store import Store
from tests.cli.run_support import Installation, Run
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi, FakeUser, Fault
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.fakewebhook import WebhookDelivery
from tests.ports import free_port
from tests.scheduler.engine_support import Enrolled, enrol_many, make_engine

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.postgres, pytest.mark.serial]

SECRET = "webhook-secret-for-the-process-tests"
PEOPLE = 16
KILL_EVERY = 4  # every fourth button press, the process handling it is killed mid-update
CONNECTED = "receiving updates by webhook"


class Processes:
    """The `tbbot run --webhook` processes, one per port, restarted in place after a kill."""

    def __init__(self, place: Installation, ports: list[int]) -> None:
        self.place = place
        self.ports = ports
        self.runs: list[Run] = []

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n]}/telegram/webhook"

    async def start(self, n: int) -> Run:
        env = {
            "TBBOT_HTTP_LISTEN": f"127.0.0.1:{self.ports[n]}",
            "TBBOT_TELEGRAM_WEBHOOK_URL": self.url(n),
        }
        run = await self.place.start("--webhook", env=env)
        # Start-up takes a second or two when the machine is idle, far longer when it is not:
        # the readiness wait is generous, and nothing below is timed.
        await run.wait_for_log(CONNECTED, within=120)
        return run

    async def start_all(self) -> None:
        self.runs = list(await asyncio.gather(*(self.start(n) for n in range(len(self.ports)))))

    async def kill_and_restart(self, n: int) -> None:
        self.runs[n].process.send_signal(signal.SIGKILL)
        assert await self.runs[n].process.wait() == -signal.SIGKILL
        self.runs[n] = await self.start(n)

    async def stop_all(self) -> None:
        for run in self.runs:
            await run.stop()


def taken_button(api: FakeBotApi, chat: int) -> str:
    for message in reversed(api.messages_in(chat)):
        for row in message.buttons:
            for _, data in row:
                if data.startswith(f"{TAKEN}:"):
                    return data
    raise AssertionError(f"no reminder with a Taken button in chat {chat}")


async def taken_events(store: Store, person: Enrolled) -> int:
    events = await store.doses.events(person.patient.id)
    return sum(1 for e in events if e.outcome is DoseOutcome.TAKEN)


async def test_kill_9_mid_update_with_webhooks_handles_every_update_once(
    fake_bot_api: FakeBotApi, postgres_database: TestDatabase, tmp_path: Path
) -> None:
    place = Installation.create(
        tmp_path,
        fake_bot_api,
        DATABASE_URL=postgres_database.url,
        TBBOT_TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    store = await place.open_store()
    processes = Processes(place, [free_port(), free_port()])
    try:
        due = SystemClock().now().replace(second=0, microsecond=0)
        people = await enrol_many(
            store, make_engine(store, FakeClock(due)), PEOPLE, due, chat_base=300_000
        )
        await processes.start_all()
        urls = [processes.url(n) for n in range(len(processes.ports))]
        async with WebhookDelivery(fake_bot_api, targets=urls, retry_delay=0.2) as delivery:
            # 1. Both processes' engines and dispatchers send the reminders that are due.
            chats = {person.chat_id for person in people}
            await fake_bot_api.wait_for(
                lambda: chats <= {r.chat_id for r in fake_bot_api.calls("sendMessage", ok=True)},
                within=120,
            )
            # 2. Everyone presses Taken. Every fourth press is held by Telegram's side while the
            # bot answers the button (the first thing it does with it), and the process
            # handling it is killed then; Telegram delivers the update again.
            updates: list[dict[str, object]] = []
            kills = 0
            for n, person in enumerate(people):
                user = FakeUser(person.chat_id)
                rule = None
                if n % KILL_EVERY == 0:
                    rule = fake_bot_api.add_fault(
                        Fault.slow(600), method="answerCallbackQuery", chat_id=person.chat_id
                    )
                fake_bot_api.inject_callback(user, taken_button(fake_bot_api, person.chat_id))
                update = fake_bot_api.pending_updates()[-1]
                updates.append(update)
                update_id = int(str(update["update_id"]))
                if rule is not None:
                    await fake_bot_api.wait_for(lambda rule=rule: rule.remaining == 0, within=60)
                    victim = urls.index(delivery.posting[update_id])
                    await processes.kill_and_restart(victim)
                    kills += 1
                await delivery.wait_answered(update_id, within=120)
            # 3. Every update delivered again, to both processes at once: all duplicates.
            for update in updates:
                statuses = await asyncio.gather(
                    *(delivery.post(update, url, SECRET) for url in urls)
                )
                assert set(statuses) == {200}, statuses
        await processes.stop_all()

        assert kills == PEOPLE // KILL_EVERY
        for person in people:
            assert await taken_events(store, person) == 1
        # The reminder each pressed on became its answer, once.
        edits = Counter(r.chat_id for r in fake_bot_api.calls("editMessageText", ok=True))
        assert {chat: edits[chat] for chat in chats} == dict.fromkeys(chats, 1)
        async with store.engine.connect() as connection:
            rows = (await connection.execute(select(TelegramUpdateRow.done))).scalars().all()
        assert len(rows) == PEOPLE and all(rows)
        # Re-deliveries of the killed updates went to the other process or the restarted one.
        retried = [u for u in updates[::KILL_EVERY]]
        for update in retried:
            tries = delivery.of(int(str(update["update_id"])))
            assert len(tries) >= 2 and not tries[0].ok and tries[-1].ok
    finally:
        for run in processes.runs:
            if run.process.returncode is None:
                run.kill()
                await run.process.wait()
        await store.close()
