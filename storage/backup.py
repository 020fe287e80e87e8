"""A consistent copy of a live SQLite database, still encrypted.

``VACUUM INTO`` reads one snapshot of the database (WAL included) while the bot keeps running,
and writes a compact new file: free pages are not copied, so rows deleted before the backup
(a forgotten patient's ciphertext) do not travel into it. The copy is checked with
``PRAGMA integrity_check`` before it is reported good.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StoreError

_BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int


def backup_sqlite(database: Path, target: Path) -> BackupReport:
    """Copy ``database`` to ``target`` (a new file, mode 0600).

    1. Refuse a missing database or an existing target (a backup never overwrites).
    2. Create the target empty with mode 0600, so the copy is never readable by others.
    3. ``VACUUM INTO`` it (which only reads the source), then check the copy's integrity.
    On failure the partial target is removed.
    """
    if not database.is_file():
        raise StoreError(f"there is no SQLite database at {database}")
    if target.exists():
        raise StoreError(f"{target} already exists; a backup never overwrites a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        source = sqlite3.connect(database, timeout=_BUSY_TIMEOUT_S)
        try:
            source.execute("VACUUM INTO ?", (str(target),))
        finally:
            source.close()
        copy = sqlite3.connect(target)
        try:
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
        if verdict != "ok":
            raise StoreError(f"the copy at {target} failed its integrity check")
    except sqlite3.Error as exc:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise StoreError(f"the backup failed ({type(exc).__name__}); nothing was changed") from None
    except StoreError:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise
    return BackupReport(target, target.stat().st_size)
