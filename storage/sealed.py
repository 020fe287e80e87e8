"""Sealed fields: the "column type" that keeps patient content encrypted in every row.

A sealed field is a descriptor on a mapped class (``alias = SealedField(TEXT)``) backed by a
``LargeBinary`` column (``_alias``, stored as ``alias``). Code that uses the row reads and writes
plaintext; only ciphertext reaches the database.

Why a descriptor plus ORM events rather than a ``TypeDecorator``: AES-GCM here binds each value to
its table, column and row id and encrypts it under its patient's data key. A ``TypeDecorator``
sees one value and the dialect, never the row it belongs to, and SQLAlchemy batches INSERTs
(executemany, insertmanyvalues), so there is no reliable place to learn the row id or the patient
there. The row object knows both. So:

1. Setting a sealed attribute keeps the plaintext on the instance and marks the field pending
   (and the row modified, so the unit of work sees it).
2. ``before_flush`` (see `storage.session`) seals every pending field of every new or dirty row
   with the session's crypto context: row ids are random and made on the client (``new_id``),
   so the id is known before the INSERT, and the patient's data key was loaded by the repository.
3. Reading a sealed attribute decrypts the column on first access and keeps the plaintext on the
   instance; an authentication failure raises `storage.errors.IntegrityError` naming the cell.

Plaintext lives only on row objects inside a repository's transaction; repositories turn rows into
frozen records before returning, so callers never hold ORM rows or ciphertext.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast, overload

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, object_session
from sqlalchemy.orm.attributes import flag_modified, instance_state

from storage.errors import StoreError

if TYPE_CHECKING:
    from storage.session import SessionCrypto

T = TypeVar("T")

CRYPTO_INFO_KEY = "tbbot.crypto"
BLANK = b""
_PENDING = "_tbbot_pending"
_PLAIN_PREFIX = "_tbbot_plain_"


def new_id() -> str:
    """A random row id: 128 bits, hex. Carries no meaning, order or time."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How a field's Python value becomes the bytes that get encrypted, and back."""

    name: str
    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]


_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)
"""``json.dumps`` with these options builds an encoder per call; planning seals one per slot."""


def _json_dumps(value: Any) -> bytes:
    return _JSON.encode(value).encode()


def _encode_text(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError("a text field needs a str")
    return value.encode()


def _encode_optional_text(value: str | None) -> bytes:
    return b"\x00" if value is None else b"\x01" + _encode_text(value)


def _decode_optional_text(data: bytes) -> str | None:
    return None if data[:1] == b"\x00" else data[1:].decode()


def _encode_flag(value: bool) -> bytes:
    if not isinstance(value, bool):
        raise TypeError("a flag field needs a bool")
    return b"\x01" if value else b"\x00"


def _encode_integer(value: int) -> bytes:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("an integer field needs an int")
    return str(value).encode()


def _encode_instant(value: datetime | None) -> bytes:
    if value is None:
        return b""
    if value.tzinfo is None:
        raise TypeError("an instant needs a time zone; pass an aware datetime")
    return value.astimezone(UTC).isoformat().encode()


def _decode_instant(data: bytes) -> datetime | None:
    return datetime.fromisoformat(data.decode()) if data else None


def _encode_json_object(value: dict[str, Any]) -> bytes:
    if not isinstance(value, dict):
        raise TypeError("a JSON object field needs a dict")
    return _json_dumps(value)


def _decode_json_object(data: bytes) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict):
        raise TypeError("expected a JSON object")
    return value


def _encode_json_list(value: list[Any]) -> bytes:
    if not isinstance(value, list):
        raise TypeError("a JSON list field needs a list")
    return _json_dumps(value)


def _decode_json_list(data: bytes) -> list[Any]:
    value = json.loads(data)
    if not isinstance(value, list):
        raise TypeError("expected a JSON list")
    return value


TEXT: Codec[str] = Codec("text", _encode_text, bytes.decode)
OPTIONAL_TEXT: Codec[str | None] = Codec(
    "optional text", _encode_optional_text, _decode_optional_text
)
FLAG: Codec[bool] = Codec("flag", _encode_flag, lambda data: data == b"\x01")
INTEGER: Codec[int] = Codec("integer", _encode_integer, lambda data: int(data))
OPTIONAL_INSTANT: Codec[datetime | None] = Codec("instant", _encode_instant, _decode_instant)
INSTANT: Codec[datetime] = Codec(
    "instant", _encode_instant, lambda data: datetime.fromisoformat(data.decode())
)
JSON_OBJECT: Codec[dict[str, Any]] = Codec("JSON object", _encode_json_object, _decode_json_object)
JSON_LIST: Codec[list[Any]] = Codec("JSON list", _encode_json_list, _decode_json_list)


