"""Forget forgets, over Telegram: what the bot sent a forgotten patient's helpers about them
is deleted from the helpers' chats (within Telegram's 48 hours), though the patient's data,
outbox included, is gone; and nothing is left behind once that is done. Real
python-telegram-bot against the fake Bot API; injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.errors import NotFound
from storage.models import ChatCleanupRow
from tests.bot.telegram_support import MINA, Telegram, onboard
from tests.bot.telegram_support import database as database
from tests.bot.telegram_support import telegram as telegram
from tests.bot.test_telegram_helpers_e2e import ALERT, ANA, BO, CLOSE, link_over_telegram
from tests.fakebotapi import Fault
from tests.fakebotapi import fake_bot_api as fake_bot_api

pytestmark = pytest.mark.asyncio


async def forget(telegram: Telegram) -> None:
    await telegram.say(MINA, "/forget")
    await telegram.press(MINA, "Yes, erase")
    await telegram.press(MINA, "Erase everything now")
    assert "Everything is erased" in telegram.bot_messages(MINA)[-1]


def deleted(telegram: Telegram, user_id: int) -> set[int]:
    return {c.params["message_id"] for c in telegram.api.calls("deleteMessage", chat_id=user_id)}


async def test_forget_deletes_the_alerts_already_in_helpers_chats(telegram: Telegram) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await link_over_telegram(telegram, BO, "Bo")
    patient_id = await world.patient_id(str(MINA.id))
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    await world.travel(timedelta(hours=1))  # the escalation: Bo is told too
    await telegram.deliver()
    sent = [
        int(e.sent_message_id)
        for e in await world.outbox(patient_id)
        if e.recipient.startswith("helper:") and e.sent_message_id
    ]
    assert all(ALERT in " ".join(telegram.bot_messages(u)) for u in (ANA, BO))

    await forget(telegram)
    with pytest.raises(NotFound):
        await world.store.outbox.for_patient(patient_id)
    async with world.store.engine.connect() as connection:
        sealed = list(await connection.scalars(select(ChatCleanupRow.target)))
    assert len(sealed) >= len(sent) >= 4  # two welcomes, two alerts
    assert not any(str(user.id).encode() in t for t in sealed for user in (ANA, BO))

    await world.runtime.cleaner.run_once()
    assert set(sent) <= deleted(telegram, ANA.id) | deleted(telegram, BO.id)
    for user in (ANA, BO):
        shown = " ".join(telegram.bot_messages(user))
        assert ALERT not in shown and "you are now their helper" not in shown
    assert await world.store.cleanups.count() == 0
    assert await world.store.cleanups.next_due(["telegram"]) is None


async def test_forget_leaves_alone_what_telegram_no_longer_lets_us_delete(
    telegram: Telegram,
) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    (old,) = [m.message_id for m in telegram.api.messages_in(ANA.id) if ALERT in m.text]
    await world.travel(timedelta(days=3))  # past Telegram's 48 hours
    await telegram.deliver()
    recent = [m.message_id for m in telegram.api.messages_in(ANA.id) if ALERT in m.text][1:]
    assert recent
    await forget(telegram)
    await world.runtime.cleaner.run_once()
    asked = deleted(telegram, ANA.id)
    assert set(recent) <= asked and old not in asked
    assert await world.store.cleanups.count() == 0


async def test_a_deletion_telegram_cannot_do_now_is_tried_again_then_dropped(
    telegram: Telegram,
) -> None:
    """The Bot API is down when the forget's deletions come due: they wait and are tried
    again with backoff, and are dropped once Telegram's 48 hours are over."""
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    telegram.api.add_fault(Fault.server_error(502), method="deleteMessage", times=None)
    await forget(telegram)
    waiting = await world.store.cleanups.count()
    await world.runtime.cleaner.run_once()
    assert await world.store.cleanups.count() == waiting  # kept, to try again
    world.clock.advance(timedelta(hours=49))
    assert await world.runtime.cleaner.run_once() == 0
    assert await world.store.cleanups.count() == 0  # past the 48 hours: dropped untried


async def test_forget_deletes_the_answers_to_the_helpers_own_commands(telegram: Telegram) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await telegram.say(ANA, "/patients")
    await telegram.say(ANA, "/status")  # one person helped: their week at once
    naming = [m.message_id for m in telegram.api.messages_in(ANA.id) if "Mina" in m.text]
    assert len(naming) >= 4  # the invitation, the welcome, the day, the week
    await forget(telegram)
    await world.runtime.cleaner.run_once()
    assert set(naming) <= deleted(telegram, ANA.id)
    assert not [m.text for m in telegram.api.messages_in(ANA.id) if "Mina" in m.text]
    assert await world.store.cleanups.count() == 0
