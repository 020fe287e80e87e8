"""`tbbot demo`: talk to the bot in the terminal; nothing to configure."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.errors import UsageError

DAY_PER_MINUTE = 1440.0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="talk to the bot in this terminal, with a fast clock (nothing to configure)",
        description=(
            "Try the bot in the terminal: a temporary database and key, a simulated Telegram "
            "account and a fast clock. Type a number to press a button and +3h to jump ahead."
        ),
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=DAY_PER_MINUTE,
        help="how much faster than real time the clock runs (default 1440: a day per minute)",
    )
    parser.add_argument(
        "--language",
        choices=("en", "ko", "zh"),
        default=None,
        help="the language your simulated Telegram app reports (default: English)",
    )
    parser.add_argument(
        "--channel",
        choices=("terminal", "sms"),
        default="terminal",
        help="terminal: the chat as Telegram shows it; sms: the texts as a phone shows them, "
        "each with its segment count and encoding",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.speed <= 100_000:
        raise UsageError(f"--speed must be from 1 to 100000, got {args.speed:g}")
    # Imported here so that other commands start without loading the whole bot.
    if args.channel == "sms":
        from bot.sms.demo import sms_demo

        return asyncio.run(sms_demo(args.speed, args.language))
    from bot.demo import demo

    return asyncio.run(demo(args.speed, args.language))
