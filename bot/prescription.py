"""Parsers for the words of a prescription as a patient types them in set-up: which drugs
(numbers from a list), how many tablets, a loading dose, and how long a phase lasts.

Like `bot.parsing`, every parser folds full-width input with NFKC, accepts English, Korean and
Chinese spellings, and raises only `ParseError` (its `code` is translated by the dialogue).
"""

from __future__ import annotations

import re

from bot.parsing import ParseError, normalise

MAX_DRUGS = 10
MAX_TABLETS = 20.0
MAX_LENGTH = 999

_SEPARATORS = re.compile(r"[\s,;、，；.]+")


def parse_picks(text: str, count: int) -> tuple[int, ...]:
    """Distinct item numbers from 1 to `count`, in the order typed: `1, 3, 9`, `1 3 9`, `1、3`;
    returned 0-based."""
    parts = [part for part in _SEPARATORS.split(normalise(text)) if part]
    if not parts or not all(part.isdigit() and len(part) <= 3 for part in parts):
        raise ParseError("picks_format")
    numbers = [int(part) for part in parts]
    if any(not 1 <= n <= count for n in numbers):
        raise ParseError("picks_range")
    if len(set(numbers)) != len(numbers):
        raise ParseError("picks_twice")
    if len(numbers) > MAX_DRUGS:
        raise ParseError("picks_too_many")
    return tuple(n - 1 for n in numbers)


_TABLETS = re.compile(r"^(?P<n>\d{1,2}(?:[.,]\d{1,2})?)\s*(?:tablets?|tabs?|pills?|알|정|片|粒)?$")


def parse_tablets(text: str) -> float:
    """Tablets per dose: `2`, `1.5`, `1,5`, `½`, `2 tablets`, `2알`, `2정`, `2片`, `2粒`; a
    half or a quarter at the smallest, at most `MAX_TABLETS`."""
    value = normalise(text).replace("½", "0.5").replace("¼", "0.25")
    # NFKC turns "1½" into "11⁄2": keep the fraction slash readable as a half.
    value = re.sub(r"^(\d)1⁄2", r"\1.5", value).replace("1⁄2", "0.5").replace("1⁄4", "0.25")
    match = _TABLETS.match(value)
    if match is None:
        raise ParseError("tablets_format")
    tablets = float(match["n"].replace(",", "."))
    if not 0 < tablets <= MAX_TABLETS or (tablets * 4) % 1:
        raise ParseError("tablets_range")
    return tablets


_LOADING = re.compile(
    r"^(?P<t>\d{1,2})\s*(?:tablets?|알|정|片|粒)?\s*(?:x|×|\*|for|씩)\s*(?P<d>\d{1,3})\s*(?:days?|일|日|天)?$"
)


def parse_loading(text: str) -> tuple[int, int]:
    """A loading dose as tablets and days: `4 x 14`, `4×14`, `4 for 14 days`, `4알씩 14일`,
    `4片×14天`; at most 20 tablets and 90 days."""
    match = _LOADING.match(normalise(text))
    if match is None:
        raise ParseError("loading_format")
    tablets, days = int(match["t"]), int(match["d"])
    if not 1 <= tablets <= MAX_TABLETS or not 1 <= days <= 90:
        raise ParseError("loading_range")
    return tablets, days


_UNITS = {
    "weeks": ("weeks", "week", "wks", "wk", "w", "주", "주일", "周", "週", "星期", "个星期"),
    "months": ("months", "month", "mo", "m", "개월", "달", "个月", "個月", "月"),
    "days": ("days", "day", "d", "일", "天", "日"),
    "doses": ("doses", "dose", "회", "번", "次", "剂", "劑"),
}
_LENGTH = re.compile(r"^(?P<n>\d{1,4})\s*(?P<unit>[^\d\s].*)$")


def parse_length(text: str) -> tuple[str, int]:
    """How long a phase lasts: (`weeks` | `months` | `days` | `doses`, n) from `24 weeks`,
    `6 months`, `180 doses`, `24주`, `6개월`, `180회`, `24周`, `6个月`, `180次`; n from 1 to
    999 (whether the whole regimen fits is the treatment engine's check)."""
    match = _LENGTH.match(normalise(text))
    if match is None:
        raise ParseError("length_format")
    unit = match["unit"].strip()
    found = next((name for name, words in _UNITS.items() if unit in words), None)
    if found is None:
        raise ParseError("length_unit")
    amount = int(match["n"])
    if not 1 <= amount <= MAX_LENGTH:
        raise ParseError("length_range")
    return found, amount
