"""Choices offered with a reply, and the compact payload that comes back when one is picked.

On Telegram the payload travels as `callback_data` (at most 64 bytes) and is fully controlled
by the client, so it is parsed as hostile input: a fixed grammar, a known verb, a bounded
argument of safe characters. It never carries a patient id; the handler that acts on a choice
checks the argument against the presser's own records and the dose window on every press.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PAYLOAD = 64
OPT = "opt"  # the verb of a flow's own options; their argument says which option
CANCEL = "cancel"
_ARG = re.compile(r"[A-Za-z0-9_.-]{0,48}")
_VERB = re.compile(r"[a-z][a-z0-9_]{0,14}")


@dataclass(frozen=True, slots=True)
class Choice:
    """One option: the label shown, and what picking it means (`verb` with an optional `arg`)."""

    label: str
    verb: str
    arg: str = ""

    def __post_init__(self) -> None:
        if not _VERB.fullmatch(self.verb) or not _ARG.fullmatch(self.arg):
            raise ValueError("choice verb or argument outside the payload grammar")

    @property
    def payload(self) -> str:
        return f"{self.verb}:{self.arg}" if self.arg else self.verb


@dataclass(frozen=True, slots=True)
class Picked:
    """A choice as it came back from a client: only verb and argument, no label."""

    verb: str
    arg: str = ""


def parse_payload(data: object, verbs: frozenset[str]) -> Picked | None:
    """The pick a payload describes, or None for anything malformed or unknown."""
    if not isinstance(data, str) or not data or len(data.encode("utf-8")) > MAX_PAYLOAD:
        return None
    verb, _, arg = data.partition(":")
    if verb not in verbs or not _VERB.fullmatch(verb) or not _ARG.fullmatch(arg):
        return None
    return Picked(verb, arg)
