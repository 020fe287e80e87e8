from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from telegram import Bot

from bot.telegram.sender import build_bot
from bot.telegram.transport import Timeouts
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi import fake_bot_api as fake_bot_api

# Short enough that a deliberately slow answer costs a test a fraction of a second.
TEST_TIMEOUTS = Timeouts(connect=1.0, read=0.3, write=1.0, pool=1.0)


@pytest_asyncio.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url, timeouts=TEST_TIMEOUTS)
    async with bot:
        yield bot
