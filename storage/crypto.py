"""AES-256-GCM for cells and for wrapping keys, and the bounded cache of unwrapped data keys.

A sealed value is ``version (1 byte) | nonce (12 random bytes) | ciphertext | tag (16 bytes)``.
The plaintext is padded to a multiple of 32 bytes before encryption (ISO/IEC 7816-4: a 0x80 byte
then zeros), so a ciphertext's length does not tell "taken" from "missed" or one symptom list from
another of similar size. Random 96-bit nonces are safe here: a data key encrypts one patient's
cells, far below the 2**32 messages per key that NIST SP 800-38D allows with random nonces.

Associated data binds every ciphertext to where it belongs, so a value copied to another place
fails authentication instead of being read there:

- a cell: ``tbbot/v1|cell|<table>|<column>|<row id>`` under that patient's data key;
- a wrapped data key: ``tbbot/v1|data_key|<patient id>|<master key id>`` under the master key;
- a wrapped store key (the blind index key): ``tbbot/v1|store_key|<name>|<master key id>``.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
PAD_BLOCK = 32
_VERSION_BYTE = bytes([FORMAT_VERSION])


class AuthenticationFailed(Exception):
    """A ciphertext did not authenticate; callers turn it into an error that names the cell."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def cell_aad(table: str, column: str, row_id: str) -> bytes:
    return f"tbbot/v1|cell|{table}|{column}|{row_id}".encode()


def data_key_aad(patient_id: str, master_key_id: str) -> bytes:
    return f"tbbot/v1|data_key|{patient_id}|{master_key_id}".encode()


def store_key_aad(name: str, master_key_id: str) -> bytes:
    return f"tbbot/v1|store_key|{name}|{master_key_id}".encode()


def _pad(data: bytes) -> bytes:
    padding = PAD_BLOCK - (len(data) + 1) % PAD_BLOCK
    if padding == PAD_BLOCK:
        padding = 0
    return data + b"\x80" + bytes(padding)


def _unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise AuthenticationFailed("bad padding")
    return end[:-1]


def seal(cipher: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return _VERSION_BYTE + nonce + cipher.encrypt(nonce, _pad(plaintext), aad)


def unseal(cipher: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != FORMAT_VERSION:
        raise AuthenticationFailed("not a sealed value")
    nonce = sealed[1 : 1 + NONCE_BYTES]
    try:
        return _unpad(cipher.decrypt(nonce, sealed[1 + NONCE_BYTES :], aad))
    except InvalidTag:
        raise AuthenticationFailed("tag mismatch") from None


def wrap_key(master_secret: bytes, key: bytes, aad: bytes) -> bytes:
    """Encrypt a data key (or the blind index key) under a master key."""
    return seal(AESGCM(master_secret), key, aad)


def unwrap_key(master_secret: bytes, wrapped: bytes, aad: bytes) -> bytes:
    key = unseal(AESGCM(master_secret), wrapped, aad)
    if len(key) != KEY_BYTES:
        raise AuthenticationFailed("wrapped key has the wrong length")
    return key


class DataKeyCache:
    """A bounded LRU map from patient id to that patient's ready AES-GCM cipher.

    Unwrapping costs an AES-GCM operation and a query, so recently used patients keep their
    cipher. The bound caps how many patients' keys sit in memory at once; `drop` removes a
    forgotten patient's key at once. Python cannot scrub freed memory, so the guarantee is that no
    reference is kept, not that the bytes are overwritten.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the data key cache needs room for at least one key")
        self.capacity = capacity
        self._entries: OrderedDict[str, AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, patient_id: str) -> AESGCM | None:
        with self._lock:
            cipher = self._entries.get(patient_id)
            if cipher is not None:
                self._entries.move_to_end(patient_id)
            return cipher

    def put(self, patient_id: str, cipher: AESGCM) -> None:
        with self._lock:
            self._entries[patient_id] = cipher
            self._entries.move_to_end(patient_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def drop(self, patient_id: str) -> None:
        with self._lock:
            self._entries.pop(patient_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, patient_id: object) -> bool:
        return patient_id in self._entries
