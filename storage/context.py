"""What every repository shares: sessions, keys, the blind index, the clock, and the transaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import crypto
from storage.blind_index import BlindIndex
from storage.crypto import AuthenticationFailed, DataKeyCache
from storage.db import database_errors
from storage.errors import IntegrityError, NotFound
from storage.expanding import one_of
from storage.keyring import Keyring
from storage.models import AuditRow, DataKeyRow
from storage.session import session_crypto

logger = logging.getLogger(__name__)

_KEY_QUERY_CHUNK = 500


@dataclass
class StoreContext:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    data_keys: DataKeyCache
    blind_index: BlindIndex
    clock: Callable[[], datetime]
    cleanup_cipher: AESGCM | None = None
    """Seals ``chat_cleanups`` (`storage.repositories.cleanups`), which belong to no patient."""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit when the block ends, roll back if it raises.

        Database faults surface as `DatabaseUnavailable` (locked, full, read-only, unreachable).
        An integrity failure is logged and written to the audit log in a separate transaction
        (this one is rolled back), then re-raised.
        """
        session = self.sessions()
        try:
            with database_errors():
                async with session.begin():
                    yield session
        except IntegrityError as failure:
            await self.audit_integrity_failure(failure)
            raise
        finally:
            session_crypto(session.sync_session).clear()
            await session.close()

    async def audit_integrity_failure(self, failure: IntegrityError) -> None:
        row = AuditRow(
            at=self.clock(),
            event="integrity_failure",
            table_name=failure.table,
            column_name=failure.column,
            row_id=failure.row_id,
        )
        try:
            async with self.sessions() as session, session.begin():
                session.add(row)
        except (SQLAlchemyError, OSError) as exc:
            logger.error("could not write the audit row for an integrity failure: %s", type(exc))

    async def load_keys(self, session: AsyncSession, patient_ids: Iterable[str]) -> None:
        """Make the data keys of ``patient_ids`` usable in this session.

        1. Take what the shared LRU cache holds; pin it in the session.
        2. Read the rest from ``data_keys`` in chunks, unwrap each under the master key its row
           names, and put it in the cache and the session.
        3. A patient with no data key does not exist (or was forgotten): `NotFound`.
        """
        pinned = session_crypto(session.sync_session)
        missing: list[str] = []
        for patient_id in set(patient_ids):
            if pinned.has(patient_id):
                continue
            cached = self.data_keys.get(patient_id)
            if cached is None:
                missing.append(patient_id)
            else:
                pinned.add(patient_id, cached)
        for start in range(0, len(missing), _KEY_QUERY_CHUNK):
            chunk = missing[start : start + _KEY_QUERY_CHUNK]
            rows = await session.execute(
                select(DataKeyRow.patient_id, DataKeyRow.key_id, DataKeyRow.wrapped).where(
                    one_of(DataKeyRow.patient_id, chunk)
                )
            )
            found = set()
            for patient_id, key_id, wrapped in rows:
                cipher = AESGCM(self.unwrap_data_key(patient_id, key_id, wrapped))
                self.data_keys.put(patient_id, cipher)
                pinned.add(patient_id, cipher)
                found.add(patient_id)
            for patient_id in chunk:
                if patient_id not in found:
                    raise NotFound("patients", patient_id)

    def unwrap_data_key(self, patient_id: str, key_id: str, wrapped: bytes) -> bytes:
        master = self.keyring.get(key_id)
        try:
            return crypto.unwrap_key(
                master.secret, wrapped, crypto.data_key_aad(patient_id, key_id)
            )
        except AuthenticationFailed:
            logger.error(
                "integrity check failed: table=data_keys column=wrapped row=%s", patient_id
            )
            raise IntegrityError("data_keys", "wrapped", patient_id) from None

    def new_data_key(self, session: AsyncSession, patient_id: str) -> DataKeyRow:
        """A fresh data key for a new patient, wrapped by the newest master key and pinned."""
        key = crypto.new_key()
        master = self.keyring.newest
        cipher = AESGCM(key)
        session_crypto(session.sync_session).add(patient_id, cipher)
        self.data_keys.put(patient_id, cipher)
        return DataKeyRow(
            patient_id=patient_id,
            key_id=master.id,
            wrapped=crypto.wrap_key(master.secret, key, crypto.data_key_aad(patient_id, master.id)),
        )
