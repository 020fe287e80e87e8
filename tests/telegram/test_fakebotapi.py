"""The fake Bot API itself: a real python-telegram-bot Application can run against it."""

from __future__ import annotations

import json

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakebotapi import FakeBotApi, FakeUser, Fault

MINA = FakeUser(1001, "Mina", language_code="ko")


async def welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("English", callback_data="lang:en")]])
    await update.message.reply_text("Welcome", reply_markup=keyboard)


async def picked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Language: {query.data}")


async def test_polling_application_answers_a_command_and_a_button(
    fake_bot_api: FakeBotApi,
) -> None:
    app = Application.builder().token(fake_bot_api.token).base_url(fake_bot_api.base_url).build()
    app.add_handler(CommandHandler("start", welcome))
    app.add_handler(CallbackQueryHandler(picked))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        try:
            fake_bot_api.inject_command(MINA, "start")
            await fake_bot_api.wait_for_request("sendMessage", chat_id=MINA.id)
            fake_bot_api.inject_callback(MINA, "lang:en")
            await fake_bot_api.wait_for_request("editMessageText", chat_id=MINA.id)
        finally:
            await app.updater.stop()
            await app.stop()

    [reply] = fake_bot_api.messages_in(MINA.id)
    assert (reply.text, reply.edited, reply.buttons) == ("Language: lang:en", True, [])
    assert [r.chat_id for r in fake_bot_api.calls("answerCallbackQuery", ok=True)] == [MINA.id]
    assert fake_bot_api.calls("deleteWebhook", ok=True)
    [command] = fake_bot_api.messages_in(MINA.id, from_bot=False)
    assert command.text == "/start"


async def test_json_and_form_bodies_are_read_alike(fake_bot_api: FakeBotApi) -> None:
    url = f"{fake_bot_api.base_url}{fake_bot_api.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Taken", "callback_data": "t:1"}]]}
    async with httpx.AsyncClient() as client:
        as_json = await client.post(url, json={"chat_id": 5, "text": "007", "reply_markup": markup})
        as_form = await client.post(
            url, data={"chat_id": "5", "text": "007", "reply_markup": json.dumps(markup)}
        )

    assert as_json.status_code == as_form.status_code == 200
    first, second = fake_bot_api.messages_in(5)
    assert first.text == second.text == "007"
    assert first.buttons == second.buttons == [[("Taken", "t:1")]]


async def test_wrong_token_is_unauthorized(fake_bot_api: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{fake_bot_api.base_url}1:wrong/getMe")

    assert answer.status_code == 401
    assert answer.json()["ok"] is False


async def test_fault_hits_only_its_chat_and_only_as_often_as_asked(
    fake_bot_api: FakeBotApi,
) -> None:
    fake_bot_api.add_fault(Fault.server_error(500), method="sendMessage", chat_id=1, times=2)
    fake_bot_api.add_fault(Fault.blocked(), chat_id=3, times=None)
    url = f"{fake_bot_api.base_url}{fake_bot_api.token}/sendMessage"
    async with httpx.AsyncClient() as client:

        async def status(chat: int) -> int:
            return (await client.post(url, data={"chat_id": chat, "text": "x"})).status_code

        statuses = [await status(chat) for chat in (1, 2, 1, 1, 3, 3)]
        fake_bot_api.clear_faults()
        unblocked = await status(3)

    assert statuses == [500, 200, 500, 200, 403, 403]
    assert unblocked == 200


async def test_flood_limit_refuses_sends_beyond_the_rate(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.flood_limit = 3
    now = [100.0]
    fake_bot_api.clock = lambda: now[0]
    url = f"{fake_bot_api.base_url}{fake_bot_api.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        burst = [(await client.post(url, data={"chat_id": c, "text": "x"})) for c in range(4)]
        now[0] += 1.0
        later = await client.post(url, data={"chat_id": 9, "text": "x"})

    assert [a.status_code for a in burst] == [200, 200, 200, 429]
    assert burst[3].json()["parameters"] == {"retry_after": 1}
    assert later.status_code == 200


async def test_server_down_then_back_on_the_same_port(fake_bot_api: FakeBotApi) -> None:
    port = fake_bot_api.port
    url = f"{fake_bot_api.base_url}{fake_bot_api.token}/getMe"
    async with httpx.AsyncClient() as client:
        assert (await client.post(url)).status_code == 200
        async with fake_bot_api.down():
            with pytest.raises(httpx.ConnectError):
                await client.post(url)
        assert (await client.post(url)).status_code == 200

    assert fake_bot_api.port == port
