"""Instructions per reminder of the engine's burst, counted by callgrind, in several trees.

Run: ``.venv/bin/python -m bench.bench_instructions --tree before=DIR --tree after=.
[--patients 10000]`` (needs valgrind). CPU time on a machine shared with other work varies
from run to run by more than the changes it is meant to show; the number of instructions a
burst executes does not, because it depends only on the code and the data.

1. Per tree: its own bench (``bench/bench_engine.py``, ``setup`` and where it exists ``plan``)
   makes a database of ``--patients`` patients with a day planned.
2. Per tree, under ``valgrind --tool=callgrind --instr-atstart=no``: the burst of
   `bench.bench_engine` (10% of the patients due at one instant T) with the clock held at the
   engine's wake-up for T, so every run claims the same slots. Counting is switched on just
   before the first tick of the burst and off after the last (``callgrind_control``), so the
   interpreter's start, the imports and opening the store are not counted; the aiosqlite
   thread is (SQLite's own work is part of a reminder's cost).
3. Then, on that database, the dispatch phase of `bench.bench_engine` over ``--messages``
   reminders (the fake Bot API in a process of its own, not counted; the outbox topped up
   before counting starts), counted from opening the store to the last of the sends with
   limits off and 251 at 25/s. ``--dispatch DB`` alone runs it without valgrind and prints
   its CPU time.
4. Instructions per reminder written to the outbox and per message sent, per tree, and the
   ratio to the first.

With ``--burst DB`` (used by step 2) the module runs the burst itself in the current tree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def _counting(on: bool) -> None:
    if os.environ.get("TBBOT_BENCH_CALLGRIND"):
        subprocess.run(  # noqa: S603 - valgrind's own tool, this process's id
            ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],  # noqa: S607
            check=True,
            capture_output=True,
        )


async def _burst(db: Path, composer: str) -> dict[str, Any]:
    """The engine phase of `bench.bench_engine`, on a clock that does not move; reminders
    worded by the test composer (`plain`: one fixed line) or the bot's own (`bot`: the
    patient's language, time and tablets, with the brief form SMS uses)."""
    from bench.bench_engine import T, _keyring
    from scheduler.clock import FakeClock
    from scheduler.engine import Engine
    from storage.store import Store
    from tests.scheduler.engine_support import PlainComposer

    try:
        from scheduler.config import EngineConfig
    except ImportError:  # before the engine was split by idea
        from scheduler.engine import EngineConfig  # type: ignore[attr-defined,no-redef]

    if composer == "bot":
        from bot.compose import BotComposer

        words: Any = BotComposer()
    else:
        words = PlainComposer()
    clock = FakeClock(T - timedelta(minutes=1))
    store = await Store.open(f"sqlite+aiosqlite:///{db}", _keyring(), clock=clock.now)
    engine = Engine(
        store,
        clock,
        words,
        config=EngineConfig(batch_size=500, lease=timedelta(minutes=5)),
        worker_id="bench",
    )
    await engine.next_due()
    await engine.tick()
    due = await engine.next_due()
    assert due is not None
    clock.advance(due - clock.now())
    reminded = 0
    _counting(on=True)
    cpu = time.process_time()
    while True:
        report = await engine.tick()
        reminded += report.reminded
        if report.claimed < engine.config.batch_size:
            break
    cpu = time.process_time() - cpu
    _counting(on=False)
    await store.close()
    return {"reminded": reminded, "cpu_s": cpu}


async def _dispatch(db: Path, messages: int) -> dict[str, Any]:
    """The dispatch phase of `bench.bench_engine` over ``messages`` reminders, counted from
    the store opened to the last send: limits off, then 251 at 25/s."""
    import bench.bench_engine as bench
    from storage.store import Store

    bench.DISPATCH_MESSAGES = messages  # type: ignore[misc]
    # The outbox topped up first, uncounted: queueing is the engine's cost, not the sends'.
    store = await Store.open(f"sqlite+aiosqlite:///{db}", bench._keyring())
    await bench._top_up(store, messages)
    await store.close()
    _counting(on=True)
    cpu = time.process_time()
    result: dict[str, Any] = await bench._dispatch(db)
    cpu = time.process_time() - cpu
    _counting(on=False)
    result["cpu_s"] = cpu
    result["sent"] = result["unlimited_messages"] + result["limited_messages"]
    return result


def _count(tree: Path, db: Path, out: Path, *mode: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - valgrind running this interpreter on our module
        [  # noqa: S607 - valgrind from PATH
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            # This file by its path, the tree's packages first on the path: the burst runs
            # the tree's own code, even where the tree has no such benchmark.
            str(Path(__file__).resolve()),
            *mode,
            str(db),
        ],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "TBBOT_BENCH_CALLGRIND": "1"},
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    collected = re.findall(r"Collected : (\d+)", done.stderr)
    result["instructions"] = int(collected[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR, repeatable")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument(
        "--planned",
        action="append",
        default=[],
        help="NAME=DB: a database that tree's bench already planned (skips step 1)",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=2000,
        help="reminders the dispatcher sends, limits off (0: no dispatch phase; under "
        "valgrind it takes about 20 minutes a tree on a loaded machine)",
    )
    parser.add_argument(
        "--composer",
        choices=("plain", "bot"),
        default="plain",
        help="who words the reminders: the test composer (one fixed line, the default, as "
        "the earlier counts) or the bot's own (the patient's language and time, tablets)",
    )
    parser.add_argument("--burst", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dispatch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv or [])
    if args.burst:
        print(json.dumps(asyncio.run(_burst(args.burst, args.composer))))
        return
    if args.dispatch:
        print(json.dumps(asyncio.run(_dispatch(args.dispatch, args.messages))))
        return
    if not args.tree:
        print("instructions: skipped; name the trees to compare with --tree NAME=DIR")
        return
    from bench.bench_before_after import _copy, _planned

    trees = {name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.tree)}
    given = {name: Path(path) for name, path in (p.split("=", 1) for p in args.planned)}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        work = Path(tmp)
        for name, tree in trees.items():
            planned = given.get(name) or work / f"{name}.sqlite3"
            if name not in given:
                _planned(tree, planned, args.patients)
            db = work / f"{name}-run.sqlite3"
            _copy(planned, db)
            results[name] = _count(
                tree, db, work / f"{name}.callgrind", "--composer", args.composer, "--burst"
            )
            if args.messages:
                results[name]["dispatch"] = _count(
                    tree,
                    db,
                    work / f"{name}-dispatch.callgrind",
                    "--messages",
                    str(args.messages),
                    "--dispatch",
                )
            print(f"{name}: {results[name]}", flush=True)
    first = next(iter(results.values()))
    base = first["instructions"] / first["reminded"]
    print(
        f"-- {args.patients:,} patients, {args.composer} composer: instructions per reminder "
        "of the burst (callgrind)"
    )
    for name, r in results.items():
        per = r["instructions"] / r["reminded"]
        print(f"{name:>8}: {per:,.0f} per reminder over {r['reminded']:,} ({per / base:.2f}x)")
    if not args.messages:
        return
    first = next(iter(results.values()))["dispatch"]
    base = first["instructions"] / first["sent"]
    print("-- the dispatch phase (store open to the last send): instructions per message")
    for name, r in results.items():
        d = r["dispatch"]
        per = d["instructions"] / d["sent"]
        print(f"{name:>8}: {per:,.0f} per message over {d['sent']:,} ({per / base:.2f}x)")


if __name__ == "__main__":
    main(sys.argv[1:])
