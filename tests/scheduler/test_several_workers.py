"""Issue 18's several workers, scaled down for CI: four `tbbot run --webhook` processes on one
PostgreSQL database, 2,000 patients, 1,000 of them due at one instant. Every reminder is sent
exactly once, all are queued before the instant, and the drain through Telegram's 30/s flood
control takes within 5% of the physical limit (1,000 / 30 s). The full size (200,000 patients,
a burst of 20,000) is `python -m bench workers`, with its numbers in bench/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.run_support import Installation
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi
from tests.scheduler import workers_scenario
from tests.scheduler.workers_scenario import SECRET

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.postgres]

WORKERS = 4
FLOOD_LIMIT = 30
RATE = 29.0  # what the workers keep together: just under the flood limit


async def test_four_workers_send_a_burst_once_queued_ahead_and_drained_at_the_limit(
    postgres_database: TestDatabase, tmp_path: Path
) -> None:
    api = FakeBotApi(flood_limit=FLOOD_LIMIT)
    await api.start()
    try:
        place = Installation.create(
            tmp_path,
            api,
            DATABASE_URL=postgres_database.url,
            TBBOT_TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
        outcome = await workers_scenario.run(
            api, place, workers=WORKERS, idle=1000, burst=1000, rate=RATE
        )
    finally:
        await api.stop()

    assert len(outcome.sends_per_chat) == 1000, "a reminder was not sent"
    assert set(outcome.sends_per_chat.values()) == {1}, outcome.sends_per_chat.most_common(3)
    assert outcome.queued_ahead > 0, f"the last reminder was queued {-outcome.queued_ahead} s late"
    assert outcome.first_send >= 0, "a reminder went out before its instant"
    assert outcome.drain_ratio <= 1.05, (outcome.last_send, outcome.ideal, outcome)
