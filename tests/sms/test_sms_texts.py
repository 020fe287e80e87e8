"""What the SMS channel says itself: one segment, every language, discreet."""

from __future__ import annotations

import pytest

from bot.i18n import LOCALES, translator
from bot.sms import texts
from bot.sms.segments import segments

# Words a carrier's filter or someone glancing at the phone would read as illness or medicine.
REVEALING = (
    "TB",
    "tuberculosis",
    "medicine",
    "pill",
    "clinic",
    "doctor",
    "drug",
    "결핵",
    "약",
    "병원",
    "의사",
    "结核",
    "药",
    "医院",
    "医生",
)


def all_texts(locale: str) -> dict[str, str]:
    t = translator(locale)
    found = {
        "stopped": texts.stopped(t),
        "resumed": texts.resumed(t),
        "help": texts.help_text(t),
        "stranger": texts.stranger(t),
        "nothing_open": texts.nothing_open(t),
    }
    for n in (1, 4, 9):
        found[f"pick_{n}"] = texts.pick_a_number(t, n)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_channel_text_is_one_segment(locale: str) -> None:
    too_long = {name: text for name, text in all_texts(locale).items() if segments(text) > 1}
    assert too_long == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_channel_texts_are_discreet_and_translated(locale: str) -> None:
    english = all_texts("en")
    for name, text in all_texts(locale).items():
        assert not any(word.lower() in text.lower() for word in REVEALING), (name, text)
        if locale != "en":
            assert text != english[name], name


def test_the_keywords_shown_are_the_readers_own() -> None:
    assert "START" in texts.stopped(translator("en"))
    assert "开始" in texts.stopped(translator("zh_Hans"))
    assert "시작" in texts.stopped(translator("ko"))
    assert texts.language_for_region("CN") == "zh_Hans"
    assert texts.language_for_region("KR") == "ko"
    assert texts.language_for_region(None) == "en"
