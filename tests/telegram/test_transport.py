"""The aiohttp transport under python-telegram-bot, against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from PIL import Image
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.sender import build_bot
from bot.telegram.transport import Timeouts
from tests.fakebotapi import BOT_USER_ID, FakeBotApi, Fault

MINA = 1001


async def test_a_call_may_wait_longer_than_the_default_read_timeout_when_it_asks(
    bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    # getUpdates long polling passes its own, longer read timeout on every call.
    fake_bot_api.add_fault(Fault.slow(0.6), method="getMe", times=2)

    with pytest.raises(TimedOut):
        await bot.get_me()
    me = await bot.get_me(read_timeout=3.0)

    assert me.id == BOT_USER_ID


async def test_waiting_for_a_free_connection_is_bounded_by_the_pool_timeout(
    fake_bot_api: FakeBotApi,
) -> None:
    one = build_bot(
        fake_bot_api.token,
        base_url=fake_bot_api.base_url,
        timeouts=Timeouts(connect=0.2, read=5.0, write=1.0, pool=0.2),
        connections=1,
    )
    fake_bot_api.add_fault(Fault.slow(1.5), method="sendMessage", chat_id=MINA)
    async with one:
        slow = asyncio.create_task(one.send_message(MINA, "slow"))
        await fake_bot_api.wait_for(lambda: fake_bot_api.answering == 1)
        with pytest.raises(TimedOut):
            await one.send_message(MINA + 1, "queued behind it")
        await slow

    assert fake_bot_api.delivered_texts() == ["slow"]


async def test_failures_name_the_exception_class_and_never_the_token(
    bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    async with fake_bot_api.down():
        with pytest.raises(NetworkError) as refused:
            await bot.send_message(MINA, "Dose time")
    fake_bot_api.add_fault(Fault.slow(2.0), method="sendMessage")
    with pytest.raises(TimedOut) as late:
        await bot.send_message(MINA, "Dose time")

    assert isinstance(refused.value.__cause__, aiohttp.ClientError)
    secret = fake_bot_api.token.split(":", 1)[1]
    for failure in (refused.value, late.value):
        assert secret not in str(failure)
        assert secret not in repr(failure)
        assert failure.message.startswith("aiohttp: ")


async def test_a_proxy_named_in_the_environment_carries_the_calls(
    fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake answers a proxy's absolute-form request lines, so it can stand in for the proxy
    # in front of a Bot API host that does not resolve.
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{fake_bot_api.port}")
    bot = build_bot(fake_bot_api.token, base_url="http://api.telegram.invalid/bot")

    async with bot:
        await bot.send_message(MINA, "through the proxy")

    assert fake_bot_api.delivered_texts() == ["through the proxy"]


async def test_a_picture_and_a_document_are_uploaded_as_multipart(
    bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    png = _png(40, 30)
    photo = await bot.send_photo(MINA, photo=png, caption="March", filename="calendar.png")
    pdf = b"%PDF-1.7 a report\n%%EOF"
    sent = await bot.send_document(MINA, document=pdf, caption="Notes", filename="notes.pdf")

    stored = fake_bot_api.messages_in(MINA)
    assert stored[0].photo is not None and stored[0].photo.data == png
    assert (stored[0].photo.filename, stored[0].caption) == ("calendar.png", "March")
    assert stored[1].document is not None and stored[1].document.data == pdf
    assert (stored[1].document.filename, stored[1].caption) == ("notes.pdf", "Notes")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (40, 30)
    assert sent.document is not None and sent.document.file_name == "notes.pdf"
    # The other parameters travel as form fields beside the file.
    (call,) = fake_bot_api.calls("sendDocument")
    assert call.params["chat_id"] == MINA and call.params["caption"] == "Notes"


async def test_an_upload_the_api_refuses_is_a_bad_request_not_a_transport_failure(
    bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(MINA, photo=b"not a picture", filename="calendar.png")

    assert fake_bot_api.messages_in(MINA) == []


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 158, 115)).save(out, format="PNG")
    return out.getvalue()


async def test_the_bot_can_be_started_and_stopped_again(fake_bot_api: FakeBotApi) -> None:
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
    for text in ("first run", "after a restart"):
        async with bot:
            await bot.send_message(MINA, text)

    assert fake_bot_api.delivered_texts() == ["first run", "after a restart"]
    with pytest.raises(NetworkError, match="not initialized"):
        await bot.request.post(f"{fake_bot_api.base_url}{fake_bot_api.token}/getMe")
