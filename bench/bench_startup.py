"""`tbbot run` start-up as a whole process: from spawning it to the reminder engine armed.

Run: ``.venv/bin/python -m bench startup`` (or ``-m bench.bench_startup [--runs N]``).

1. An empty database, migrated once beforehand with ``tbbot migrate`` (a deployment migrates
   on its first start; every later start finds the schema at head).
2. The fake Bot API (``tests/fakebotapi.py``) in a process of its own, as Telegram.
3. Each run spawns ``python -m bot.cli run`` and times until its log says
   ``reminder engine armed`` (the interpreter, the imports the engine needs, the store opened
   with its key and schema checks, the engine's first round and its first wake-up armed),
   ``tbbot is running`` (every part started: the Telegram stack, the dialogue and the web
   server imported and built) and ``receiving updates`` (the Bot API asked who the bot is
   and given the command menus, polling started: what the naive design's figure covers).
   Then SIGTERM; the run counts only if the process stops cleanly.

The naive design beside it: a process that imports python-telegram-bot's `Application`
and APScheduler with a `SQLAlchemyJobStore` (what "one job per dose" bots run), opens the
empty job store, starts the scheduler and polling against the same fake, until both run.
Medians of the runs; the same machine, in the same run.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tests.fakebotapi import TEST_TOKEN

KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
ARMED = "reminder engine armed"
RUNNING = "tbbot is running"
RECEIVING = "receiving updates"
NAIVE_ARMED = "naive armed"

NAIVE = textwrap.dedent(
    """
    import asyncio, sys
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from telegram.ext import Application

    async def main():
        app = Application.builder().token(sys.argv[1]).base_url(sys.argv[2]).build()
        scheduler = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(url=sys.argv[3])})
        async with app:
            await app.start()
            await app.updater.start_polling()
            scheduler.start()
            print("naive armed", file=sys.stderr, flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:  # noqa: PTH123
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spawn_until(
    command: list[str], env: dict[str, str], markers: tuple[str, ...]
) -> list[tuple[float, float]]:
    """For each of ``markers`` (in the order they appear on the command's standard error):
    seconds from spawning it to that line, and the CPU seconds it had used by then (less
    sensitive to other load on the machine). Then stops it with SIGTERM and checks that it
    exits cleanly."""
    began = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own code
        command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert process.stderr is not None
    seen: dict[str, tuple[float, float]] = {}
    try:
        for line in process.stderr:
            for marker in markers:
                if marker in line and marker not in seen:
                    seen[marker] = (time.perf_counter() - began, _cpu_seconds(process.pid))
            if len(seen) == len(markers):
                break
        else:
            raise RuntimeError(f"{command[-1]} ended before {markers!r}")
        process.send_signal(signal.SIGTERM)
        process.stderr.read()
        if process.wait(timeout=30) not in (0, -signal.SIGTERM):
            raise RuntimeError(f"{command[-1]} did not stop cleanly: {process.returncode}")
        return [seen[marker] for marker in markers]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def measure(runs: int) -> dict[str, list[tuple[float, float]]]:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        data = Path(tmp)
        env = {
            **os.environ,
            "TBBOT_DATA_DIR": str(data),
            "TBBOT_MASTER_KEY": KEY,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        }
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "migrate"],
            env=env,
            check=True,
            capture_output=True,
        )
        fake = subprocess.Popen(
            [sys.executable, "-c", "from tests.fakebotapi import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert fake.stdout is not None and fake.stdin is not None
        try:
            base = f"http://127.0.0.1:{int(fake.stdout.readline())}/bot"
            env["TELEGRAM_API_BASE_URL"] = base
            jobs = f"sqlite:///{data / 'naive-jobs.sqlite3'}"
            results: dict[str, list[tuple[float, float]]] = {
                "engine armed": [],
                "running": [],
                "polling": [],
                "naive": [],
            }
            for _ in range(runs):
                armed, running, polling = _spawn_until(
                    [sys.executable, "-m", "bot.cli", "run"], env, (ARMED, RUNNING, RECEIVING)
                )
                results["engine armed"].append(armed)
                results["running"].append(running)
                results["polling"].append(polling)
                (naive,) = _spawn_until(
                    [sys.executable, "-c", NAIVE, TEST_TOKEN, base, jobs], env, (NAIVE_ARMED,)
                )
                results["naive"].append(naive)
            return results
        finally:
            fake.stdin.close()
            fake.wait()


LABELS = (
    ("engine armed", "tbbot run, reminder engine armed"),
    ("running", "tbbot run, every part started"),
    ("polling", "tbbot run, receiving updates (polling)"),
    ("naive", "naive (PTB Application + APScheduler SQLAlchemyJobStore), both running"),
)


def report(results: dict[str, list[tuple[float, float]]]) -> None:
    """Medians (wall with its range, CPU) of each marker, and the same-run ratios."""
    medians = {}
    for name, label in LABELS:
        wall = sorted(w for w, _ in results[name])
        cpu = sorted(c for _, c in results[name])
        medians[name] = statistics.median(wall)
        print(
            f"  {label}: {medians[name]:.3f} s ({wall[0]:.3f}-{wall[-1]:.3f}), "
            f"CPU {statistics.median(cpu):.2f} s"
        )
    for name in ("engine armed", "polling"):
        print(f"  ratio naive / tbbot run {name}: {medians['naive'] / medians[name]:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv or [])
    print(f"start-up, spawn to armed (empty database, migrated), {args.runs} runs, medians:")
    report(measure(args.runs))


if __name__ == "__main__":
    main(sys.argv[1:])
