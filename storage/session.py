"""The ORM session the store uses, and its per-session crypto context.

Each transaction gets a `SessionCrypto` in ``session.info``. It holds the ciphers of the patients
this transaction touches, pinned for its whole life, so an LRU eviction in the shared cache cannot
pull a key away between loading it and using it. Sealing happens in ``before_flush``; opening
happens lazily when a sealed attribute is read (see `storage.sealed`).
"""

from __future__ import annotations

import logging
from itertools import chain
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from storage import crypto
from storage.crypto import AuthenticationFailed
from storage.errors import IntegrityError, StoreError
from storage.sealed import CRYPTO_INFO_KEY, SealedRow, new_id

logger = logging.getLogger(__name__)


class SessionCrypto:
    """The data key ciphers one transaction may use, keyed by patient id."""

    def __init__(self) -> None:
        self._ciphers: dict[str, AESGCM] = {}

    def has(self, patient_id: str) -> bool:
        return patient_id in self._ciphers

    def add(self, patient_id: str, cipher: AESGCM) -> None:
        self._ciphers[patient_id] = cipher

    def clear(self) -> None:
        """Let go of every cipher: the transaction is over (records that open cells on first
        read, `storage.repositories.patients`, hold this context until then)."""
        self._ciphers.clear()

    def _cipher(self, patient_id: str) -> AESGCM:
        cipher = self._ciphers.get(patient_id)
        if cipher is None:
            raise StoreError(
                f"the data key of patient {patient_id} was not loaded in this transaction"
            )
        return cipher

    def seal(self, patient_id: str, table: str, column: str, row_id: str, data: bytes) -> bytes:
        return crypto.seal(self._cipher(patient_id), data, crypto.cell_aad(table, column, row_id))

    def open(self, patient_id: str, table: str, column: str, row_id: str, sealed: bytes) -> bytes:
        try:
            return crypto.unseal(
                self._cipher(patient_id), sealed, crypto.cell_aad(table, column, row_id)
            )
        except AuthenticationFailed:
            logger.error("integrity check failed: table=%s column=%s row=%s", table, column, row_id)
            raise IntegrityError(table, column, row_id) from None


def session_crypto(session: Session) -> SessionCrypto:
    crypto_context: SessionCrypto = session.info[CRYPTO_INFO_KEY]
    return crypto_context


class StoreSession(Session):
    """The sync session behind every `AsyncSession` of the store; carries the sealing hooks
    and starts with an empty crypto context."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.info[CRYPTO_INFO_KEY] = SessionCrypto()


@event.listens_for(StoreSession, "before_flush")
def _seal_pending_fields(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    """Seal every pending sealed field before SQL is emitted.

    1. Walk the new and modified rows that have sealed fields.
    2. Give a new row its random id if it has none: the id is part of the associated data.
    3. Encrypt each pending field under the owner's data key into its backing column.
    """
    context = session_crypto(session)
    for row in chain(session.new, session.dirty):
        if not isinstance(row, SealedRow):
            continue
        fields = row.pending_fields()
        if not fields:
            continue
        if row.id is None:
            row.id = new_id()
        for field in fields:
            field.seal_into(row, context)


@event.listens_for(SealedRow, "refresh", propagate=True)
def _drop_plaintext_on_refresh(row: SealedRow, context: Any, attrs: Any) -> None:
    row.forget_plaintext()


@event.listens_for(SealedRow, "expire", propagate=True)
def _drop_plaintext_on_expire(row: SealedRow, attrs: Any) -> None:
    row.forget_plaintext()
