"""`tbbot migrate`: bring the database schema to the newest revision (start-up does too)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.commands.keys import run_store_command


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="create or upgrade the database schema (SQLite or PostgreSQL)",
        description="Create or upgrade the database schema named by DATABASE_URL (default: "
        "SQLite in TBBOT_DATA_DIR). Safe to run twice. Needs no master key, except to "
        "seal content that an older version kept readable (revision 0009): the key is "
        "used when one is configured.",
    )
    parser.set_defaults(func=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from storage.db import create_engine, database_errors
    from storage.migrate import upgrade_engine

    settings = load_settings()

    async def main() -> int:
        configured = settings.master_key is not None or settings.key_file() is not None
        keyring = settings.keyring() if configured else None
        engine = create_engine(settings.resolved_database_url())
        try:
            with database_errors():
                revision = await upgrade_engine(engine, keyring=keyring)
        finally:
            await engine.dispose()
        print(f"database schema at revision {revision} (newest)")
        return 0

    return run_store_command("migrate", main)
