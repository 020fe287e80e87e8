"""Master keys (key-encryption keys): where they come from, their ids, which one encrypts.

Master keys never come from the database. There are two sources, and exactly one must be set:

- ``TBBOT_MASTER_KEY``: one or more entries separated by commas or whitespace, oldest first.
  Each entry is ``ID:BASE64`` (32 random bytes, standard base64). A single entry may be a bare
  ``BASE64``; its id is then derived from the key (``k-`` and 8 hex digits of an HKDF output), so
  the same key always has the same id.
- ``TBBOT_MASTER_KEY_FILE``: a TOML file written by ``tbbot keys init`` (mode 0600)::

      # tbbot master keys ...
      format = 1

      [[keys]]
      id = "mk-20261129-3f9a"
      created = 2026-11-29T11:30:00Z
      secret = "base64 of 32 random bytes"

  ``[[keys]]`` entries are listed oldest first. ``tbbot keys rotate --new-key`` appends one.

In both sources the **last** key is the newest: it wraps every new data key, and
``tbbot keys rotate`` re-wraps old data keys under it. Older keys stay only to unwrap data keys
that have not been rotated yet; ``tbbot keys check`` says which ids are still in use.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import secrets
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import KeyConfigError

logger = logging.getLogger(__name__)

KEY_BYTES = 32
KEY_FILE_FORMAT = 1
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_HOW_TO_CREATE = "create a key file with `tbbot keys init` and set TBBOT_MASTER_KEY_FILE to it"


@dataclass(frozen=True)
class MasterKey:
    """One master key. The secret is left out of repr so it never reaches a log."""

    id: str
    secret: bytes = field(repr=False)
    created: datetime | None = None


@dataclass(frozen=True)
class Keyring:
    """The configured master keys, oldest first; the last one is the newest and encrypts."""

    keys: tuple[MasterKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError(f"no master key is configured: {_HOW_TO_CREATE}")
        ids = [key.id for key in self.keys]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise KeyConfigError(
                f"master key id {duplicates[0]!r} is listed twice; ids must differ"
            )

    @property
    def newest(self) -> MasterKey:
        return self.keys[-1]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self.keys)

    def get(self, key_id: str) -> MasterKey:
        for key in self.keys:
            if key.id == key_id:
                return key
        raise KeyConfigError(
            f"data in this database is wrapped by master key {key_id!r}, which is not configured "
            f"(configured: {', '.join(self.ids)}); add that key back to the key file or "
            "TBBOT_MASTER_KEY"
        )


def derived_key_id(secret: bytes) -> str:
    """The id of a bare key: a one-way function of the key, so it reveals nothing of it."""
    digest = HKDF(
        algorithm=hashes.SHA256(), length=4, salt=None, info=b"tbbot master key id v1"
    ).derive(secret)
    return f"k-{digest.hex()}"


def new_master_key(now: datetime | None = None) -> MasterKey:
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    key_id = f"mk-{created:%Y%m%d}-{secrets.token_hex(2)}"
    return MasterKey(key_id, secrets.token_bytes(KEY_BYTES), created)


def _decode_secret(text: str, where: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(
            f"{where} is not valid base64; it must be base64 of {KEY_BYTES} random bytes "
            "(`tbbot keys init` writes one)"
        ) from None
    if len(secret) != KEY_BYTES:
        raise KeyConfigError(
            f"{where} decodes to {len(secret)} bytes; a master key must be exactly {KEY_BYTES}"
        )
    return secret


def _check_id(key_id: str, where: str) -> str:
    if not _KEY_ID.match(key_id):
        raise KeyConfigError(
            f"{where}: key id {key_id!r} is not allowed; use 1-32 letters, digits, '.', '_' or '-'"
        )
    return key_id


def parse_env_keys(value: str) -> Keyring:
    """Parse ``TBBOT_MASTER_KEY``: ``ID:BASE64`` entries oldest first, or one bare ``BASE64``."""
    entries = [entry for entry in re.split(r"[\s,]+", value.strip()) if entry]
    if not entries:
        raise KeyConfigError(f"TBBOT_MASTER_KEY is empty: {_HOW_TO_CREATE}")
    keys: list[MasterKey] = []
    for number, entry in enumerate(entries, start=1):
        where = f"TBBOT_MASTER_KEY entry {number}"
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            if len(entries) > 1:
                raise KeyConfigError(
                    f"{where} has no id; with several keys write each as ID:BASE64, oldest first"
                )
            secret = _decode_secret(entry, where)
            keys.append(MasterKey(derived_key_id(secret), secret))
            continue
        keys.append(MasterKey(_check_id(key_id, where), _decode_secret(encoded, where)))
    return Keyring(tuple(keys))


def read_key_file(path: Path) -> Keyring:
    """Read a key file written by `tbbot keys init`; see the module docstring for the format."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyConfigError(
            f"key file {path} does not exist; create it with `tbbot keys init --file {path}`"
        ) from None
    except OSError as exc:
        raise KeyConfigError(f"key file {path} cannot be read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("key file %s can be read by other users; run: chmod 600 %s", path, path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeyConfigError(f"key file {path} is not valid TOML: {exc}") from None
    if document.get("format") != KEY_FILE_FORMAT:
        raise KeyConfigError(f"key file {path}: 'format' must be {KEY_FILE_FORMAT}")
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise KeyConfigError(f"key file {path} has no [[keys]] entry; {_HOW_TO_CREATE}")
    keys: list[MasterKey] = []
    for number, entry in enumerate(entries, start=1):
        where = f"key file {path}, key {number}"
        if not isinstance(entry, dict):
            raise KeyConfigError(f"{where} must be a [[keys]] table")
        key_id, secret, created = entry.get("id"), entry.get("secret"), entry.get("created")
        if not isinstance(key_id, str) or not isinstance(secret, str):
            raise KeyConfigError(f"{where} needs a string 'id' and a string 'secret'")
        if created is not None and not isinstance(created, datetime):
            raise KeyConfigError(f"{where}: 'created' must be a TOML date-time")
        keys.append(MasterKey(_check_id(key_id, where), _decode_secret(secret, where), created))
    return Keyring(tuple(keys))


def load_keyring(master_key: str | None, key_file: Path | None) -> Keyring:
    """The keyring from exactly one of ``TBBOT_MASTER_KEY`` and ``TBBOT_MASTER_KEY_FILE``."""
    if master_key and key_file:
        raise KeyConfigError(
            "both TBBOT_MASTER_KEY and TBBOT_MASTER_KEY_FILE are set; keep only one of them"
        )
    if master_key:
        return parse_env_keys(master_key)
    if key_file:
        return read_key_file(key_file)
    raise KeyConfigError(f"no master key: {_HOW_TO_CREATE}, or set TBBOT_MASTER_KEY")


def render_key_file(keys: Iterable[MasterKey]) -> str:
    lines = [
        "# tbbot master keys, oldest first; the last key encrypts.",
        "# With this file and the database anyone can read every patient's data:",
        "# keep it apart from the database and its backups, readable only by the bot (mode 0600).",
        "# Losing it makes the database unreadable. See docs/storage.md.",
        f"format = {KEY_FILE_FORMAT}",
    ]
    for key in keys:
        lines += ["", "[[keys]]", f'id = "{key.id}"']
        if key.created is not None:
            lines.append(f"created = {key.created.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
        lines.append(f'secret = "{base64.b64encode(key.secret).decode("ascii")}"')
    return "\n".join(lines) + "\n"


def _write_new_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 from the first byte on; fails if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def create_key_file(path: Path, now: datetime | None = None) -> MasterKey:
    """Write a new key file holding one fresh key; refuse to overwrite an existing file."""
    if path.exists():
        raise KeyConfigError(
            f"{path} already exists; tbbot never overwrites a key file (that would make the "
            "database unreadable). Choose another path or add a key with "
            "`tbbot keys rotate --new-key`"
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = new_master_key(now)
    try:
        _write_new_file(path, render_key_file([key]))
    except FileExistsError:
        raise KeyConfigError(f"{path} already exists; tbbot never overwrites a key file") from None
    return key


def add_key_to_file(path: Path, now: datetime | None = None) -> MasterKey:
    """Append a fresh newest key to an existing key file, atomically and keeping mode 0600.

    1. Read and validate the current file (so a broken file is never rewritten).
    2. Write the old keys plus the new one to a sibling temporary file created with mode 0600.
    3. fsync it and rename it over the original, so a crash leaves either file, never half.
    """
    keyring = read_key_file(path)
    key = new_master_key(now)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        _write_new_file(temporary, render_key_file([*keyring.keys, key]))
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return key
