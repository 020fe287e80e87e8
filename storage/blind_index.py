"""Blind index: find a patient by Telegram id (later a phone number) without storing it readable.

The lookup column holds ``HMAC-SHA256(blind index key, "tbbot/v1|<kind>|<normalised value>")``;
the value itself is stored encrypted beside it. Telegram ids are small numbers, so an unkeyed hash
could be reversed by trying them all; the HMAC key makes that impossible without the key.

How the key is provisioned: 32 random bytes made when the store is first opened, kept in the
``store_keys`` table wrapped by the newest master key (like a data key), and re-wrapped by
``tbbot keys rotate``. Why not the alternatives:

- a separate secret in the key file or environment would be one more secret to lose or leak,
  and would not exist when the keys come from ``TBBOT_MASTER_KEY``;
- deriving it from a master key with HKDF would tie every lookup to that one master key, so
  rotating the master key would change every index value and force a re-index.

So the index key is independent of the encryption keys (a different random key, used only for
HMAC), survives master key rotation unchanged, and is unreadable without a master key. Its
wrapped copy also lets the store prove at start-up that the configured master key is the right one.
"""

from __future__ import annotations

import hashlib
import hmac

LookupKind = str
"""What a value is: a channel's name for an address ("telegram", "sms", "terminal"...),
"invite" or "incident". Each kind has its own index values, so equal strings never collide."""
DIGEST_BYTES = 32


class BlindIndex:
    def __init__(self, key: bytes) -> None:
        if len(key) != DIGEST_BYTES:
            raise ValueError("the blind index key must be 32 bytes")
        self._key = key
        # Keyed once: each lookup copies the keyed state instead of keying HMAC again.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return "BlindIndex(<key hidden>)"

    def lookup(self, kind: LookupKind, value: str) -> bytes:
        """The index value for ``value``; callers pass it already normalised (see `normalise`)."""
        mac = self._keyed.copy()
        mac.update(f"tbbot/v1|{kind}|{value}".encode())
        return mac.digest()


def normalise(kind: LookupKind, value: str) -> str:
    """One spelling per address, so the same person always gets the same index value.

    Telegram ids are decimal integers; phone numbers are E.164 (``+`` and digits, spaces and
    dashes dropped); addresses on other channels and invite tokens are compared exactly.
    """
    text = value.strip()
    if kind == "telegram":
        if not text.lstrip("-").isdigit():
            raise ValueError("a Telegram id is a decimal integer")
        return str(int(text))
    if kind == "sms":
        digits = "".join(ch for ch in text if ch.isdigit())
        return f"+{digits}"
    return text
