"""Master keys from the environment or a key file: ids, the newest key, clear refusals."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest

from storage.errors import KeyConfigError
from storage.keyring import (
    add_key_to_file,
    create_key_file,
    derived_key_id,
    load_keyring,
    parse_env_keys,
    read_key_file,
)


def _b64(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


def test_bare_key_gets_a_stable_id_derived_from_it() -> None:
    secret = secrets.token_bytes(32)
    keyring = parse_env_keys(_b64(secret))
    assert keyring.newest.id == derived_key_id(secret) == parse_env_keys(_b64(secret)).newest.id
    assert keyring.newest.id.startswith("k-") and secret.hex()[:8] not in keyring.newest.id


def test_several_env_keys_are_oldest_first_and_the_last_encrypts() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    keyring = parse_env_keys(f"2025:{_b64(old)}, 2026:{_b64(new)}")
    assert keyring.ids == ("2025", "2026")
    assert keyring.newest.secret == new


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("not-base64!", "not valid base64"),
        (_b64(b"short"), "exactly 32"),
        (f"a:{_b64(bytes(32))} {_b64(bytes(32))}", "has no id"),
        (f"a:{_b64(bytes(32))},a:{_b64(bytes(32))}", "listed twice"),
        (f"bad/id:{_b64(bytes(32))}", "not allowed"),
        (" ", "empty"),
    ],
)
def test_malformed_env_keys_are_refused_with_the_reason(value: str, complaint: str) -> None:
    with pytest.raises(KeyConfigError, match=complaint):
        parse_env_keys(value)


def test_secrets_never_appear_in_repr() -> None:
    secret = secrets.token_bytes(32)
    keyring = parse_env_keys(f"k1:{_b64(secret)}")
    assert _b64(secret) not in repr(keyring) and repr(secret) not in repr(keyring)


def test_no_key_or_two_sources_are_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="tbbot keys init"):
        load_keyring(None, None)
    with pytest.raises(KeyConfigError, match="keep only one"):
        load_keyring(_b64(bytes(32)), tmp_path / "master.key")
    with pytest.raises(KeyConfigError, match="does not exist"):
        load_keyring(None, tmp_path / "missing.key")


def test_key_file_is_private_refuses_overwrite_and_grows_by_appending(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    first = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(KeyConfigError, match="never overwrites"):
        create_key_file(path)
    second = add_key_to_file(path)
    keyring = read_key_file(path)
    assert keyring.ids == (first.id, second.id)
    assert keyring.newest.secret == second.secret
    assert keyring.keys[0].secret == first.secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]


def test_broken_key_file_is_refused_with_the_place(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text('format = 1\n[[keys]]\nid = "k1"\nsecret = "abc"\n')
    with pytest.raises(KeyConfigError, match="key 1 is not valid base64"):
        read_key_file(path)
    path.write_text("format = 1\n")
    with pytest.raises(KeyConfigError, match="no \\[\\[keys\\]\\]"):
        read_key_file(path)
