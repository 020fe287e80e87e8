from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.telegram.sender import build_bot
from bot.telegram.transport import Timeouts
from scheduler.clock import FakeClock
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.scheduler.harness import Harness

# Short enough that a deliberately slow answer costs a test a fraction of a second.
TEST_TIMEOUTS = Timeouts(connect=1.0, read=0.3, write=1.0, pool=1.0)


@pytest_asyncio.fixture
async def harness(fake_bot_api: FakeBotApi) -> AsyncIterator[Harness]:
    clock = FakeClock()
    # Requests are stamped in virtual time, so gaps between sends can be asserted exactly.
    fake_bot_api.clock = clock.monotonic
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url, timeouts=TEST_TIMEOUTS)
    async with bot:
        yield Harness(fake_bot_api, bot, clock)
