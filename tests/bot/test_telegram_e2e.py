"""End to end through Telegram: real python-telegram-bot, real HTTP to a fake Bot API on
127.0.0.1, the real dialogue, engine, outbox and dispatcher; only the clock is injected."""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

import pytest

from bot.logsafe import configure_logging
from bot.telegram.app import build_application, set_command_menus
from storage.records import DoseOutcome
from tests.bot.telegram_support import JISOO, MINA, Telegram, onboard
from tests.bot.telegram_support import database as database
from tests.bot.telegram_support import telegram as telegram
from tests.bot.world import World
from tests.fakebotapi import FakeBotApi, FakeUser, Fault
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.helper_links import link_helper

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("language", ["en", "ko", "zh"])
async def test_onboarding_in_each_language_over_telegram(telegram: Telegram, language: str) -> None:
    user = FakeUser(7100, "P", language)
    await onboard(telegram, user, language)
    last = telegram.bot_messages(user)[-1]
    expected = {"en": "All set", "ko": "민아", "zh": "米娜"}[language]
    assert expected in last
    if language != "en":
        assert re.search(r"[\uac00-\ud7a3\u4e00-\u9fff]", last)
    patient_id = await telegram.world.patient_id(str(user.id))
    assert (await telegram.world.store.enrolments.active(patient_id))[
        0
    ].enrolment.regimen_id == "2HRZE/4HR"


