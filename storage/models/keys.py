"""Data keys, the store's keys, attempts at one-time codes, and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class DataKeyRow(Base):
    """A patient's data key, wrapped by the master key ``key_id``. Deleting it forgets them."""

    __tablename__ = "data_keys"

    patient_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    wrapped: Mapped[bytes]


class StoreKeyRow(Base):
    """Keys of the store itself (the blind index key), wrapped by the master key ``key_id``."""

    __tablename__ = "store_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes]


class CodeAttemptRow(Base):
    """One try at an invitation code, by the blind index of the chat: for the hourly limit."""

    __tablename__ = "code_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class AuditRow(Base):
    """Security events without content: what happened, where (table, column, random row id)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(40))
    table_name: Mapped[str | None] = mapped_column(String(40))
    column_name: Mapped[str | None] = mapped_column(String(40))
    row_id: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))
    count: Mapped[int | None] = mapped_column(Integer)
