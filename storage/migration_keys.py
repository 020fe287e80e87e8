"""Sealed cells for migrations that move content between plaintext and sealed columns.

Most revisions change only the schema and need no key (`tbbot migrate` runs without one). A
revision that seals what used to be plaintext (or, going down, opens it again) needs the
patients' data keys: `storage.migrate.upgrade` passes the keyring in the Alembic attributes
(`Store.open` always does; `tbbot migrate` does when a key is configured), and the revision
asks `cells()` for it. Without one, a revision with rows to convert refuses with
`KeyNeeded`, before changing anything, and says what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage import crypto
from storage.blind_index import BlindIndex
from storage.errors import StoreError
from storage.keyring import Keyring
from storage.sealed import Codec
from storage.store import BLIND_INDEX_KEY

KEYRING_ATTRIBUTE = "keyring"
T = TypeVar("T")


class KeyNeeded(StoreError):
    """A revision has content to seal or open and no master key was given."""


class Cells:
    """Seal and open cells as `storage.sealed.SealedField` does, under data keys read here."""

    def __init__(self, connection: sa.Connection, keyring: Keyring) -> None:
        self._connection = connection
        self._keyring = keyring
        self._ciphers: dict[str, AESGCM] = {}
        self._blind_index: BlindIndex | None = None

    def blind_index(self) -> BlindIndex:
        """The store's blind index, from its key wrapped in ``store_keys``."""
        if self._blind_index is None:
            keys = sa.table(
                "store_keys", sa.column("name"), sa.column("key_id"), sa.column("wrapped")
            )
            key_id, wrapped = self._connection.execute(
                sa.select(keys.c.key_id, keys.c.wrapped).where(keys.c.name == BLIND_INDEX_KEY)
            ).one()
            secret = self._keyring.get(key_id).secret
            aad = crypto.store_key_aad(BLIND_INDEX_KEY, key_id)
            self._blind_index = BlindIndex(crypto.unwrap_key(secret, bytes(wrapped), aad))
        return self._blind_index

    def load(self, patient_ids: Iterable[str]) -> None:
        """Unwrap the data keys of ``patient_ids`` not loaded yet (one query per 500)."""
        keys = sa.table(
            "data_keys", sa.column("patient_id"), sa.column("key_id"), sa.column("wrapped")
        )
        missing = sorted(set(patient_ids) - self._ciphers.keys())
        for start in range(0, len(missing), 500):
            rows = self._connection.execute(
                sa.select(keys.c.patient_id, keys.c.key_id, keys.c.wrapped).where(
                    keys.c.patient_id.in_(missing[start : start + 500])
                )
            )
            for patient_id, key_id, wrapped in rows:
                secret = self._keyring.get(key_id).secret
                data_key = crypto.unwrap_key(
                    secret, bytes(wrapped), crypto.data_key_aad(patient_id, key_id)
                )
                self._ciphers[patient_id] = AESGCM(data_key)

    def seal(
        self, codec: Codec[T], owner: str, table: str, column: str, row_id: str, value: T
    ) -> bytes:
        return crypto.seal(
            self._ciphers[owner], codec.encode(value), crypto.cell_aad(table, column, row_id)
        )

    def open(
        self, codec: Codec[T], owner: str, table: str, column: str, row_id: str, sealed: bytes
    ) -> T:
        aad = crypto.cell_aad(table, column, row_id)
        return codec.decode(crypto.unseal(self._ciphers[owner], bytes(sealed), aad))


def cells(what: str) -> Cells:
    """The cells of this migration's connection; `KeyNeeded` (saying ``what`` needs the key)
    when no keyring was passed."""
    context = op.get_context()
    keyring = context.config.attributes.get(KEYRING_ATTRIBUTE) if context.config else None
    if keyring is None:
        raise KeyNeeded(
            f"this upgrade {what}, which needs the master key: run `tbbot migrate` (or "
            "`tbbot run`) with TBBOT_MASTER_KEY_FILE or TBBOT_MASTER_KEY set. Nothing was changed."
        )
    return Cells(op.get_bind(), keyring)
