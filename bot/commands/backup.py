"""`tbbot backup PATH`: a consistent copy of the live SQLite database, still encrypted.

Restore: see docs/storage.md. PostgreSQL databases are backed up with ``pg_dump``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from storage.errors import StoreError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="copy the live SQLite database to PATH (still encrypted)",
        description="Copy the live SQLite database to a new file (mode 0600) while the bot "
        "runs. The copy stays encrypted: keep the key file apart from it. To restore, see "
        "docs/storage.md.",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="the new file; never overwritten")
    parser.set_defaults(func=_backup)


def _backup(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from storage.backup import backup_sqlite
    from storage.db import sqlite_path

    settings = load_settings()
    try:
        database = sqlite_path(settings.resolved_database_url())
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if database is None:
        raise UsageError(
            "tbbot backup copies SQLite databases; for PostgreSQL use pg_dump (see docs/storage.md)"
        )
    if args.path.exists():
        raise UsageError(f"{args.path} already exists; choose a new file name")
    if not database.is_file():
        raise UsageError(f"there is no database at {database}; check TBBOT_DATA_DIR/DATABASE_URL")
    try:
        report = backup_sqlite(database, args.path)
    except StoreError as exc:
        print(f"tbbot backup: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {report.path} ({report.size_bytes} bytes, mode 0600, still encrypted)")
    print("it is useless without the master key file, which must be kept apart from it")
    return 0
