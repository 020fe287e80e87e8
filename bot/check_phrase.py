"""The words a patient and a new helper compare before the patient links them.

A display name or a photo can be copied by anyone, so the patient does not confirm a helper by
what the account shows. Instead, when an account accepts an invitation, a few words are drawn at
random and shown to both sides, each in their own language: the helper in the reply to "I
accept", the patient in the question whether to link them. The patient asks the person they
invited, by voice or in person, which words they see, and links only if the words match (as
Signal's safety numbers are compared). The words are picks from one list of concrete things, so
"apple" for an English helper is "사과" for a Korean patient: each side reads its own language and
they still compare the same thing.

The words are not stored: only the two messages that carry them hold them, and both are sealed.
"""

from __future__ import annotations

import secrets

from bot.i18n import Translator
from bot.texts import N_

WORDS = (
    N_("apple"),
    N_("banana"),
    N_("grape"),
    N_("lemon"),
    N_("peach"),
    N_("carrot"),
    N_("potato"),
    N_("tomato"),
    N_("egg"),
    N_("bread"),
    N_("milk"),
    N_("honey"),
    N_("cat"),
    N_("dog"),
    N_("rabbit"),
    N_("tiger"),
    N_("bear"),
    N_("fish"),
    N_("duck"),
    N_("panda"),
    N_("elephant"),
    N_("monkey"),
    N_("frog"),
    N_("turtle"),
    N_("whale"),
    N_("butterfly"),
    N_("penguin"),
    N_("mountain"),
    N_("river"),
    N_("ocean"),
    N_("island"),
    N_("forest"),
    N_("flower"),
    N_("tree"),
    N_("star"),
    N_("moon"),
    N_("cloud"),
    N_("rainbow"),
    N_("wind"),
    N_("stone"),
    N_("door"),
    N_("window"),
    N_("chair"),
    N_("table"),
    N_("lamp"),
    N_("clock"),
    N_("key"),
    N_("book"),
    N_("pencil"),
    N_("cup"),
    N_("spoon"),
    N_("umbrella"),
    N_("hat"),
    N_("shoe"),
    N_("bicycle"),
    N_("train"),
    N_("airplane"),
    N_("piano"),
    N_("ball"),
    N_("candle"),
    N_("balloon"),
    N_("mirror"),
    N_("pillow"),
    N_("basket"),
)
LENGTH = 3
"""Words per phrase. 64 words, three distinct: about 250,000 phrases. The phrase is not a
secret to guess (the account that accepted sees it); it only has to differ between whoever
accepted and the person the patient calls, who sees nothing unless they accepted."""


def draw() -> tuple[int, ...]:
    """A new phrase: `LENGTH` distinct positions in `WORDS`, from the system's random source."""
    picks: list[int] = []
    while len(picks) < LENGTH:
        pick = secrets.randbelow(len(WORDS))
        if pick not in picks:
            picks.append(pick)
    return tuple(picks)


def say(t: Translator, phrase: tuple[int, ...]) -> str:
    """The phrase in the reader's language."""
    return " · ".join(t._(WORDS[pick]) for pick in phrase)
