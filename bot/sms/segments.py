"""How many SMS segments a text costs, in which encoding, and where the phone will cut it.

A text that uses only the GSM 03.38 alphabet travels as GSM-7: 160 septets in one segment, 153
per segment once it needs several (the other 7 carry the concatenation header). The characters
of the extension table (``{}[]~|^€\\`` and form feed) cost two septets each, an escape and the
character, and a segment boundary never falls between the two. Any other character (Korean,
Chinese, emoji, curly quotes) makes the whole message UCS-2: 70 UTF-16 code units in one
segment, 67 per segment beyond that; characters outside the Basic Multilingual Plane (most
emoji) take two units, and a boundary never splits them. Android's `SmsManager` counts the same
way; national language shift tables (Turkish, Indian scripts...) are not used here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# GSM 03.38 basic character set (the escape 0x1B is not a character of its own).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Encoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class Measure:
    """A text's cost: its encoding, its length in that encoding's units, its segments."""

    encoding: Encoding
    units: int
    segments: int

    def __str__(self) -> str:
        return f"{self.segments} segment{'s' if self.segments != 1 else ''}, {self.encoding}"


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    """The units each character takes: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding is Encoding.GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _limits(encoding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_PART) if encoding is Encoding.GSM7 else (UCS2_SINGLE, UCS2_PART)


def measure(text: str) -> Measure:
    """The encoding, units and number of segments of `text` (an empty text is one segment)."""
    encoding = Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    single, _ = _limits(encoding)
    if units <= single:
        return Measure(encoding, units, 1)
    return Measure(encoding, units, len(_cut(text, costs, encoding)))


def segments(text: str) -> int:
    return measure(text).segments


def split(text: str) -> list[str]:
    """`text` cut into the segments the phone will send (one element for a single segment).

    Steps:
    1. Pick the encoding (GSM-7 only if every character is in the alphabet).
    2. If the whole text fits one segment, it is one segment.
    3. Otherwise fill parts of 153 septets (or 67 UTF-16 units) in order, starting a new part
       rather than split a two-unit character (an escape pair or a surrogate pair).
    """
    encoding = Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2
    costs = _unit_costs(text, encoding)
    single, _ = _limits(encoding)
    if sum(costs) <= single:
        return [text]
    return _cut(text, costs, encoding)


def _cut(text: str, costs: list[int], encoding: Encoding) -> list[str]:
    _, part = _limits(encoding)
    parts: list[str] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        if used + cost > part:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def fits(text: str, max_segments: int) -> bool:
    return segments(text) <= max_segments
