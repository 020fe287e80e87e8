"""The declarative base: its naming convention, instants stored as UTC on every engine, and the
mixin of rows that one patient owns (sealed under that patient's data key)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    ForeignKey,
    LargeBinary,
    MetaData,
    String,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage.sealed import (
    SealedRow,
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every engine (SQLite has no time zones: stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _SQLITE_INSTANT if dialect.name == "sqlite" else super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _SQLiteInstant(sqlite.DATETIME):
    """`UTCDateTime`'s column on SQLite: the dialect's own type and text form (naive UTC with
    microseconds, ``2026-03-02 08:00:00.000000``), written from an aware UTC instant and read
    back into one, each in one step. The dialect's formatting (``%`` with a dictionary) and a
    ``replace(tzinfo=...)`` each way (keyword arguments) cost more than the rest of binding
    an instant, and every claim, slot move and outbox row binds or reads several."""

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        return _sqlite_text

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None]:
        return _sqlite_instant


_SQLITE_INSTANT = _SQLiteInstant()  # type: ignore[no-untyped-call]  # the dialect's own __init__


def _sqlite_text(value: datetime | None) -> str | None:
    """The stored text of an aware UTC instant (from `UTCDateTime.process_bind_param`)."""
    if value is None:
        return None
    return _SQLITE_TEXT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
"""The dialect's default storage format, with positions for the fields."""


def _sqlite_instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # not the stored form (a date alone, or text with an offset)
        return datetime.fromisoformat(value)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads it as a class map
        datetime: UTCDateTime(),
        bytes: LargeBinary(),
    }


def patient_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("patients.id", ondelete="CASCADE"), index=True)


class PatientOwned(SealedRow):
    """A row of one patient's data, encrypted under that patient's data key."""

    def data_key_owner(self) -> str:
        owner: str = self.patient_id  # type: ignore[attr-defined]
        return owner
