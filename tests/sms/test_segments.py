"""Segment counting and cutting, as the phone will send the text."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bot.sms.segments import GSM7_BASIC, GSM7_EXTENSION, Encoding, measure, segments, split

GSM_CHARS = sorted(GSM7_BASIC | GSM7_EXTENSION)


def units(part: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in part)
    return len(part.encode("utf-16-le")) // 2


def test_plain_english_is_gsm7_up_to_160_characters_in_one_segment() -> None:
    assert measure("a" * 160).segments == 1
    assert measure("a" * 160).encoding is Encoding.GSM7
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3


def test_extension_characters_cost_two_septets() -> None:
    assert measure("€" * 80).units == 160
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2


def test_an_escape_pair_is_never_cut_between_two_segments() -> None:
    text = "a" * 152 + "€" + "a" * 10
    assert split(text) == ["a" * 152, "€" + "a" * 10]


def test_korean_and_chinese_are_ucs2_with_70_characters_per_single_segment() -> None:
    assert measure("가" * 70).encoding is Encoding.UCS2
    assert segments("가" * 70) == 1
    assert segments("吃" * 71) == 2
    assert segments("吃" * 134) == 2
    assert segments("吃" * 135) == 3


def test_one_non_gsm_character_makes_the_whole_text_ucs2() -> None:
    text = "a" * 69 + "’"  # a curly apostrophe, as phones type it
    assert measure(text).encoding is Encoding.UCS2
    assert segments(text + "a") == 2


def test_emoji_take_two_units_and_are_never_split() -> None:
    assert measure("😀" * 35).units == 70
    assert segments("😀" * 35) == 1
    parts = split("a" + "😀" * 40)
    assert all(units(p, Encoding.UCS2) <= 67 for p in parts)
    assert "".join(parts) == "a" + "😀" * 40


def test_empty_text_is_one_segment() -> None:
    assert measure("").units == 0
    assert segments("") == 1


@given(st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=700))
def test_gsm_text_cuts_into_parts_that_fit_and_rejoin(text: str) -> None:
    parts = split(text)
    assert "".join(parts) == text
    assert len(parts) == segments(text)
    limit = 160 if len(parts) == 1 else 153
    assert all(units(p, Encoding.GSM7) <= limit for p in parts)
    # Parts are filled: moving the next part's first character back would overflow.
    for part, following in itertools.pairwise(parts):
        assert units(part + following[0], Encoding.GSM7) > 153


@given(st.text(max_size=400))
def test_any_text_cuts_into_parts_that_fit_and_rejoin(text: str) -> None:
    found = measure(text)
    parts = split(text)
    assert "".join(parts) == text
    assert len(parts) == found.segments
    limit = {Encoding.GSM7: (160, 153), Encoding.UCS2: (70, 67)}[found.encoding]
    single_or_part = limit[0] if len(parts) == 1 else limit[1]
    assert all(units(p, found.encoding) <= single_or_part for p in parts)
