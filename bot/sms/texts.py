"""What the SMS channel itself says: STOP, START, HELP, re-prompts, a stranger's first text.

Short (each fits one segment in every language: tests/sms/test_sms_texts.py), and discreet:
SMS crosses the carrier in plaintext and stays on the phone, so nothing here names an illness,
a medicine or a clinic. The keywords shown are the first of their language's list in
`keywords.toml`, so what HELP says is exactly what the reader understands.
"""

from __future__ import annotations

import re

from bot.i18n import Translator
from bot.sms.replies import COMMANDS, Word, vocabulary, words_for

# Phone numbers' countries whose people most likely read one of our catalogues.
_REGION_LANGUAGES = {"CN": "zh_Hans", "SG": "zh_Hans", "KR": "ko"}


def language_for_region(region: str | None) -> str:
    """The catalogue to greet a stranger in, from their number's country; English otherwise."""
    return _REGION_LANGUAGES.get(region or "", "en")


# The conversation's commands that are texted as a word with a meaning (keywords.toml).
_COMMAND_WORDS = {
    "start": Word.START,
    "help": Word.HELP,
    "forget": Word.FORGET,
    "taken": Word.TAKEN,
    "symptom": Word.UNWELL,
    "stop": Word.STOP,
}
_MENTION = re.compile(r"(?<![\w/])/([a-z]+)\b")


def command_keyword(name: str, language: str) -> str | None:
    """The word an SMS user texts for the command `name`, in `language`; None if none."""
    if name in _COMMAND_WORDS:
        return keyword(_COMMAND_WORDS[name], language)
    if name not in COMMANDS:
        return None
    by_language = vocabulary()[name]
    words = by_language.get(language) or by_language["en"]
    return words[0].upper()


def name_keywords(text: str, language: str) -> str:
    """`text` with each "/command" it mentions as the word an SMS user texts for it, in the
    reader's language ("/progress" → "PROGRESS", "진행", "进度"): a "/" means nothing on SMS.
    A command with no SMS word is left as it is (a test finds any)."""

    def word(match: re.Match[str]) -> str:
        return command_keyword(match.group(1), language) or match.group(0)

    return _MENTION.sub(word, text)


def keyword(meaning: Word, language: str) -> str:
    """The word to show for `meaning`: upper case where the script has case."""
    words = words_for(meaning, language) or words_for(meaning, "en")
    return words[0].upper()


def stopped(t: Translator) -> str:
    return t._(
        "OK, no more messages from this number. Text {start} to start again.",
        start=keyword(Word.START, t.locale),
    )


def resumed(t: Translator) -> str:
    return t._(
        "Welcome back: messages are on again. {stop} stops them, {help} lists what you can text.",
        stop=keyword(Word.STOP, t.locale),
        help=keyword(Word.HELP, t.locale),
    )


def help_text(t: Translator) -> str:
    return t._(
        "Reply with the number of a choice. {stop}: no more messages. {start}: start again. "
        "{forget}: delete everything about you.",
        stop=keyword(Word.STOP, t.locale),
        start=keyword(Word.START, t.locale),
        forget=keyword(Word.FORGET, t.locale),
    )


def stranger(t: Translator) -> str:
    return t._("Hello! Text {start} to begin.", start=keyword(Word.START, t.locale))


def pick_a_number(t: Translator, count: int) -> str:
    return t.ngettext(
        "Please reply with the number 1.",
        "Please reply with a number from 1 to {n}.",
        count,
    )


def nothing_open(t: Translator) -> str:
    return t._(
        "That number answers nothing open now. Text {help} for help.",
        help=keyword(Word.HELP, t.locale),
    )
