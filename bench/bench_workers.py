"""Several workers on one PostgreSQL database (issue 18): `tbbot run --webhook` processes with a
burst of reminders due at one instant, drained through Telegram's flood control (30/s).

    python -m bench workers [--workers 4] [--patients 200000] [--burst 20000] [--rate 29]

Reports: every reminder sent exactly once; how long before the instant the last one of the burst
was queued; when the first and last went out; the drain against the physical limit (burst / 30
s, target within 5%); 429 answers; the wall time of each stage and the load average. The
scenario is `tests/scheduler/workers_scenario.py` (the CI test runs it at 2,000 patients). Needs
PostgreSQL (``TBBOT_TEST_POSTGRES_URL``, default the local test server); a fresh database is
made and dropped. Real time: about half an hour at full size on 2 shared cores (the set-up,
written in bulk and planned, under 10 minutes; the drain, at least burst / 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

FLOOD_LIMIT = 30


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _bench(args: argparse.Namespace) -> None:
    # Imported here: the key file goes into this run's own config folder, never the user's.
    from tests.cli.run_support import Installation
    from tests.conftest import POSTGRES_URL
    from tests.fakebotapi import FakeBotApi
    from tests.scheduler import workers_scenario

    name = f"tbbot_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_dsn(POSTGRES_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    api = FakeBotApi(flood_limit=FLOOD_LIMIT)
    await api.start()
    began = time.monotonic()
    load = _load()

    def progress(text: str) -> None:
        print(f"  [{time.monotonic() - began:6.0f} s, load {_load()}] {text}", flush=True)

    try:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["XDG_CONFIG_HOME"] = str(Path(folder) / "config")
            os.environ["XDG_STATE_HOME"] = str(Path(folder) / "state")
            place = Installation.create(
                Path(folder),
                api,
                DATABASE_URL=url,
                TBBOT_TELEGRAM_WEBHOOK_SECRET=workers_scenario.SECRET,
            )
            outcome = await workers_scenario.run(
                api,
                place,
                workers=args.workers,
                idle=args.patients - args.burst,
                burst=args.burst,
                rate=args.rate,
                progress=progress,
            )
    finally:
        await api.stop()
        admin = await asyncpg.connect(_dsn(POSTGRES_URL))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    counts = outcome.sends_per_chat
    once = len(counts) == outcome.burst and set(counts.values()) == {1}
    drain = outcome.last_send
    print(f"workers {outcome.workers}, patients {outcome.patients:,}, burst {outcome.burst:,}")
    print(f"  sent exactly once: {once} ({len(counts):,} chats, most {max(counts.values())})")
    print(f"  last of the burst queued {outcome.queued_ahead:.1f} s before the instant")
    print(f"  first sent {outcome.first_send:+.2f} s, last {drain:+.1f} s from the instant")
    print(
        f"  drain {drain:.1f} s against the physical limit {outcome.ideal:.1f} s "
        f"({outcome.drain_ratio:.3f}x; target 1.05x); {outcome.burst / drain:.2f}/s "
        f"with the workers keeping {outcome.rate}/s together"
    )
    print(f"  429 answered: {outcome.too_many_requests}")
    for stage, seconds in outcome.stages:
        print(f"  stage {stage}: {seconds:.1f} s")
    print(f"  wall {time.monotonic() - began:.0f} s; load average {_load()} (at the start {load})")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench workers", description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--burst", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=29.0)
    # `python -m bench workers --burst 2000` passes its own argv through.
    argv = [a for a in sys.argv[1:] if a not in ("workers", "bench_workers")]
    asyncio.run(_bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
