"""AES-GCM cells: bound to their place, padded so lengths do not tell, keys cached with a bound."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from storage import crypto
from storage.blind_index import BlindIndex, normalise

CIPHER = AESGCM(bytes(range(32)))


@given(st.binary(max_size=300), st.text(max_size=20), st.text(max_size=20))
def test_sealed_value_opens_only_in_its_own_place(data: bytes, column: str, row: str) -> None:
    aad = crypto.cell_aad("patients", column, row)
    sealed = crypto.seal(CIPHER, data, aad)
    assert crypto.unseal(CIPHER, sealed, aad) == data
    with pytest.raises(crypto.AuthenticationFailed):
        crypto.unseal(CIPHER, sealed, crypto.cell_aad("patients", column, row + "x"))


def test_short_values_of_different_length_seal_to_the_same_length() -> None:
    aad = crypto.cell_aad("dose_events", "outcome", "r")
    lengths = {len(crypto.seal(CIPHER, word.encode(), aad)) for word in ("taken", "missed", "")}
    assert len(lengths) == 1


def test_flipped_bit_fails_authentication() -> None:
    aad = crypto.cell_aad("t", "c", "r")
    sealed = bytearray(crypto.seal(CIPHER, b"hello", aad))
    sealed[-1] ^= 1
    with pytest.raises(crypto.AuthenticationFailed):
        crypto.unseal(CIPHER, bytes(sealed), aad)


def test_wrapped_data_key_is_bound_to_its_patient_and_master_key() -> None:
    master, key = bytes(32), crypto.new_key()
    wrapped = crypto.wrap_key(master, key, crypto.data_key_aad("mina", "k1"))
    assert crypto.unwrap_key(master, wrapped, crypto.data_key_aad("mina", "k1")) == key
    with pytest.raises(crypto.AuthenticationFailed):
        crypto.unwrap_key(master, wrapped, crypto.data_key_aad("wei", "k1"))


def test_key_cache_keeps_the_most_recent_and_drops_on_request() -> None:
    cache = crypto.DataKeyCache(capacity=2)
    for name in ("mina", "wei", "ana"):
        cache.put(name, CIPHER)
    assert "mina" not in cache and len(cache) == 2
    assert cache.get("wei") is CIPHER
    cache.put("bo", CIPHER)
    assert "ana" not in cache and "wei" in cache
    cache.drop("wei")
    assert cache.get("wei") is None


def test_blind_index_is_keyed_and_normalised() -> None:
    index = BlindIndex(bytes(32))
    assert index.lookup("telegram", normalise("telegram", " 0042 ")) == index.lookup(
        "telegram", "42"
    )
    assert index.lookup("telegram", "42") != BlindIndex(bytes([1]) * 32).lookup("telegram", "42")
    assert index.lookup("telegram", "42") != index.lookup("sms", "42")
    assert normalise("sms", "+82 10-1234-5678") == "+821012345678"
    assert "key" not in repr(index).replace("<key hidden>", "")
