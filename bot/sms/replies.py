"""The tolerant reply reader: what a person meant by the SMS they sent.

A reply is read as a number (the option of the last menu) or as a word with a meaning (STOP,
taken, 네, 吃了...); the conversation decides what that answers. Anything else is plain text,
for the few questions that want one (a time, a name), or a short re-prompt: the reader never
guesses. Words live in `keywords.toml`, with the rules for matching them.
"""

from __future__ import annotations

import enum
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Long messages are read by their beginning: a reply is a number or a word, and reading 1,000
# characters of noise the same way costs nothing but time.
MAX_READ = 320
MAX_OPTION = 99

# A leading number, not the start of a time ("8:00"), a decimal ("1.5") or a date ("1/2").
_NUMBER = re.compile(r"(\d{1,3})(?![\d])(?![:.,/]\d)")
# Punctuation, symbols, separators and marks: what may surround a word without changing it.
_FILLER_CATEGORIES = ("P", "S", "Z", "M", "C")


class Word(enum.StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    FORGET = "forget"
    YES = "yes"
    NO = "no"
    TAKEN = "taken"
    LATER = "later"
    SKIP = "skip"
    UNWELL = "unwell"


COURTESY = "courtesy"
# Sections of keywords.toml that are the conversation's commands, not meanings.
COMMANDS = (
    "join",
    "enrol",
    "progress",
    "helper",
    "settings",
    "pause",
    "resume",
    "stock",
    "mood",
    "late",
    "report",
    "export",
    "privacy",
    "patients",
    "status",
    "leave",
    "regimen",
    "visits",
    "visitfor",
    "regimenfor",
)
# Alone, these would only ask for what they need.
NEEDS_ARGUMENT = frozenset({"join", "enrol", "visitfor", "regimenfor"})


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reply said: `number` (1 to 99) or `word`, at most one of them; `text` is the
    reply normalised (width, case, spaces), cut to `MAX_READ` characters."""

    text: str
    number: int | None = None
    word: Word | None = None

    @property
    def empty(self) -> bool:
        return not self.text


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII, ① to 1), case folded, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text[: MAX_READ * 2]).casefold()
    return " ".join(folded.split())[:MAX_READ]


@cache
def vocabulary() -> dict[str, dict[str, tuple[str, ...]]]:
    """The keyword table: meaning (or "courtesy") → language → normalised words."""
    raw = tomllib.loads(resources.files("bot.sms").joinpath("keywords.toml").read_text("utf-8"))
    return {
        meaning: {lang: tuple(normalise(w) for w in words) for lang, words in by_lang.items()}
        for meaning, by_lang in raw.items()
    }


@cache
def _words_longest_first() -> tuple[tuple[str, Word], ...]:
    pairs = [
        (word, Word(meaning))
        for meaning, by_lang in vocabulary().items()
        if meaning != COURTESY and meaning not in COMMANDS
        for words in by_lang.values()
        for word in words
    ]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


@cache
def _courtesies_longest_first() -> tuple[str, ...]:
    words = {w for words in vocabulary()[COURTESY].values() for w in words}
    return tuple(sorted(words, key=lambda word: (-len(word), word)))


def words_for(meaning: Word, language: str) -> tuple[str, ...]:
    """The words of `meaning` in `language` (for help texts), in the table's order."""
    return vocabulary()[meaning.value].get(language, ())


def _is_filler(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in _FILLER_CATEGORIES for ch in text)


def _only_courtesy(rest: str) -> bool:
    """True when what follows a word changes nothing: punctuation, emoji, thanks, please."""
    remaining = rest
    while True:
        index = 0
        while index < len(remaining) and _is_filler(remaining[index]):
            index += 1
        remaining = remaining[index:]
        if not remaining:
            return True
        for courtesy in _courtesies_longest_first():
            if remaining.startswith(courtesy) and _boundary(remaining[len(courtesy) :], courtesy):
                remaining = remaining[len(courtesy) :]
                break
        else:
            return False


def _boundary(rest: str, word: str) -> bool:
    """A Latin word ends where a letter or digit does not follow; CJK and Hangul need no space."""
    if not rest:
        return True
    if not word[-1].isascii():
        return True
    return not rest[0].isalnum()


def _leading_filler(text: str) -> str:
    index = 0
    while index < len(text) and text[index] != "?" and _is_filler(text[index]):
        index += 1
    return text[index:]


def read(text: str) -> Reading:
    """Read one SMS.

    Steps:
    1. Normalise (`normalise`): width, case, spaces; keep the first `MAX_READ` characters.
    2. Drop leading punctuation and symbols ("#1", "(1)", "- 1").
    3. A leading number from 1 to 99 that is not the start of a time, decimal or date is the
       answer, whatever follows ("1 thanks", "2, in an hour").
    4. Otherwise the longest word of the table that starts the message and is followed only by
       courtesy words or punctuation gives the meaning.
    5. Otherwise it is text: neither a number nor a word.
    """
    normalised = normalise(text)
    body = _leading_filler(normalised)
    match = _NUMBER.match(body)
    if match is not None:
        value = int(match.group(1))
        if 1 <= value <= MAX_OPTION:
            return Reading(normalised, number=value)
        return Reading(normalised)
    for word, meaning in _words_longest_first():
        if body.startswith(word):
            rest = body[len(word) :]
            if _boundary(rest, word) and _only_courtesy(rest):
                return Reading(normalised, word=meaning)
    return Reading(normalised)


def command(text: str) -> tuple[str, str] | None:
    """A command word with its argument ("JOIN 4F7KQ2", "加入 4F7KQ2", "PROGRESS"), or None.
    The argument is normalised like the rest (codes and names are matched without case); a
    command that needs one is nothing without it."""
    head, _, rest = normalise(text).partition(" ")
    head = head.rstrip(".!?,;:。！？，")
    for name in COMMANDS:
        for words in vocabulary()[name].values():
            if head in words and (rest.strip() or name not in NEEDS_ARGUMENT):
                return name, rest.strip()
    return None
