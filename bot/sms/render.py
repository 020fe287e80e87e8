"""A message as an SMS: its text, its choices as numbers to reply with, within a segment cap.

Steps of `render`:
1. Typography that would force UCS-2 on an otherwise GSM-7 text is replaced by its plain
   equivalent (the narrow no-break space Babel puts in "8:00 AM", curly quotes, dashes, the
   ellipsis, bullets), because one such character triples the cost of an English SMS.
2. Choices become lines ``1 Taken``, ``2 Later`` in the order they were offered; the menu
   (number → what it means) is returned for the channel to store.
3. If text and menu exceed `max_segments`, the text is shortened at a line or word boundary
   (or, for Chinese and other scripts without spaces, between characters) with "...", and the
   menu kept whole: a reply without its numbers could not be answered. A menu that alone is
   longer than the cap (a list of regimens) is split over several texts at line boundaries,
   numbered on from one text to the next, each within the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.sms.segments import Encoding, is_gsm7, measure, segments, split

# Characters that look the same in plain GSM-7 and would otherwise make the SMS UCS-2.
_PLAIN = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space (Babel's "8:00 AM")
        "\u2009": " ",  # thin space
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2022": "-",  # bullet
        "\u2026": "...",
    }
)
ELLIPSIS = "..."


@dataclass(frozen=True, slots=True)
class Option:
    """One numbered choice: the label shown and what it means (a choice's payload)."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """`parts`: the texts to send, one unless a menu alone is longer than the cap; `menu`:
    what each number means, across all parts."""

    parts: tuple[str, ...]
    menu: tuple[str, ...]  # payloads, the first answered by "1"
    shortened: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.parts)

    @property
    def segments(self) -> int:
        return sum(segments(part) for part in self.parts)

    @property
    def encoding(self) -> Encoding:
        return measure(self.text).encoding


def plain(text: str) -> str:
    """`text` with look-alike typography made GSM-7, when that makes the whole text GSM-7."""
    replaced = text.translate(_PLAIN)
    return replaced if is_gsm7(replaced) else text


def _menu_lines(options: Sequence[Option]) -> list[str]:
    return [f"{number} {option.label}" for number, option in enumerate(options, 1)]


def _join(text: str, lines: Sequence[str]) -> str:
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def _shorten(text: str, lines: Sequence[str], max_segments: int) -> str:
    """The longest beginning of `text`, cut at a line or word boundary, that fits with
    "..." and the menu; at worst, only the menu."""
    cut = len(text)
    while cut > 0:
        cut = max(text.rfind("\n", 0, cut), text.rfind(" ", 0, cut))
        if cut <= 0:
            break
        candidate = text[:cut].rstrip(" ,;:.\n") + ELLIPSIS
        if segments(_join(candidate, lines)) <= max_segments:
            return candidate
    # No boundary fits (one long word, or a script without spaces): cut between characters.
    prefix = "".join(split(text)[:max_segments])
    while prefix and segments(_join(prefix + ELLIPSIS, lines)) > max_segments:
        prefix = prefix[: max(0, len(prefix) - max(1, len(prefix) // 8))]
    return prefix + ELLIPSIS if prefix else ""


def _chunks(lines: Sequence[str], max_segments: int) -> list[list[str]]:
    """Menu lines in consecutive groups, each fitting `max_segments` (a longer line alone)."""
    groups: list[list[str]] = [[]]
    for line in lines:
        if groups[-1] and segments("\n".join([*groups[-1], line])) > max_segments:
            groups.append([])
        groups[-1].append(line)
    return groups


def render(text: str, options: Sequence[Option], max_segments: int) -> Rendered:
    """The SMS for `text` and `options` (see the module docstring)."""
    body = plain(text.strip())
    lines = [plain(line) for line in _menu_lines(options)]
    menu = tuple(o.payload for o in options)
    whole = _join(body, lines)
    if segments(whole) <= max_segments:
        return Rendered((whole,), menu)
    if not lines or segments("\n".join(lines)) <= max_segments:
        return Rendered((_join(_shorten(body, lines, max_segments), lines),), menu, True)
    # The menu alone is too long (a long list to choose from): the question in a text of its
    # own (shortened to the cap), then the numbered lines over as many texts as they need.
    question = body if segments(body) <= max_segments else _shorten(body, [], max_segments)
    groups = ["\n".join(g) for g in _chunks(lines, max_segments)]
    return Rendered((question, *groups) if question else tuple(groups), menu, True)
