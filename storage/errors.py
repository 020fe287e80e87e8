"""Typed errors of the encrypted store.

Messages say what went wrong and what to do; they name tables, columns, random row ids and key
ids, never content, Telegram ids, phone numbers or key material, so they are safe to log and to
show in an error report.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class KeyConfigError(StoreError):
    """The master keys are missing, malformed, or do not open this database.

    Raised before anything is written, so a wrong key never leaves a trace in the database.
    """


class IntegrityError(StoreError):
    """A ciphertext failed authentication: tampered, moved to another row, column or patient,
    or written under a key we do not hold. Names the cell, never its content."""

    def __init__(self, table: str, column: str, row_id: str) -> None:
        super().__init__(
            f"integrity check failed for {table}.{column} in row {row_id}: the value was "
            "altered, moved from another row or patient, or written under another key"
        )
        self.table = table
        self.column = column
        self.row_id = row_id


class NotFound(StoreError):
    """The row asked for does not exist (or its patient was forgotten)."""

    def __init__(self, table: str, row_id: str) -> None:
        super().__init__(f"no row {row_id} in {table}")
        self.table = table
        self.row_id = row_id


class AlreadyLinked(StoreError):
    """This channel address already belongs to a patient."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"this {channel} account is already linked to a patient")
        self.channel = channel


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or cannot take the write; nothing committed is lost."""


class DatabaseLocked(DatabaseUnavailable):
    """Another process held the lock for longer than the busy timeout."""


class DatabaseFull(DatabaseUnavailable):
    """The disk (or the database's size limit) is full."""


class DatabaseReadOnly(DatabaseUnavailable):
    """The database (file, directory or server) only allows reading."""


class StaleWrite(StoreError):
    """Someone else changed the row since it was read; read it again and retry."""

    def __init__(self, table: str, what: str) -> None:
        super().__init__(f"{table} ({what}) changed since it was read; read it again")
        self.table = table