async def test_reminder_taken_edits_the_message_and_stores_the_dose(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    patient_id = await telegram.world.patient_id(str(MINA.id))
    await telegram.world.travel(timedelta(hours=11))
    await telegram.deliver()
    reminder = telegram.api.messages_in(MINA.id)[-1]
    assert "time for your vitamins" in reminder.text
    await telegram.press(MINA, "Taken")
    edited = next(
        m for m in telegram.api.messages_in(MINA.id) if m.message_id == reminder.message_id
    )
    assert edited.edited and edited.buttons == []
    assert edited.text.startswith("Dose of Mar 2, 8:00\u202fPM: taken ✓")
    events = await telegram.world.store.doses.events(patient_id)
    assert [e.outcome for e in events] == [DoseOutcome.TAKEN]


async def test_snooze_over_telegram_reminds_again(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    await telegram.world.travel(timedelta(hours=11))
    await telegram.deliver()
    await telegram.press(MINA, "In 15 min")
    assert "remind you again" in telegram.bot_messages(MINA)[-1]
    await telegram.world.travel(timedelta(minutes=15))
    await telegram.deliver()
    texts = telegram.bot_messages(MINA)
    assert sum("time for your vitamins" in t for t in texts) == 1  # the first was edited
    assert "time for your vitamins" in texts[-1]


async def test_late_report_over_telegram(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    await telegram.world.travel(timedelta(days=1, hours=7))
    await telegram.deliver()
    await telegram.say(MINA, "/late")
    await telegram.press(MINA, "PM")
    # The second day's dose also brings the first mood check-in offer, after the answer.
    assert any("taken late" in text for text in telegram.bot_messages(MINA)[-2:])


async def test_red_flag_reaches_the_helper_within_one_dispatcher_cycle(telegram: Telegram) -> None:
    world = telegram.world
    await onboard(telegram, MINA, "en")
    patient_id = await world.patient_id(str(MINA.id))
    await link_helper(world.store, patient_id, str(JISOO.id))
    await telegram.say(MINA, "/symptom")
    await telegram.press(MINA, "Yellow skin")
    await telegram.press(MINA, "Mild")
    await telegram.press(MINA, "No")
    await telegram.press(MINA, "Skip")
    advice, told = telegram.bot_messages(MINA)[-2:]
    assert "Stop taking the medicine" in advice
    assert told == "I have let Jisoo know, so they can reach out to you."
    await telegram.dispatcher.run_once()
    [alert] = telegram.api.delivered_texts(JISOO.id)
    assert "Mina" in alert and "Yellow" not in alert


async def test_pause_and_forget_over_telegram(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    patient_id = await telegram.world.patient_id(str(MINA.id))
    await telegram.say(MINA, "/pause")
    await telegram.press(MINA, "hospital")
    assert "Paused" in telegram.bot_messages(MINA)[-1]
    await telegram.world.travel(timedelta(days=2))
    await telegram.deliver()
    assert not any("vitamins" in t for t in telegram.bot_messages(MINA)[-1:])
    await telegram.say(MINA, "/forget")
    await telegram.press(MINA, "Yes, erase")
    await telegram.press(MINA, "Erase everything now")
    assert "erased" in telegram.bot_messages(MINA)[-1]
    assert not await telegram.world.store.patients.exists(patient_id)


async def test_in_a_group_chat_the_bot_says_one_neutral_sentence_and_leaves(
    telegram: Telegram,
) -> None:
    telegram.api.inject_command(MINA, "start", chat_id=-100777)
    await telegram.api.wait_for(lambda: -100777 in telegram.api.left)
    (said,) = telegram.api.delivered_texts(-100777)
    assert "one-to-one" in said and "health" not in said.casefold()
    assert await telegram.world.store.patients.count() == 0


async def test_added_to_a_group_the_bot_leaves_before_anyone_writes(telegram: Telegram) -> None:
    telegram.api.inject_added_to_group(MINA, -100888)
    await telegram.api.wait_for(lambda: -100888 in telegram.api.left)
    assert len(telegram.api.delivered_texts(-100888)) == 1
    assert await telegram.world.store.patients.count() == 0


async def test_no_log_record_holds_the_token_a_chat_id_an_alias_or_symptom_text(
    telegram: Telegram,
) -> None:
    # Long, unusual values, so that a hit cannot be a coincidence with a number in a log line.
    zubeida = FakeUser(590_173_468, "Z", "en")
    buffer = io.StringIO()
    handler = configure_logging(logging.DEBUG, token=telegram.api.token, stream=buffer)
    try:
        await onboard(telegram, zubeida, "en", alias="Zubeida")
        await telegram.world.travel(timedelta(hours=11))
        await telegram.deliver()
        await telegram.press(zubeida, "Taken")
        await telegram.say(zubeida, "/symptom")
        await telegram.press(zubeida, "Something else")
        await telegram.press(zubeida, "Mild")
        await telegram.press(zubeida, "No")
        await telegram.say(zubeida, "my knees glow purple")
    finally:
        logging.getLogger().removeHandler(handler)
    logged = buffer.getvalue()
    assert logged  # the scenario did log something, at DEBUG
    for secret in (telegram.api.token, str(zubeida.id), "Zubeida", "knees glow purple"):
        assert secret not in logged, f"{secret!r} found in the log"


async def test_command_menus_are_set_per_language_and_a_failure_does_not_stop_the_bot(
    fake_bot_api: FakeBotApi,
) -> None:
    application = build_application(fake_bot_api.token, fake_bot_api.base_url)
    fake_bot_api.add_fault(Fault.server_error(500), method="setMyCommands", times=1)
    async with application:
        await set_command_menus(application)  # must not raise
    calls = fake_bot_api.calls("setMyCommands")
    assert len(calls) == 3
    accepted = {c.params.get("language_code") for c in fake_bot_api.calls("setMyCommands", ok=True)}
    assert len(accepted) == 2  # the first call failed, the other two languages were set
    assert accepted <= {None, "ko", "zh"}


async def test_discreet_mode_deletes_health_messages_from_the_chat_after_the_delay(
    telegram: Telegram,
) -> None:
    await onboard(telegram, MINA, "en")
    await telegram.say(MINA, "/settings")
    await telegram.press(MINA, "Delete health messages")
    await telegram.press(MINA, "After 1 hour")
    await telegram.say(MINA, "/progress", within=30)
    # The numbers, then the month's picture: both are health messages. On a busy machine the
    # settings' last answer can land after the quiet gap `press` waits for, so wait for the
    # picture itself.
    await telegram.api.wait_for(
        lambda: telegram.api.messages_in(MINA.id)[-1].photo is not None, within=30
    )
    progress, picture = telegram.api.messages_in(MINA.id)[-2:]
    assert "Doses taken" in progress.text and picture.photo is not None
    await telegram.world.travel(timedelta(minutes=59))
    await telegram.deliver()
    assert not telegram.api.calls("deleteMessage")
    await telegram.world.travel(timedelta(minutes=1))
    await telegram.deliver()
    deletes = telegram.api.calls("deleteMessage", ok=True)
    deleted = sorted(int(d.params["message_id"]) for d in deletes)
    assert deleted == [progress.message_id, picture.message_id]
    shown = [m.message_id for m in telegram.api.messages_in(MINA.id)]
    assert progress.message_id not in shown and picture.message_id not in shown


async def link_jisoo(world: World) -> None:
    patient_id = await world.patient_id(str(MINA.id))
    await link_helper(world.store, patient_id, str(JISOO.id))


async def test_a_crisis_answer_reaches_the_crisis_message_and_the_helper(
    telegram: Telegram,
) -> None:
    await onboard(telegram, MINA, "en")
    await link_jisoo(telegram.world)
    await telegram.say(MINA, "/mood")
    for answer in ("Nearly every day", "Nearly every day", "Yes, go on"):
        await telegram.press(MINA, answer)
    for _ in range(7):
        await telegram.press(MINA, "More than half")
    crisis, told = telegram.bot_messages(MINA)[-2:]
    assert "do not have to carry this alone" in crisis
    assert "reach out to your helper" not in crisis  # the bot says who it told instead
    assert told == "I have let Jisoo know, so they can reach out to you."
    await telegram.dispatcher.run_once()
    [alert] = telegram.api.delivered_texts(JISOO.id)
    assert "hard time" in alert


async def test_a_refill_reminder_over_telegram(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")  # no weight given: FDC tablets unknown
    await telegram.say(MINA, "/settings")
    await telegram.press(MINA, "Weight")
    await telegram.say(MINA, "52")
    await telegram.say(MINA, "/stock")
    await telegram.press(MINA, "I bought tablets")
    await telegram.press(MINA, "HRZE")
    await telegram.say(MINA, "24")
    await telegram.world.travel(timedelta(days=1, hours=11))
    await telegram.deliver()
    await telegram.press(MINA, "Taken")
    assert any("about 7 more days" in text for text in telegram.bot_messages(MINA)[-3:])


async def test_taken_by_command_edits_the_reminder_still_on_screen(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    await telegram.world.travel(timedelta(hours=11))
    await telegram.deliver()
    reminder = telegram.api.messages_in(MINA.id)[-1]
    assert reminder.buttons
    await telegram.say(MINA, "/taken")
    assert telegram.bot_messages(MINA)[-1].startswith("Dose of Mar 2, 8:00\u202fPM: taken ✓")
    await telegram.deliver()
    edited = next(
        m for m in telegram.api.messages_in(MINA.id) if m.message_id == reminder.message_id
    )
    assert edited.edited and edited.buttons == []
    assert edited.text == "Dose of Mar 2, 8:00\u202fPM: taken ✓"


async def test_a_nudge_answered_settles_the_first_reminder_too(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    await telegram.world.travel(timedelta(hours=11))
    await telegram.deliver()
    first = telegram.api.messages_in(MINA.id)[-1]
    await telegram.world.travel(timedelta(minutes=40))  # the first nudge
    await telegram.deliver()
    nudge = telegram.api.messages_in(MINA.id)[-1]
    assert nudge.message_id != first.message_id and nudge.buttons
    await telegram.press(MINA, "Not today")
    await telegram.deliver()
    by_id = {m.message_id: m for m in telegram.api.messages_in(MINA.id)}
    assert by_id[nudge.message_id].text.startswith("Dose of Mar 2, 8:00\u202fPM: not taken")
    assert by_id[first.message_id].text == "Dose of Mar 2, 8:00\u202fPM: not taken"
    assert by_id[first.message_id].buttons == []


async def test_a_past_start_asks_about_the_doses_since_over_telegram(telegram: Telegram) -> None:
    jun = FakeUser(7200, "J", "ko")
    await telegram.say(jun, "/start")
    await telegram.press(jun, "동의")
    await telegram.say(jun, "준")
    await telegram.press(jun, "Seoul")
    await telegram.press(jun, "2HRZE/4HR)")
    await telegram.say(jun, "2026-02-23")
    await telegram.say(jun, "08:00")
    assert "8번 복용할 차례" in telegram.bot_messages(jun)[-1]  # 23 Feb to 2 Mar
    await telegram.press(jun, "몇 번 빠뜨렸어요")
    await telegram.say(jun, "２")  # full-width, as a phone keyboard may type it
    await telegram.press(jun, "건너뛰")
    await telegram.press(jun, "복합정")
    await telegram.press(jun, "있는 그대로")
    summary = telegram.bot_messages(jun)[-1]
    assert "이전 복용 중 2번은 복용으로 세지 않아요." in summary
    await telegram.press(jun, "시작")
    patient_id = await telegram.world.patient_id(str(jun.id))
    events = await telegram.world.store.doses.events(patient_id)
    assert sorted(e.outcome.value for e in events) == ["missed"] * 2 + ["taken"] * 6


async def test_numbers_and_dates_read_naturally_over_telegram(telegram: Telegram) -> None:
    jun = FakeUser(7201, "J", "ko")
    await onboard(telegram, jun, "ko")
    await telegram.world.travel(timedelta(days=1))
    await telegram.deliver()
    await telegram.say(jun, "/late")
    labels = [label for row in telegram.api.messages_in(jun.id)[-1].buttons for label, _ in row]
    assert labels[0] == "3월 2일 오후 8:00", labels
    await telegram.say(jun, "/settings")
    await telegram.press(jun, "몸무게")
    await telegram.say(jun, "52")
    await telegram.say(jun, "/stock")
    await telegram.press(jun, "남은 알약")
    await telegram.say(jun, "3")  # one day's tablets: the warning comes at once
    assert telegram.bot_messages(jun)[-1] == "비타민이(가) 약 1일분 남았어요. 더 구할 때예요."
