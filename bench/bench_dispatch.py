"""Dispatcher throughput and rate keeping, against the fake Bot API on 127.0.0.1.

1. Throughput with the global limit off: how many messages per second the dispatcher, the real
   python-telegram-bot and the local HTTP round trip sustain together (target: 500/s or more).
2. Rate keeping with the global limit on (25/s for ten seconds) while the fake applies flood
   control at Telegram's ceiling of 30/s: the achieved rate (target: 95% of 25/s or more) and
   how many 429s came back (target: none).

The fake runs in a process of its own, so that the dispatcher does not share a CPU and an event
loop with the server it is measured against. Each message goes to its own chat, as reminders to
many patients do, so the per-chat limit of one per second never binds. Real time throughout:
this measures, it does not test.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from scheduler.clock import SystemClock
from scheduler.dispatcher import Dispatcher, DispatcherConfig, Unreachable
from scheduler.outbox import Kind, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Lane
from tests.fakebotapi import STATS_PATH, TEST_TOKEN
from tests.scheduler.memory_outbox import MemoryOutbox

THROUGHPUT_MESSAGES = 3000
RATE = 25.0
RATE_MESSAGES = 251  # 250 intervals at 25/s: ten seconds
TELEGRAM_FLOOD_LIMIT = 30


async def _ignore(event: Unreachable) -> None:
    return None


class _DrainingOutbox(MemoryOutbox):
    """Sets `drained` when every message has been sent."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.remaining = count
        self.drained = asyncio.Event()

    async def mark_sent(
        self, message_id: str, telegram_message_id: int | None, now: datetime
    ) -> None:
        await super().mark_sent(message_id, telegram_message_id, now)
        self.remaining -= 1
        if self.remaining == 0:
            self.drained.set()


async def _stats(client: httpx.AsyncClient, port: int) -> dict[str, Any]:
    answer = await client.get(f"http://127.0.0.1:{port}{STATS_PATH}")
    stats: dict[str, Any] = answer.json()
    return stats


async def _run(
    count: int,
    *,
    global_rate: float | None,
    in_flight: int = DispatcherConfig.max_in_flight,
    flood_limit: int | None = None,
) -> tuple[float, int]:
    """Dispatch `count` messages; return (achieved messages per second, 429 answers)."""
    flood = ["--flood-limit", str(flood_limit)] if flood_limit else []
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakebotapi",
        *flood,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    port = int(await server.stdout.readline())
    clock = SystemClock()
    outbox = _DrainingOutbox(count)
    for n in range(count):
        payload = Payload.message(f"Reminder {n}")
        outbox.enqueue(f"r{n}", 10_000 + n, Kind.REMINDER, payload, not_before=clock.now())
    bot = build_bot(TEST_TOKEN, base_url=f"http://127.0.0.1:{port}/bot", connections=in_flight)
    try:
        async with bot, httpx.AsyncClient() as client:
            telegram = replace(TELEGRAM, limits=Limits(global_rate=global_rate))
            dispatcher = Dispatcher(
                outbox,
                [Lane(telegram, TelegramSender(bot))],
                clock,
                on_unreachable=_ignore,
                config=DispatcherConfig(max_in_flight=in_flight),
            )
            stop = asyncio.Event()
            running = asyncio.create_task(dispatcher.run_forever(stop))
            await asyncio.wait_for(outbox.drained.wait(), 120)
            stop.set()
            await running
            stats = await _stats(client, port)
    finally:
        server.stdin.close()
        await server.wait()
    stamps = stats["sent_at"]
    if len(stamps) != count:
        raise RuntimeError(f"{len(stamps)} of {count} messages arrived")
    return (count - 1) / (max(stamps) - min(stamps)), stats["too_many_requests"]


def main() -> None:
    for in_flight in (1, 8, 32):
        rate, _ = asyncio.run(_run(THROUGHPUT_MESSAGES, global_rate=None, in_flight=in_flight))
        print(f"limits off, {in_flight:>2} in flight: {rate:5.0f} messages/s")
    rate, refused = asyncio.run(
        _run(RATE_MESSAGES, global_rate=RATE, flood_limit=TELEGRAM_FLOOD_LIMIT)
    )
    print(
        f"global limit {RATE:.0f}/s: achieved {rate:.2f}/s ({rate / RATE:.1%}) over "
        f"{RATE_MESSAGES} messages, {refused} answered 429 "
        f"(fake flood control at {TELEGRAM_FLOOD_LIMIT}/s)"
    )
