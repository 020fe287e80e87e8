"""Helpers end to end through Telegram: linking by deep link, one alert per incident (also
across an engine restart), an acknowledgement that stops escalation, a removed helper who
hears nothing more. Real python-telegram-bot against the fake Bot API; injected clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.compose import BotComposer
from scheduler.engine import Engine
from tests.bot.telegram_support import MINA, Telegram, onboard
from tests.bot.telegram_support import database as database
from tests.bot.telegram_support import telegram as telegram
from tests.bot.world import START
from tests.fakebotapi import FakeUser
from tests.fakebotapi import fake_bot_api as fake_bot_api

pytestmark = pytest.mark.asyncio

ANA = FakeUser(8101, "Ana Lee", "en")
BO = FakeUser(8102, "Bo", "en")
LINK = re.compile(r"https://t\.me/companion_test_bot\?start=(join-[0-9A-Z]{28})")
# Mina's 20:00 Seoul dose is 11:00 UTC; its window closes six hours later.
CLOSE = START + timedelta(hours=17)
ALERT = "has not answered today's check-in"


async def link_over_telegram(telegram: Telegram, helper: FakeUser, name: str) -> None:
    """Mina invites `helper` by deep link; they accept; Mina confirms."""
    telegram.world.clock.advance(timedelta(minutes=1))  # helpers are told in linking order
    await telegram.say(MINA, "/helper")
    menu = telegram.api.messages_in(MINA.id)[-1]
    if any("Invite a helper" in label for row in menu.buttons for label, _ in row):
        await telegram.press(MINA, "Invite a helper")
    await telegram.say(MINA, name)
    await telegram.press(MINA, "Mina")  # the name the helper will see
    found = LINK.search(telegram.bot_messages(MINA)[-1])
    assert found, telegram.bot_messages(MINA)[-1]
    await telegram.say(helper, f"/start {found[1]}")
    assert "Mina asks you to be their treatment helper" in telegram.bot_messages(helper)[-1]
    await telegram.press(helper, "I accept")
    await telegram.deliver()  # the question to Mina, with the words the helper was shown
    assert words(telegram.bot_messages(MINA)[-1]) == words(telegram.bot_messages(helper)[-1])
    await telegram.press(MINA, "The words match: link them")
    await telegram.deliver()  # the welcome to the helper
    assert "you are now their helper" in telegram.bot_messages(helper)[-1]


async def remove_over_telegram(telegram: Telegram, name: str) -> None:
    """Mina removes the helper `name` in /helper."""
    await telegram.say(MINA, "/helper")
    await telegram.press(MINA, name)
    await telegram.press(MINA, f"Remove {name}")
    await telegram.press(MINA, "Yes, remove")


def words(text: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if " · " in line]
    return line.split(" · ")


async def test_an_impostor_with_a_copied_display_name_is_not_shown_as_the_helper(
    telegram: Telegram,
) -> None:
    """Eve copies Ana's Telegram name and opens the link first. Mina is never shown the name;
    she is shown words that only Eve's chat holds, which Ana, asked by phone, cannot say."""
    eve = FakeUser(8666, ANA.first_name, "en")
    await onboard(telegram, MINA, "en")
    await telegram.say(MINA, "/helper")
    await telegram.say(MINA, "Ana")
    await telegram.press(MINA, "Mina")
    found = LINK.search(telegram.bot_messages(MINA)[-1])
    assert found
    await telegram.say(eve, f"/start {found[1]}")
    await telegram.press(eve, "I accept")
    await telegram.deliver()
    question = telegram.bot_messages(MINA)[-1]
    assert ANA.first_name not in question
    assert words(question) == words(telegram.bot_messages(eve)[-1])
    assert telegram.api.delivered_texts(ANA.id) == []  # Ana has no words to say
    await telegram.press(MINA, "No, that is not them")
    await telegram.deliver()
    assert "did not confirm the link. Nothing was shared" in telegram.bot_messages(eve)[-1]


def alerts_to(telegram: Telegram, helper: FakeUser) -> list[str]:
    return [t for t in telegram.api.delivered_texts(helper.id) if ALERT in t]


async def test_linked_by_deep_link_one_alert_per_missed_dose_even_across_a_restart(
    telegram: Telegram,
) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await link_over_telegram(telegram, BO, "Bo")
    # The engine dies after the reminder; a new one finds the close and the escalation.
    await world.travel(timedelta(hours=11, minutes=30) - (world.clock.now() - START))
    await telegram.deliver()
    world.engine = Engine(world.store, world.clock, BotComposer(), worker_id="restarted")
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    assert len(alerts_to(telegram, ANA)) == 1 and alerts_to(telegram, BO) == []
    world.engine = Engine(world.store, world.clock, BotComposer(), worker_id="again")
    await world.travel(timedelta(hours=1))  # the escalation delay: Bo is told, once
    await telegram.deliver()
    await world.travel(timedelta(hours=1))
    await telegram.deliver()
    assert len(alerts_to(telegram, ANA)) == 1 and len(alerts_to(telegram, BO)) == 1


