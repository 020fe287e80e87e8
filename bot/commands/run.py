"""`tbbot run`: the real Telegram bot, configured from the environment and `.env`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.logsafe import LEVELS


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN; see .env.example)",
        description=(
            "Run the Telegram bot: updates by long polling (or by webhook with --webhook), "
            "reminders and the message queue, in one process. Configuration comes from the "
            "environment and .env (see .env.example)."
        ),
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        help="how much to log (default: TBBOT_LOG_LEVEL, else INFO); even at DEBUG nothing "
        "identifying is logged and the SQL and HTTP libraries stay quiet",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="receive Telegram updates by webhook on TBBOT_HTTP_LISTEN instead of long "
        "polling (needs TBBOT_TELEGRAM_WEBHOOK_URL and a secret; see docs/deploy.md); "
        "several processes may then share the work",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that other commands start without loading the store, the engine and
    # the Telegram stack.
    from bot.app import run as run_app
    from bot.config import load_settings

    settings = load_settings()
    if args.log_level is not None:
        settings = settings.model_copy(update={"log_level": args.log_level})
    return asyncio.run(run_app(settings, webhook=args.webhook))
