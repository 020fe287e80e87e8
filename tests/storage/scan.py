"""Raw-byte scans: what a thief with the database file, its WAL or a dump would see."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

from tests.conftest import TestDatabase


def sqlite_bytes(path: Path) -> bytes:
    """The database file and its -wal and -shm files, concatenated."""
    parts = [p for p in sorted(path.parent.glob(path.name + "*")) if p.is_file()]
    return b"".join(p.read_bytes() for p in parts)


def pg_dump(database: TestDatabase) -> bytes:
    return subprocess.run(
        ["pg_dump", "--no-owner", f"--dbname={database.dsn()}"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def raw_bytes(database: TestDatabase) -> bytes:
    """Everything stored, as a thief would get it: file bytes, or a full plain-text dump."""
    if database.path is not None:
        return sqlite_bytes(database.path)
    return pg_dump(database)


def spellings(value: str | bytes) -> list[bytes]:
    """A value as stored raw (SQLite), and as a dump prints bytea (hex)."""
    data = value.encode() if isinstance(value, str) else value
    return [data, data.hex().encode()]


def hits(haystack: bytes, needles: Iterable[str | bytes]) -> list[str | bytes]:
    return [n for n in needles if any(s in haystack for s in spellings(n))]
