"""Engines for SQLite and PostgreSQL, and the translation of database faults into store errors.

SQLite connections get, before anything else runs on them:

- ``journal_mode=WAL``: readers never block the writer, and a crash cannot corrupt the file;
- ``synchronous=FULL``: a commit is on disk before it returns (a recorded dose survives power loss);
- ``busy_timeout``: wait for another writer instead of failing at once (on PostgreSQL the same
  value is the ``lock_timeout``);
- ``foreign_keys=ON``: a row cannot outlive its patient (SQLite leaves this off by default);
- ``secure_delete=ON``: deleted content is overwritten with zeros, so "forget" leaves no residue.

On both engines ``hide_parameters`` keeps bound values (ciphertext, blind index values, ids)
out of SQLAlchemy's log lines and exception messages.

Transactions on SQLite start with ``BEGIN IMMEDIATE``: a transaction that reads and then writes
would otherwise fail with "database is locked" when it upgrades its lock, without waiting for the
busy timeout. The Python driver's own implicit BEGIN is switched off so this one is used.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.errors import (
    DatabaseFull,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    StoreError,
)

DEFAULT_BUSY_TIMEOUT_MS = 5_000
SQLITE_FILE_NAME = "tbbot.sqlite3"


def default_sqlite_url(data_dir: Path) -> str:
    """The default database: a SQLite file in the data folder."""
    return f"sqlite+aiosqlite:///{(data_dir / SQLITE_FILE_NAME).resolve()}"


def parse_url(url: str) -> URL:
    """Check the URL names an engine we support, filling in the async driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "DATABASE_URL is not a database URL; use sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST:PORT/NAME"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError("SQLite needs a file path (sqlite+aiosqlite:///PATH), not memory")
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise StoreError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another engine."""
    parsed = parse_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def create_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> AsyncEngine:
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_private_file(Path(parsed.database or ""))
        engine = create_async_engine(parsed, hide_parameters=True)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # The same patience as SQLite's busy timeout: a lock held longer is reported, not awaited.
    settings = {"lock_timeout": str(int(busy_timeout_ms))}
    return create_async_engine(
        parsed,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"server_settings": settings},
    )


def _create_private_file(path: Path) -> None:
    """Create a missing database file as mode 0600 in a 0700 folder.

    SQLite would create it with the umask (often world-readable), and gives its -wal and -shm
    files the database file's mode, so setting it here covers all three.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


SQLITE_CACHE_KIB = 16 * 1024
"""Page cache per SQLite connection (``PRAGMA cache_size``), in KiB."""


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA secure_delete = ON")
            # 16 MB of page cache instead of SQLite's 2 MB: planning inserts each day's slots
            # at random places in the id and patient indexes, which outgrow 2 MB at about
            # 50,000 patients; then every chunk re-read the pages it was about to change.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_SQLITE_LOCKED = ("database is locked", "database table is locked", "database is busy")
_SQLITE_FULL = ("database or disk is full",)
_SQLITE_READ_ONLY = ("readonly database", "read-only", "attempt to write a readonly")
_NOTHING_LOST = "the change was not saved; everything committed before is intact"


def translate(exc: BaseException, sqlite_file: Path | None = None) -> StoreError | None:
    """A store error for a database fault, or None when ``exc`` is not one we recognise.

    Only the driver's error class, SQLSTATE or SQLite's fixed message is used: the driver's full
    text can quote values (a unique violation prints the key), and those must not reach a log.
    With `sqlite_file`, SQLite's vague "unable to open" and "disk I/O error" are told apart by
    looking at the file system: read-only, or full, before "cannot be opened".
    """
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(sqlstate, str):
            return _translate_sqlstate(sqlstate, type(orig).__name__)
        text = str(orig).lower()
        if any(marker in text for marker in _SQLITE_LOCKED):
            return DatabaseLocked(
                "the SQLite database is locked by another process (waited for the busy timeout); "
                f"{_NOTHING_LOST}. Check that only one tbbot runs on this file, then try again"
            )
        if any(marker in text for marker in _SQLITE_FULL):
            return DatabaseFull(f"the disk holding the SQLite database is full; {_NOTHING_LOST}")
        if any(marker in text for marker in _SQLITE_READ_ONLY):
            return DatabaseReadOnly(
                f"the SQLite database is read-only; {_NOTHING_LOST}. Check the permissions of the "
                "file and of its folder (SQLite writes -wal and -shm files beside it)"
            )
        if "unable to open database file" in text or "disk i/o error" in text:
            cause = _file_system_fault(sqlite_file)
            if cause is not None:
                return cause
            return DatabaseUnavailable(
                "the SQLite database file cannot be opened or read; check the path in "
                "DATABASE_URL or TBBOT_DATA_DIR and its permissions"
            )
        return None
    if isinstance(exc, ConnectionError | TimeoutError | sqlite3.OperationalError):
        return DatabaseUnavailable(
            f"cannot reach the database ({type(exc).__name__}); check DATABASE_URL and that the "
            "server is running"
        )
    return None


def _file_system_fault(sqlite_file: Path | None) -> StoreError | None:
    """Why SQLite could not open or write `sqlite_file`, if its folder says so."""
    if sqlite_file is None:
        return None
    try:
        info = os.statvfs(sqlite_file.parent)
    except OSError:
        return None
    if info.f_flag & os.ST_RDONLY:
        return DatabaseReadOnly(
            f"the file system holding the SQLite database ({sqlite_file.parent}) is mounted "
            f"read-only; {_NOTHING_LOST}. SQLite must write the database and its -wal and -shm "
            "files there"
        )
    if info.f_bavail == 0:
        return DatabaseFull(
            f"the disk holding the SQLite database ({sqlite_file.parent}) is full; {_NOTHING_LOST}"
        )
    return None


def _translate_sqlstate(sqlstate: str, error_class: str) -> StoreError | None:
    if sqlstate in {"55P03", "40P01"}:
        return DatabaseLocked(
            f"PostgreSQL could not take a lock in time ({error_class}); {_NOTHING_LOST}"
        )
    if sqlstate.startswith("53"):
        return DatabaseFull(f"PostgreSQL is out of resources ({error_class}); {_NOTHING_LOST}")
    if sqlstate == "25006":
        return DatabaseReadOnly(
            f"PostgreSQL refused the write: the database or transaction is read-only; "
            f"{_NOTHING_LOST}"
        )
    if sqlstate.startswith(("08", "57P", "3D", "28")):
        return DatabaseUnavailable(
            f"cannot use the PostgreSQL database ({error_class}, SQLSTATE {sqlstate}); check "
            "DATABASE_URL, that the database exists and that the server is running"
        )
    return None


@contextlib.contextmanager
def database_errors(sqlite_file: Path | None = None) -> Iterator[None]:
    """Re-raise recognised database faults as `DatabaseUnavailable` and its kinds (see
    `translate` for `sqlite_file`)."""
    try:
        yield
    except (DBAPIError, ConnectionError, TimeoutError, sqlite3.OperationalError) as exc:
        translated = translate(exc, sqlite_file)
        if translated is None:
            raise
        raise translated from None
