"""Telegram updates by webhook: the real python-telegram-bot registers the webhook with the fake
Bot API, which posts updates to our aiohttp server as Telegram does, re-delivering until a 2xx.

Two receivers on one database stand for two processes behind one URL (the subprocess tests in
`test_webhook_processes.py` do it with real processes and kill -9)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.dialogue.messages import Inbound, Reply
from bot.telegram.app import TelegramAdapter, TelegramApplication, build_application
from bot.telegram.channel import TELEGRAM, with_bot_name
from bot.telegram.link import Backoff, TelegramLink, sending
from bot.telegram.sender import TelegramSender, build_bot
from bot.telegram.webhook import DEFAULT_PATH, TelegramWebhook, WebhookConfig
from bot.web.server import WebServer
from scheduler.clock import FakeClock
from scheduler.ratelimit import Limits
from storage.keyring import Keyring
from storage.models import ChannelIdentityRow, TelegramUpdateRow
from storage.store import Store
from tests.bot.world import START, World, make_world
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi, FakeUser
from tests.fakewebhook import WebhookDelivery

SECRET = "s3cret-token_for-tests"
MINA = FakeUser(7001, "M", "en")


@dataclass
class Receiver:
    """One process's worth: a store, the runtime, PTB's application and the webhook route."""

    world: World
    webhook: TelegramWebhook
    url: str

    @property
    def store(self) -> Store:
        return self.world.store


@contextlib.asynccontextmanager
async def receiver(
    api: FakeBotApi, database: TestDatabase, keyring: Keyring, clock: FakeClock, owner: str
) -> AsyncIterator[Receiver]:
    store = await Store.open(database.url, keyring, clock=clock.now)
    sender_bot = build_bot(api.token, base_url=api.base_url)
    unpaced = replace(TELEGRAM, limits=Limits(per_chat_interval=0.0, global_rate=None))
    world = make_world(store, clock, {TELEGRAM.name: TelegramSender(sender_bot)}, [unpaced])
    application = build_application(api.token, api.base_url)
    dialogue = world.dialogue
    adapter = TelegramAdapter(
        dialogue.handle, dialogue.verbs, world.runtime.lane(TELEGRAM.name), clock, dialogue.sent
    )
    adapter.install(application)
    # The route needs only the path; the URL registered with Telegram names the port the
    # server got (port 0: whatever is free, even with tests running side by side).
    unbound = WebhookConfig(f"http://127.0.0.1{DEFAULT_PATH}", SECRET)
    webhook = TelegramWebhook(unbound, application, adapter, store, clock, owner=owner)
    server = WebServer()
    server.add_routes(webhook.routes())
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}{DEFAULT_PATH}"
    webhook.config = WebhookConfig(url, SECRET)

    async def connected(app: TelegramApplication) -> None:
        world.runtime.channels.register(with_bot_name(unpaced, app.bot.username))

    link = TelegramLink(application, connected, Backoff(first=0.1), webhook=webhook)
    stop = asyncio.Event()
    try:
        async with sending(sender_bot):
            task = asyncio.create_task(link.run(stop))
            try:
                async with asyncio.timeout(10):
                    while not webhook.ready:  # noqa: ASYNC110 - set by the link, no event
                        await asyncio.sleep(0.02)
                yield Receiver(world, webhook, url)
            finally:
                stop.set()
                await task
    finally:
        await server.stop()
        await store.close()


@pytest_asyncio.fixture
async def one(
    fake_bot_api: FakeBotApi, database: TestDatabase, keyring: Keyring
) -> AsyncIterator[Receiver]:
    async with receiver(fake_bot_api, database, keyring, FakeClock(START), "host-a-1") as r:
        yield r


async def _count(store: Store) -> int:
    """Channel accounts known: one per person who sent /start."""
    async with store.engine.connect() as connection:
        return int(
            await connection.scalar(select(func.count()).select_from(ChannelIdentityRow)) or 0
        )


async def receipts(store: Store) -> list[tuple[int, bool]]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(TelegramUpdateRow.update_id, TelegramUpdateRow.done))
        return [(int(r[0]), bool(r[1])) for r in rows]


def start_update(update_id: int, user: FakeUser = MINA) -> dict[str, Any]:
    """A `/start` from `user` as Telegram posts it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.to_dict(),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_registers_the_webhook_and_answers_an_update_once_its_reply_is_sent(
    fake_bot_api: FakeBotApi, one: Receiver
) -> None:
    assert fake_bot_api.webhook == {"url": one.url, "secret_token": SECRET}
    async with WebhookDelivery(fake_bot_api) as delivery:
        update_id = fake_bot_api.inject_command(MINA, "start")
        answered = await delivery.wait_answered(update_id)
    assert answered.status == 200
    # The reply went out before the answer: Telegram's 200 came after the sendMessage.
    replies = fake_bot_api.calls("sendMessage", chat_id=MINA.id, ok=True)
    assert replies and replies[0].at <= answered.at
    assert await _count(one.store) == 1
    assert await receipts(one.store) == [(update_id, True)]
    assert fake_bot_api.pending_updates() == []
    assert not fake_bot_api.calls("getUpdates")


