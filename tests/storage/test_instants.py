"""UTC instants on SQLite: the one-step bind gives the text SQLAlchemy's two steps gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, String, Table, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite.base import DATETIME

from storage.db import create_engine
from storage.models import UTCDateTime

_DIALECT = sqlite.dialect()

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)


def _bind_processor() -> Any:
    """What a statement binds an instant with on SQLite: the type as the dialect adapts it."""
    return UTCDateTime().dialect_impl(_DIALECT).bind_processor(_DIALECT)


@given(instants)
def test_bound_text_is_sqlalchemys(value: datetime) -> None:
    """The text SQLAlchemy's SQLite DATETIME makes of `process_bind_param`'s UTC instant."""
    ours = _bind_processor()
    theirs = DATETIME().bind_processor(_DIALECT)
    assert ours is not None
    assert theirs is not None
    naive = UTCDateTime().process_bind_param(value, _DIALECT)
    assert ours(value) == theirs(naive)


def test_none_and_naive() -> None:
    process = _bind_processor()
    assert process is not None
    assert process(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        process(datetime(2026, 3, 2, 8, 0))


async def test_round_trip_through_sqlite(tmp_path: Path) -> None:
    """Written and read back through a real file: the same instant, aware and in UTC."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'instants.db'}")
    table = Table(
        "t", MetaData(), Column("id", String, primary_key=True), Column("at", UTCDateTime)
    )
    at = datetime(2026, 3, 29, 1, 30, 15, 250, tzinfo=timezone(timedelta(hours=2)))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            await connection.execute(insert(table), [{"id": "a", "at": at}])
            stored = (await connection.execute(text("SELECT at FROM t"))).scalar_one()
            read = (await connection.execute(select(table.c.at))).scalar_one()
    finally:
        await engine.dispose()
    assert stored == "2026-03-28 23:30:15.000250"
    assert read == at
    assert read.tzinfo is UTC
