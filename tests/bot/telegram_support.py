"""The Telegram harness of the end-to-end tests: real python-telegram-bot polling a fake Bot
API on 127.0.0.1, the real dialogue, engine, outbox and dispatcher; only the clock is injected.

Test modules import the `telegram` and `database` fixtures from here (with the fake API's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
import pytest_asyncio

from bot.telegram.app import TelegramAdapter, build_application
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.telegram.sender import TelegramSender, build_bot
from scheduler.clock import FakeClock
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import Limits
from storage.keyring import Keyring
from storage.store import Store
from tests.bot.world import START, World, make_world
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi, FakeUser

MINA = FakeUser(7001, "M", "en")
JISOO = FakeUser(8001, "J", "ko")


@dataclass
class Telegram:
    api: FakeBotApi
    world: World
    dispatcher: Dispatcher

    def bot_messages(self, user: FakeUser) -> list[str]:
        return [m.text for m in self.api.messages_in(user.id)]

    def _bot_calls(self, user: FakeUser) -> int:
        return sum(
            len(self.api.calls(method, chat_id=user.id))
            for method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")
        )

    async def _settle(self, user: FakeUser, before: int, within: float = 5) -> None:
        await self.api.wait_for(lambda: self._bot_calls(user) > before, within=within)
        # Several replies to one event arrive back to back; give them a moment to land.
        while True:
            seen = self._bot_calls(user)
            try:
                await self.api.wait_for(lambda seen=seen: self._bot_calls(user) > seen, within=0.15)
            except TimeoutError:
                break

    async def say(self, user: FakeUser, text: str, *, within: float = 5) -> None:
        """Send `text`; wait up to `within` seconds for the first answer (making a PDF on a
        busy machine takes a few)."""
        before = self._bot_calls(user)
        if text.startswith("/"):
            self.api.inject_command(user, text[1:])
        else:
            self.api.inject_message(user, text)
        await self._settle(user, before, within)

    async def press(self, user: FakeUser, label_part: str, *, within: float = 5) -> None:
        for message in reversed(self.api.messages_in(user.id)):
            for row in message.buttons:
                for label, data in row:
                    if label_part in label:
                        before = self._bot_calls(user)
                        self.api.inject_callback(user, data, message_id=message.message_id)
                        await self._settle(user, before, within)
                        return
        raise AssertionError(f"no button {label_part!r}")

    async def deliver(self) -> None:
        """Run the dispatcher until the outbox has nothing due."""
        while (await self.dispatcher.run_once()).claimed:
            pass


@pytest.fixture
def database(sqlite_database: TestDatabase) -> TestDatabase:
    """Over Telegram, SQLite only: the dialogue tests already run every step on PostgreSQL."""
    return sqlite_database


@pytest_asyncio.fixture
async def telegram(
    fake_bot_api: FakeBotApi, database: TestDatabase, keyring: Keyring
) -> AsyncIterator[Telegram]:
    clock = FakeClock(START)
    store = await Store.open(database.url, keyring, clock=clock.now)
    sender_bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
    # No pace to keep against the fake Bot API: the tests count calls, not seconds.
    unpaced = replace(TELEGRAM, limits=Limits(per_chat_interval=0.0, global_rate=None))
    world = make_world(store, clock, {TELEGRAM.name: TelegramSender(sender_bot)}, [unpaced])
    dialogue = world.dialogue
    application = build_application(fake_bot_api.token, fake_bot_api.base_url)
    TelegramAdapter(
        dialogue.handle, dialogue.verbs, world.runtime.lane(TELEGRAM.name), clock, dialogue.sent
    ).install(application)
    dispatcher = world.runtime.dispatcher
    async with application, sender_bot:
        world.runtime.channels.register(with_bot_name(unpaced, application.bot.username))
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        try:
            yield Telegram(fake_bot_api, world, dispatcher)
        finally:
            await application.updater.stop()
            await application.stop()
            await store.close()


# Each user's client reports their language, which we speak: no language question.
ANSWERS = {
    "en": [
        "I agree",
        "Mina",
        "Seoul",
        "2HRZE/4HR)",
        "Today",
        "20:00",
        "Skip",
        "Combined",
        "vitamins",
        "Start",
    ],
    "ko": [
        "동의",
        "민아",
        "Seoul",
        "2HRZE/4HR)",
        "오늘",
        "20:00",
        "건너뛰",
        "복합정",
        "비타민",
        "시작",
    ],
    "zh": [
        "同意",
        "米娜",
        "Seoul",
        "2HRZE/4HR)",
        "今天",
        "20:00",
        "跳过",
        "复合片",
        "维生素",
        "开始",
    ],
}
TYPED = {1, 5}  # alias and time are typed, the rest are buttons


async def onboard(
    telegram: Telegram, user: FakeUser, language: str, alias: str | None = None
) -> None:
    await telegram.say(user, "/start")
    for number, answer in enumerate(ANSWERS[language]):
        if number == 1 and alias is not None:
            await telegram.say(user, alias)
        elif number in TYPED:
            await telegram.say(user, answer)
        else:
            await telegram.press(user, answer)