@pytest.mark.parametrize("secret", [None, "wrong", SECRET + "x", ""])
async def test_a_missing_or_wrong_secret_is_refused_and_changes_nothing(
    fake_bot_api: FakeBotApi, one: Receiver, secret: str | None
) -> None:
    async with WebhookDelivery(fake_bot_api) as delivery:
        status = await delivery.post(start_update(500), one.url, secret)
    assert status == (401 if secret is None else 403)
    assert await _count(one.store) == 0
    assert await receipts(one.store) == []
    assert not fake_bot_api.calls("sendMessage")


async def test_an_authenticated_body_that_is_not_an_update_is_refused(
    fake_bot_api: FakeBotApi, one: Receiver
) -> None:
    async with WebhookDelivery(fake_bot_api) as delivery:
        assert await delivery.post({"update_id": "seven"}, one.url, SECRET) == 400
        assert await delivery.post({"message": {}}, one.url, SECRET) == 400
    assert await receipts(one.store) == []


@pytest.mark.postgres
async def test_the_same_update_delivered_twice_to_two_processes_is_handled_once(
    fake_bot_api: FakeBotApi, postgres_database: TestDatabase, keyring: Keyring
) -> None:
    clock = FakeClock(START)
    async with (
        receiver(fake_bot_api, postgres_database, keyring, clock, "host-a-1") as a,
        receiver(fake_bot_api, postgres_database, keyring, clock, "host-b-2") as b,
        WebhookDelivery(fake_bot_api) as delivery,
    ):
        # At the same instant, to both processes, ten times over (ten users).
        users = [FakeUser(9000 + n, "U", "en") for n in range(10)]
        for n, user in enumerate(users):
            update = start_update(700 + n, user)
            first = await asyncio.gather(
                delivery.post(update, a.url, SECRET), delivery.post(update, b.url, SECRET)
            )
            assert 200 in first and set(first) <= {200, 503}, first
            # Telegram delivers again whatever was not answered 2xx, and later once more.
            for url in (a.url, b.url):
                async with asyncio.timeout(10):
                    while await delivery.post(update, url, SECRET) != 200:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
        assert await _count(a.store) == len(users)
        for user in users:
            texts = [r.params["text"] for r in fake_bot_api.calls("sendMessage", chat_id=user.id)]
            assert texts and len(texts) == len(set(texts)), texts  # one /start's replies, once


async def test_a_re_delivery_of_a_handled_update_is_a_duplicate(
    fake_bot_api: FakeBotApi, one: Receiver
) -> None:
    async with WebhookDelivery(fake_bot_api) as delivery:
        update = start_update(42)
        assert await delivery.post(update, one.url, SECRET) == 200
        sent = len(fake_bot_api.calls("sendMessage", chat_id=MINA.id))
        for _ in range(3):
            assert await delivery.post(update, one.url, SECRET) == 200
    assert len(fake_bot_api.calls("sendMessage", chat_id=MINA.id)) == sent
    assert await _count(one.store) == 1


def failing(
    handle: Callable[[Inbound], Awaitable[list[Reply]]], times: int
) -> Callable[[Inbound], Awaitable[list[Reply]]]:
    """The dialogue, failing its first `times` calls as a dropped database connection would."""
    left = [times]

    async def flaky(event: Inbound) -> list[Reply]:
        if left[0] > 0:
            left[0] -= 1
            raise ConnectionResetError("database connection lost")
        return await handle(event)

    return flaky


async def test_an_update_whose_handling_fails_is_delivered_again_and_handled_once(
    fake_bot_api: FakeBotApi, one: Receiver
) -> None:
    one.webhook.adapter.handle = failing(one.webhook.adapter.handle, 1)
    async with WebhookDelivery(fake_bot_api, retry_delay=0.1) as delivery:
        update_id = fake_bot_api.inject_command(MINA, "start")
        await delivery.wait_answered(update_id)
    statuses = [d.status for d in delivery.of(update_id)]
    assert statuses == [500, 200]
    texts = [r.params["text"] for r in fake_bot_api.calls("sendMessage", chat_id=MINA.id)]
    assert texts and len(texts) == len(set(texts))
    assert not any("went wrong" in text for text in texts)  # Telegram retried; no apology
    assert await _count(one.store) == 1
    assert await receipts(one.store) == [(update_id, True)]


async def test_an_update_that_always_fails_is_given_up_with_an_apology(
    fake_bot_api: FakeBotApi, one: Receiver
) -> None:
    one.webhook.adapter.handle = failing(one.webhook.adapter.handle, 100)
    async with WebhookDelivery(fake_bot_api, retry_delay=0.05) as delivery:
        update_id = fake_bot_api.inject_command(MINA, "start")
        await delivery.wait_answered(update_id)
    assert [d.status for d in delivery.of(update_id)] == [500, 500, 500, 200]
    texts = [r.params["text"] for r in fake_bot_api.calls("sendMessage", chat_id=MINA.id)]
    assert texts == ["Sorry, something went wrong on my side. Please try again in a moment."]
    assert await receipts(one.store) == [(update_id, True)]


async def test_not_connected_yet_means_come_back_later(
    fake_bot_api: FakeBotApi, one: Receiver
) -> None:
    one.webhook.ready = False
    async with WebhookDelivery(fake_bot_api) as delivery:
        assert await delivery.post(start_update(77), one.url, SECRET) == 503
    assert await receipts(one.store) == []
