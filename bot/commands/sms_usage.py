"""`tbbot sms usage [--month YYYY-MM]`: what SMS cost in a month, without saying who got them.

Every SMS costs the operator money. This prints the texts and segments sent in a month (UTC
days, the current month unless `--month` says otherwise), how many numbers were texted, and
how the segments spread over those numbers: a few figures and a histogram of counts. No
number, name or lookup value is shown: the store gives counts only.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from typing import Any

from bot.errors import UsageError

# Upper bounds of the histogram's bins, in segments per number in the month.
BINS = (10, 30, 60, 100, 300)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def register(actions: argparse._SubParsersAction[Any]) -> None:
    usage = actions.add_parser(
        "usage",
        help="segments sent per month: totals and their spread over people (counts only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    usage.add_argument(
        "--month",
        type=month,
        metavar="YYYY-MM",
        help="the month to show (default: the current month, UTC)",
    )
    usage.set_defaults(func=_usage)


def month(text: str) -> tuple[int, int]:
    found = _MONTH.match(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-03")
    return int(found.group(1)), int(found.group(2))


def _usage(args: argparse.Namespace) -> int:
    from bot.commands.keys import run_store_command
    from bot.config import load_settings

    now = datetime.now(UTC)
    year, number = args.month or (now.year, now.month)
    settings = load_settings()

    async def main() -> int:
        store = await settings.open_store()
        try:
            messages, segments = await store.sms.month_totals(year, number)
            spread = await store.sms.month_per_number(year, number)
        finally:
            await store.close()
        print("\n".join(report(f"{year:04d}-{number:02d}", messages, segments, spread)))
        return 0

    if args.month is not None and (year, number) > (now.year, now.month):
        raise UsageError(f"{year:04d}-{number:02d} has not begun yet")
    return run_store_command("sms usage", main)


def percentile(counts: list[int], fraction: float) -> int:
    """The nearest-rank percentile of `counts` (sorted, not empty)."""
    rank = max(1, -(-len(counts) * fraction // 1))
    return counts[int(rank) - 1]


def report(label: str, messages: int, segments: int, spread: list[int]) -> list[str]:
    """The lines `tbbot sms usage` prints; `spread`: segments per number, sorted."""
    lines = [
        f"SMS sent in {label} (UTC days)",
        f"  texts:    {messages}",
        f"  segments: {segments}",
        f"  numbers:  {len(spread)} (counted without their numbers)",
    ]
    if not spread:
        lines.append("  nothing was sent this month")
        return lines
    lines.append(
        f"  segments per number: min {spread[0]}, median {percentile(spread, 0.5)}, "
        f"90th percentile {percentile(spread, 0.9)}, max {spread[-1]}"
    )
    lines.append("  numbers by segments received:")
    low = 1
    for high in (*BINS, None):
        inside = [n for n in spread if n >= low and (high is None or n <= high)]
        span = f"{low}-{high}" if high is not None else f"{low} or more"
        lines.append(f"    {span:>12}  {len(inside)}")
        if high is not None:
            low = high + 1
    return lines
