"""Shared database fixtures: every store test runs on a real SQLite file and a real PostgreSQL.

- ``database``: a fresh, empty database, parametrized ``sqlite`` (a file in ``tmp_path``) and
  ``postgresql`` (a new database with a unique name on the server at
  ``TBBOT_TEST_POSTGRES_URL``, dropped afterwards, so concurrent runs never collide).
- ``keyring``: a fresh master key (id ``test-1``) for the test.
- ``store_clock``: the store's clock, fixed at 2026-11-29 09:00 UTC until ``advance``d.
- ``store``: a `Store` opened (and migrated) on ``database`` with ``keyring`` and the clock.
- Every test (autouse) gets its own ``XDG_CONFIG_HOME`` and ``XDG_STATE_HOME``, apart from its
  ``tmp_path``, so the default key file and forgotten list never touch the real home folder
  and never sit beside a test's database.

Without a reachable PostgreSQL the ``postgresql`` half is skipped with the reason, unless
``TBBOT_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets), which turns the skip into a failure.

Hypothesis runs without its per-example deadline: a property holds or it does not, however
busy the machine (timing belongs in `bench/`, and a deadline made these tests fail on a
loaded machine only).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import settings
from sqlalchemy.engine import make_url

from storage.keyring import Keyring, MasterKey
from storage.store import Store

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_URL = os.environ.get("TBBOT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
REQUIRE_POSTGRES = os.environ.get("TBBOT_REQUIRE_POSTGRES") == "1"

settings.register_profile("tbbot", deadline=None)
settings.load_profile("tbbot")

_postgres_problem: list[str | None] = []


@dataclass(frozen=True)
class TestDatabase:
    """An empty database for one test. ``path`` is the SQLite file; ``name`` the PG database."""

    __test__ = False

    engine: Literal["sqlite", "postgresql"]
    url: str
    path: Path | None = None
    name: str | None = None

    def dsn(self) -> str:
        """A libpq/asyncpg URL (no SQLAlchemy driver suffix), for psql, pg_dump and asyncpg."""
        return _plain_dsn(self.url)


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None; asked once per test run."""
    if not _postgres_problem:
        try:
            connection = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            _postgres_problem.append(
                f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is unreachable "
                f"({type(exc).__name__}); set TBBOT_TEST_POSTGRES_URL or start the server"
            )
        else:
            await connection.close()
            _postgres_problem.append(None)
    return _postgres_problem[0]


@pytest_asyncio.fixture
async def postgres_database() -> AsyncIterator[TestDatabase]:
    """A fresh PostgreSQL database with a unique name, dropped after the test."""
    problem = await _postgres_unavailable()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"TBBOT_REQUIRE_POSTGRES=1 but {problem}")
        pytest.skip(problem)
    name = f"tbbot_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield TestDatabase("postgresql", url, name=name)
    finally:
        admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> TestDatabase:
    path = tmp_path / "tbbot.sqlite3"
    return TestDatabase("sqlite", f"sqlite+aiosqlite:///{path}", path=path)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> TestDatabase:
    """An empty database on each engine; see the module docstring."""
    name = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    chosen: TestDatabase = request.getfixturevalue(name)
    return chosen


@pytest.fixture(autouse=True)
def own_home_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state"))


class StoreClock:
    """A clock for the store that moves only when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def store_clock() -> StoreClock:
    return StoreClock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC))


@pytest.fixture
def keyring() -> Keyring:
    return Keyring((MasterKey("test-1", secrets.token_bytes(32)),))


@pytest_asyncio.fixture
async def store(
    database: TestDatabase, keyring: Keyring, store_clock: StoreClock
) -> AsyncIterator[Store]:
    opened = await Store.open(database.url, keyring, clock=store_clock)
    try:
        yield opened
    finally:
        await opened.close()
