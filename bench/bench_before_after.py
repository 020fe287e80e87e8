"""The same engine and dispatcher phases in several trees of this repository, in one run.

Run: ``.venv/bin/python -m bench.bench_before_after --tree before=/path/to/worktree
--tree after=. [--patients 10000] [--runs 3]``. Each tree is a checkout (``git worktree add
--detach DIR COMMIT``) run with this interpreter and its own ``bench/bench_engine.py``, so
each measures its own code on a database its own migrations made.

1. Per tree, once: its bench's ``setup`` phase (and ``plan``, where planning is a phase of its
   own) makes a database of ``--patients`` patients with a day planned.
2. ``--runs`` rounds; in each, every tree in turn (the order rotates each round, so a load
   that drifts during the run falls on every tree alike): a copy of its planned database,
   the ``engine`` phase on it (CPU per reminder of the burst, 10% of the patients due at one
   instant), then the ``dispatch`` phase on that copy (the SQL outbox, the real Telegram
   sender, the fake Bot API in a process of its own: messages/s with limits off over 10,000
   reminders, then the rate kept under a 25/s limit).
3. Medians and ranges per tree.

Every phase is a process of its own; CPU is that process's own time (`time.process_time`),
so other processes on a shared machine slow the wall clock but count in CPU only through
what they do to the caches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def _phase(tree: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own module, in a tree given on our command line
        [sys.executable, "-m", "bench.bench_engine", "--phase", *args],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _planned(tree: Path, db: Path, patients: int) -> dict[str, Any]:
    result = _phase(tree, "setup", str(db), str(patients))
    if "slots" not in result:  # planning became a phase of its own after issue 13
        result.update(_phase(tree, "plan", str(db)))
    return result


def _copy(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
        if Path(str(source) + suffix).exists():
            shutil.copyfile(str(source) + suffix, str(target) + suffix)


def _spread(values: list[float], digits: int) -> str:
    low, high = min(values), max(values)
    return f"{statistics.median(values):.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR, repeatable")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv or [])
    if not args.tree:
        print("before/after: skipped; name the trees to compare with --tree NAME=DIR (twice)")
        return
    trees = {name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.tree)}
    results: dict[str, dict[str, Any]] = {name: {"engine": [], "dispatch": []} for name in trees}
    with tempfile.TemporaryDirectory(prefix="bench-before-after-") as tmp:
        work = Path(tmp)
        for name, tree in trees.items():
            results[name]["setup"] = _planned(tree, work / f"{name}.sqlite3", args.patients)
            print(f"{name}: planned {results[name]['setup'].get('slots')} slots", flush=True)
        names = list(trees)
        for run in range(args.runs):
            for name in names[run % len(names) :] + names[: run % len(names)]:
                db = work / f"{name}-run.sqlite3"
                _copy(work / f"{name}.sqlite3", db)
                engine = _phase(trees[name], "engine", str(db))
                dispatch = _phase(trees[name], "dispatch", str(db))
                results[name]["engine"].append(engine)
                results[name]["dispatch"].append(dispatch)
                print(
                    f"run {run + 1} {name}: {engine['cpu_ms_per_reminder']:.3f} ms CPU per "
                    f"reminder ({engine['reminded']}), dispatcher "
                    f"{dispatch['unlimited_rate']:.0f}/s, limited "
                    f"{dispatch['limited_rate']:.2f}/s, {dispatch['limited_429']} answered 429",
                    flush=True,
                )
    print(f"-- {args.patients:,} patients, {args.runs} runs each, medians (range)")
    for name, r in results.items():
        cpu = [e["cpu_ms_per_reminder"] for e in r["engine"]]
        rate = [d["unlimited_rate"] for d in r["dispatch"]]
        kept = [d["limited_rate"] for d in r["dispatch"]]
        too_many = sum(d["limited_429"] for d in r["dispatch"])
        print(
            f"{name:>8}: engine {_spread(cpu, 3)} ms CPU per reminder; dispatcher, limits off, "
            f"{_spread(rate, 0)} messages/s; limit 25/s: {_spread(kept, 2)}/s, "
            f"{too_many} answered 429"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
