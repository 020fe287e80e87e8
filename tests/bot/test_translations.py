"""User-facing strings ship in English, Korean and Simplified Chinese, placeholders intact."""

from __future__ import annotations

import string
from datetime import date, time
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from bot import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def source_messages() -> dict[str, tuple[str, ...]]:
    """msgid -> all source forms, extracted from the code the same way `make messages` does."""
    found: dict[str, tuple[str, ...]] = {}
    for folder in ("bot", "scheduler"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            forms = message if isinstance(message, tuple) else (message,)
            found[forms[0]] = forms
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_source_string_is_translated(locale: str) -> None:
    catalogue = i18n.load_catalogue(locale)
    problems = []
    for msgid, forms in source_messages().items():
        entry = catalogue.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if locale != i18n.DEFAULT_LOCALE and not all(translations):
            problems.append(f"untranslated: {msgid!r}")
        expected = set().union(*(placeholders(f) for f in forms))
        for text in filter(None, translations):
            # A language with one plural form may leave {n} implicit, never add a new name.
            got = placeholders(text)
            if got - expected or (expected - got - {"n"}):
                problems.append(f"placeholders {sorted(got)} != {sorted(expected)}: {msgid!r}")
    assert not problems, f"{locale}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ko", "ko"),
        ("ko-KR", "ko"),
        ("zh-hans", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("en-GB", "en"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_telegram_language_tag_suggests_a_catalogue(tag: str | None, expected: str) -> None:
    assert i18n.negotiate(tag) == expected


@given(st.text(max_size=40))
def test_any_language_tag_suggests_a_supported_catalogue(tag: str) -> None:
    assert i18n.negotiate(tag) in i18n.LOCALES


def test_dates_are_formatted_for_the_reader() -> None:
    day = date(2026, 3, 1)
    assert i18n.translator("en").date(day, "long") == "March 1, 2026"
    assert i18n.translator("ko").date(day, "long") == "2026년 3월 1일"
    assert i18n.translator("zh_Hans").date(day, "long") == "2026年3月1日"
    assert "오후" in i18n.translator("ko").time(time(20, 30))


def test_unknown_locale_falls_back_to_english() -> None:
    assert i18n.translator("xx").locale == "en"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_catalogue_is_well_formed_with_one_entry_per_message(locale: str) -> None:
    """A broken `.po` (a msgid without its msgstr, the same msgid twice, as a text-level merge
    leaves them) is read leniently at run time, with warnings on stdout and translations lost or
    paired with the wrong text; here it must fail."""
    path = i18n.catalogue_path(locale)
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=locale, abort_invalid=True)
    definitions = [
        line for line in path.read_text("utf-8").splitlines() if line.startswith("msgid ")
    ]
    assert len(definitions) == len(list(catalogue)), "a message is defined twice"