class SealedRow:
    """Mixin for mapped classes with sealed fields: a random string id and a data key owner."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, sort_order=-1)

    def data_key_owner(self) -> str:
        """The patient whose data key encrypts this row's sealed fields."""
        raise NotImplementedError

    def pending_fields(self) -> list[SealedField[Any]]:
        pending: dict[str, SealedField[Any]] | None = self.__dict__.pop(_PENDING, None)
        return list(pending.values()) if pending else []

    def forget_plaintext(self) -> None:
        """Drop decrypted values kept on the instance (after a refresh or expiry)."""
        for name in [key for key in self.__dict__ if key.startswith(_PLAIN_PREFIX)]:
            del self.__dict__[name]


def _crypto_of(row: SealedRow) -> SessionCrypto:
    session = object_session(row)
    if session is None:
        raise StoreError(f"a {type(row).__name__} outside a store session cannot be decrypted")
    crypto: SessionCrypto = session.info[CRYPTO_INFO_KEY]
    return crypto


class SealedField(Generic[T]):
    """A descriptor for one encrypted column; see the module docstring."""

    def __init__(self, codec: Codec[T], *, blank: bool = False) -> None:
        self.codec = codec
        self.blank = blank
        """A cell of no bytes reads as None: the value of an optional field that nothing has
        set yet (the outbox's message id before the send), written without sealing by the
        bulk path, where the row's plaintext already says as much (`blank_value`)."""
        self.column = ""
        self.storage = ""
        self._plain = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.column = name
        self.storage = f"_{name}"
        self._plain = f"{_PLAIN_PREFIX}{name}"

    @overload
    def __get__(self, row: None, owner: type) -> Self: ...
    @overload
    def __get__(self, row: SealedRow, owner: type) -> T: ...
    def __get__(self, row: SealedRow | None, owner: type) -> T | Self:
        if row is None:
            return self
        values = row.__dict__
        if self._plain in values:
            plain: T = values[self._plain]
            return plain
        sealed: bytes | None = getattr(row, self.storage)
        if sealed is None:
            raise AttributeError(f"{type(row).__name__}.{self.column} was never set")
        table = type(row).__table__.name  # type: ignore[attr-defined]
        value = self.open_value(_crypto_of(row), table, row.data_key_owner(), row.id, sealed)
        values[self._plain] = value
        return value

    def __set__(self, row: SealedRow, value: T) -> None:
        self.codec.encode(value)  # fail at the assignment, not later inside a flush
        row.__dict__[self._plain] = value
        row.__dict__.setdefault(_PENDING, {})[self.column] = self
        if instance_state(row).persistent:
            flag_modified(row, self.storage)

    def seal_into(self, row: SealedRow, crypto: SessionCrypto) -> None:
        """Encrypt the pending plaintext into the backing column (called from before_flush)."""
        table = type(row).__table__.name  # type: ignore[attr-defined]
        sealed = self.seal_value(
            crypto, table, row.data_key_owner(), row.id, row.__dict__[self._plain]
        )
        setattr(row, self.storage, sealed)

    # Bulk paths (many rows in one Core statement, no ORM objects) seal and open cells with
    # these two, so a cell written either way has the same bytes, key and associated data.

    def seal_value(
        self, crypto: SessionCrypto, table: str, owner: str, row_id: str, value: T
    ) -> bytes:
        """The ciphertext of ``value`` for this column of row ``row_id`` of ``table``."""
        return crypto.seal(owner, table, self.column, row_id, self.codec.encode(value))

    def open_value(
        self, crypto: SessionCrypto, table: str, owner: str, row_id: str, sealed: bytes
    ) -> T:
        """The value in this column's ciphertext ``sealed`` of row ``row_id`` of ``table``."""
        if self.blank and sealed == BLANK:
            return cast(T, None)
        return self.codec.decode(crypto.open(owner, table, self.column, row_id, sealed))

    def blank_value(self) -> bytes:
        """The cell of a `blank` field that holds None."""
        if not self.blank:
            raise StoreError(f"{self.column} is sealed even when empty")
        return BLANK


def sealed_fields(model: type[SealedRow]) -> list[SealedField[Any]]:
    """The sealed fields declared on a mapped class."""
    return [value for value in vars(model).values() if isinstance(value, SealedField)]
