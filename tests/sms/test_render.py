"""Messages as SMS: numbered choices, plain typography, within the segment cap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.sms.render import Option, plain, render
from bot.sms.segments import Encoding, measure, segments

REMINDER = [Option("Taken", "taken:s1"), Option("Later", "snooze:s1.60")]


def test_choices_become_numbered_lines_and_a_menu() -> None:
    sms = render("8:00 vitamins?", REMINDER, 3)
    assert sms.text == "8:00 vitamins?\n1 Taken\n2 Later"
    assert sms.menu == ("taken:s1", "snooze:s1.60")
    assert (sms.segments, sms.encoding, sms.shortened) == (1, Encoding.GSM7, False)


def test_babels_narrow_space_and_curly_quotes_do_not_make_english_ucs2() -> None:
    text = "It\u2019s 8:00\u202fAM \u2013 time for your \u201cvitamins\u201d\u2026"
    assert measure(text).encoding is Encoding.UCS2
    sms = render(text, REMINDER, 1)
    assert sms.text.startswith('It\'s 8:00 AM - time for your "vitamins"...')
    assert sms.encoding is Encoding.GSM7


def test_korean_keeps_its_characters() -> None:
    assert plain("오전 8:00\u202f약") == "오전 8:00\u202f약"


def test_long_text_is_shortened_at_a_word_and_the_menu_kept_whole() -> None:
    text = " ".join(["word"] * 200)
    sms = render(text, REMINDER, 2)
    assert sms.shortened and sms.segments <= 2
    assert sms.text.endswith("...\n1 Taken\n2 Later")
    assert "wor..." not in sms.text


@given(
    st.text(max_size=1500),
    st.lists(st.text(min_size=1, max_size=20).filter(str.strip), max_size=6),
    st.integers(1, 5),
)
def test_nothing_rendered_exceeds_the_cap_when_the_menu_fits(
    text: str, labels: list[str], cap: int
) -> None:
    options = [Option(label.strip(), f"opt:{n}") for n, label in enumerate(labels)]
    menu_alone = render("", options, cap)
    sms = render(text, options, cap)
    assert len(sms.menu) == len(options)
    if menu_alone.segments <= cap:
        assert sms.segments <= cap
    for number, option in enumerate(options, 1):
        assert f"{number} {plain(option.label)}" in sms.text


def test_chinese_without_spaces_is_cut_between_characters() -> None:
    sms = render("吃" * 300, [], 1)
    assert sms.shortened and sms.segments == 1 and sms.text.endswith("...")
    assert render("😀" * 300, [], 2).segments <= 2


@given(st.text(max_size=800), st.integers(1, 4))
def test_text_alone_always_fits_the_cap(text: str, cap: int) -> None:
    assert render(text, [], cap).segments <= cap


def test_a_menu_longer_than_the_cap_is_split_over_texts_numbered_on() -> None:
    options = [Option(f"Choice number {n} with a rather long label", f"opt:{n}") for n in range(13)]
    sms = render("Which one did your clinician give you?", options, 2)
    assert sms.parts[0] == "Which one did your clinician give you?"
    assert len(sms.parts) > 2 and all(segments(part) <= 2 for part in sms.parts)
    numbers = [line.split(" ", 1)[0] for part in sms.parts[1:] for line in part.splitlines()]
    assert numbers == [str(n) for n in range(1, 14)]
    assert len(sms.menu) == 13