async def test_ill_reach_out_stops_the_escalation_and_edits_the_alert(telegram: Telegram) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await link_over_telegram(telegram, BO, "Bo")
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    alert = telegram.api.messages_in(ANA.id)[-1]
    assert ALERT in alert.text
    await telegram.press(ANA, "I'll reach out")
    edited = next(m for m in telegram.api.messages_in(ANA.id) if m.message_id == alert.message_id)
    assert edited.edited and "Thank you for reaching out to Mina" in edited.text
    assert ALERT in edited.text  # the alert still says what it was about
    assert edited.buttons == []
    await world.travel(timedelta(hours=6))
    await telegram.deliver()
    assert alerts_to(telegram, BO) == []


async def test_a_removed_helper_is_told_once_and_then_hears_nothing(telegram: Telegram) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await remove_over_telegram(telegram, "Ana")
    assert "Ana is no longer your helper" in telegram.bot_messages(MINA)[-1]
    await telegram.deliver()
    assert "removed you as their helper" in telegram.bot_messages(ANA)[-1]
    before = len(telegram.api.delivered_texts(ANA.id))
    await world.travel(timedelta(days=4))
    await telegram.deliver()
    assert len(telegram.api.delivered_texts(ANA.id)) == before
    await telegram.say(ANA, "/patients")
    assert "not helping anyone" in telegram.bot_messages(ANA)[-1]


async def test_removing_a_helper_deletes_what_they_were_sent_from_their_chat(
    telegram: Telegram,
) -> None:
    """Within Telegram's 48 hours what the bot sent them about the patient (the alert, the
    welcome) goes; the goodbye stays, and so does the bot's answer to their own "I accept"."""
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    assert any(ALERT in m.text for m in telegram.api.messages_in(ANA.id))
    await remove_over_telegram(telegram, "Ana")
    await telegram.deliver()
    shown = " ".join(m.text for m in telegram.api.messages_in(ANA.id))
    assert ALERT not in shown and "you are now their helper" not in shown
    assert "removed you as their helper" in shown  # the goodbye stays
    assert await world.store.helpers.for_patient(await world.patient_id(str(MINA.id))) == []


async def test_messages_older_than_telegram_allows_are_not_asked_to_be_deleted(
    telegram: Telegram,
) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await world.travel(CLOSE - world.clock.now())
    await telegram.deliver()
    (first,) = [m.message_id for m in telegram.api.messages_in(ANA.id) if ALERT in m.text]
    await world.travel(timedelta(days=3))  # that alert is past Telegram's 48 hours now
    await telegram.deliver()
    await remove_over_telegram(telegram, "Ana")
    await telegram.deliver()
    asked = {c.params["message_id"] for c in telegram.api.calls("deleteMessage", chat_id=ANA.id)}
    assert asked and first not in asked  # the later alerts went, the old one was not asked
    assert [m.message_id for m in telegram.api.messages_in(ANA.id) if ALERT in m.text] == [first]


async def test_helper_commands_over_telegram(telegram: Telegram) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await world.travel(CLOSE - world.clock.now())
    await telegram.say(ANA, "/patients")
    assert "Mina: ⏳" in telegram.bot_messages(ANA)[-1]  # 02:00 in Seoul: tonight's dose to come
    await telegram.say(ANA, "/status Mina")
    assert "Mina: 0 of 1 check-in answered." in telegram.bot_messages(ANA)[-1]
    await telegram.say(ANA, "/leave")
    await telegram.press(ANA, "Stop helping Mina")
    await telegram.deliver()
    assert "Ana stopped being your helper" in telegram.bot_messages(MINA)[-1]


async def test_removing_a_helper_deletes_the_answers_to_their_own_commands(
    telegram: Telegram,
) -> None:
    """`/patients`, `/status` and the invitation ("I accept" edits it) name the patient; they
    go from the helper's chat with the alerts when the patient removes the helper."""
    await onboard(telegram, MINA, "en")
    await link_over_telegram(telegram, ANA, "Ana")
    await telegram.say(ANA, "/patients")
    await telegram.say(ANA, "/status Mina")
    shown = telegram.api.messages_in(ANA.id)
    naming = [m.message_id for m in shown if "Mina" in m.text]
    (invitation,) = [m.message_id for m in shown if "will now check that it is you" in m.text]
    answers = [m.message_id for m in shown if "The people you help" in m.text or "0 of" in m.text]
    assert len(answers) == 2 and invitation in naming
    await remove_over_telegram(telegram, "Ana")
    await telegram.deliver()
    asked = {c.params["message_id"] for c in telegram.api.calls("deleteMessage", chat_id=ANA.id)}
    assert {invitation, *answers} <= asked
    left = [m.text for m in telegram.api.messages_in(ANA.id)]
    assert all("Mina" not in text or "removed you as their helper" in text for text in left), left
