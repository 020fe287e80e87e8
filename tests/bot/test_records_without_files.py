"""Where the patient's channel takes no files (as SMS): /progress is a text calendar, /report
a few lines, /export says why it cannot come, and the PDF can still reach a helper the patient
allowed, on the helper's own channel. The channels are declared by the test; the dialogue asks
their abilities, never their names."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from scheduler.clock import FakeClock
from scheduler.ratelimit import Limits
from storage.store import Store
from tests.bot.test_channels import DUE, PIGEON, Loft, Perch, deliver, invite, onboard
from tests.bot.test_channels import clock as clock
from tests.bot.test_channels import store as store
from tests.bot.world import make_world
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi import fake_bot_api as fake_bot_api

pytestmark = pytest.mark.asyncio


async def test_without_files_the_records_come_as_words_and_a_helper_gets_the_pdf(
    store: Store, clock: FakeClock, fake_bot_api: FakeBotApi
) -> None:
    assert not PIGEON.attachments
    loft = Loft()
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
    telegram = replace(TELEGRAM, limits=Limits(per_chat_interval=0.0, global_rate=None))
    world = make_world(
        store, clock, {PIGEON.name: loft, TELEGRAM.name: TelegramSender(bot)}, [PIGEON, telegram]
    )
    mina = Perch(world, loft, "mina-loft")
    jisoo = world.person("8001")
    async with bot:
        await onboard(mina)
        await world.travel(DUE - world.clock.now())
        await deliver(world)
        await mina.choose("Taken")

        await mina.say("/progress")
        shown = mina.text()
        assert "Doses taken: 1 of 182" in shown
        # The text calendar: a week a line, today's dose taken, the rest of the week to come.
        assert "✅⏳" in shown and "✅ taken" in shown
        assert all(p.file is None for p in loft.sent["mina-loft"])

        await mina.say("/export")
        assert "files cannot be sent in this chat" in mina.text()

        await mina.say("/report")
        await mina.choose("English")
        summary = mina.text()
        # Mina is in discreet mode, and on this channel discreet words are the only words.
        assert "Check-ins answered: 1 of 182." in summary and "dose" not in summary.lower()

        code = await invite(mina)
        await jisoo.say(f"/join {code}")
        await jisoo.choose("I accept")
        await deliver(world)
        await mina.choose("The words match")
        await deliver(world)
        await mina.say("/helper")
        await mina.choose("Jisoo")
        await mina.choose("May get my treatment report")

        await mina.say("/report")
        await mina.choose("English")
        await mina.choose("Send it to Jisoo")
        assert "sending the report to Jisoo" in mina.text()
        await deliver(world)

    (shared,) = [m for m in fake_bot_api.messages_in(8001) if m.document is not None]
    assert shared.document is not None and shared.document.filename.startswith("notes-")
    first = PdfReader(io.BytesIO(shared.document.data)).pages[0].extract_text()
    assert "Dosestaken:1of182" in "".join(first.replace("\x00", "").split())
    assert all(p.file is None for p in loft.sent["mina-loft"])  # nothing was filed by pigeon
