"""What the SMS channel says itself: one segment, every language, discreet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import LOCALES, translator
from bot.sms import texts
from bot.sms.channel import sms_spec
from bot.sms.replies import NEEDS_ARGUMENT, Word, command, read
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


TELEGRAM_COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")


def catalogue(locale: str) -> list[str]:
    """Every string of the locale's catalogue, as translated (plural forms each)."""
    path = Path(__file__).resolve().parents[2] / "bot/locales" / locale / "LC_MESSAGES"
    with (path / "messages.po").open("rb") as po:
        found: list[str] = []
        for message in read_po(po):
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            found += [s for s in (*strings, *ids) if s]
        return found


@pytest.mark.parametrize("locale", LOCALES)
def test_no_text_names_a_telegram_command_once_worded_for_sms(locale: str) -> None:
    """Whatever the dialogue says ("/progress shows how far you are"), an SMS names the word
    to text instead: every command any string mentions has an SMS word."""
    mentioned = {c for text in catalogue(locale) for c in TELEGRAM_COMMAND.findall(text)}
    assert {"/progress", "/helper", "/join", "/forget", "/start"} <= mentioned
    left = {
        text: TELEGRAM_COMMAND.findall(texts.name_keywords(text, locale))
        for text in catalogue(locale)
    }
    assert {text: found for text, found in left.items() if found} == {}


def test_the_sms_words_for_commands_are_the_readers_own_and_are_read_back() -> None:
    assert texts.name_keywords("/progress shows how far you are.", "en") == (
        "PROGRESS shows how far you are."
    )
    assert texts.name_keywords("/progress 로 확인하세요", "ko") == "진행 로 확인하세요"
    assert texts.name_keywords("发送 /helper 或 /join 4F7K", "zh_Hans") == "发送 帮手 或 加入 4F7K"
    assert texts.name_keywords("Europe/Paris, 1/2, https://t.me/x", "en") == (
        "Europe/Paris, 1/2, https://t.me/x"
    )
    for locale in LOCALES:
        for name in ("progress", "helper", "settings", "pause", "resume", "leave", "enrol"):
            word = texts.command_keyword(name, locale)
            assert word is not None, (name, locale)
            if name in NEEDS_ARGUMENT:
                assert command(word) is None and command(f"{word} 1") == (name, "1")
            else:
                assert command(word) == (name, "")
        for name, meaning in (("taken", Word.TAKEN), ("symptom", Word.UNWELL)):
            word = texts.command_keyword(name, locale)
            assert word is not None and read(word).word is meaning


@given(st.text(max_size=300), st.sampled_from(LOCALES))
def test_rewording_any_text_never_fails_and_leaves_no_known_command(text: str, locale: str) -> None:
    worded = texts.name_keywords(text, locale)
    for found in TELEGRAM_COMMAND.findall(worded):
        assert texts.command_keyword(found[1:], locale) is None


@given(st.text(max_size=60))
def test_a_typed_number_is_read_for_a_first_contact_or_refused_never_raised(text: str) -> None:
    contact = sms_spec(region="CN").reads_contact(text)
    if contact is not None:
        assert contact.address.startswith("+") and contact.address[1:].isdigit()


def test_national_numbers_are_read_in_the_operators_region() -> None:
    contact = sms_spec(region="CN").reads_contact("138 0013 8000")
    assert contact is not None and contact.address == "+8613800138000"
    assert contact.language == "zh_Hans"
    assert sms_spec().reads_contact("138 0013 8000") is None  # no region: needs its +86
    assert sms_spec().reads_contact("10086") is None  # a short code is nobody's phone
