"""One engine worker process for the crash and multi-worker tests: engine + dispatcher.

    python -m tests.scheduler.engine_worker DATABASE_URL BASE_URL WORKER_ID
        [--lease 2] [--global-rate 25 | --no-global-limit]

The master key comes from ``TBBOT_TEST_MASTER_KEY`` (hex) in the environment, never argv.
Prints ``ready`` once running; on SIGTERM stops cleanly and prints its counts as JSON. A
``kill -9`` is the point of the crash test: nothing here tries to survive it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from dataclasses import replace
from datetime import timedelta

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from bot.telegram.transport import Timeouts
from scheduler.clock import SystemClock
from scheduler.config import EngineConfig
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.engine import Engine
from scheduler.ratelimit import Limits
from scheduler.sending import Lane
from scheduler.sql_outbox import SqlOutbox
from storage.keyring import Keyring, MasterKey
from storage.store import Store
from tests.fakebotapi import TEST_TOKEN
from tests.scheduler.engine_support import PlainComposer


class CountingEngine(Engine):
    reminded = 0

    async def tick(self):  # type: ignore[no-untyped-def]
        report = await super().tick()
        self.reminded += report.reminded
        return report


async def run(args: argparse.Namespace) -> None:
    keyring = Keyring((MasterKey("test-1", bytes.fromhex(os.environ["TBBOT_TEST_MASTER_KEY"])),))
    store = await Store.open(args.database_url, keyring)
    clock = SystemClock()
    lease = timedelta(seconds=args.lease)
    engine = CountingEngine(
        store,
        clock,
        PlainComposer(),
        config=EngineConfig(lease=lease, batch_size=100, max_idle=timedelta(seconds=0.5)),
        worker_id=args.worker_id,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    bot = build_bot(
        TEST_TOKEN, base_url=args.base_url, timeouts=Timeouts(connect=1, read=2, write=2, pool=2)
    )
    async with bot:
        outbox = SqlOutbox(store, args.worker_id)
        limits = Limits(global_rate=None if args.no_global_limit else args.rate)
        dispatcher = Dispatcher(
            outbox,
            [Lane(replace(TELEGRAM, limits=limits), TelegramSender(bot))],
            clock,
            on_unreachable=outbox.record_unreachable,
            config=DispatcherConfig(lease=lease, batch_size=25, idle_poll=0.1),
        )
        print("ready", flush=True)
        await asyncio.gather(engine.run_forever(stop), dispatcher.run_forever(stop))
    await store.close()
    print(json.dumps({"reminded": engine.reminded}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("base_url")
    parser.add_argument("worker_id")
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--no-global-limit", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
