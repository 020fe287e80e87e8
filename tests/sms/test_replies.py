"""The tolerant reply reader: numbers and words as people really text them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sms.replies import COMMANDS, COURTESY, MAX_READ, Word, command, normalise, read, vocabulary

FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
LANGUAGES = ("en", "ko", "zh_Hans")


def all_words() -> list[tuple[str, Word]]:
    return [
        (word, Word(meaning))
        for meaning, by_lang in vocabulary().items()
        if meaning not in (COURTESY, *COMMANDS)
        for words in by_lang.values()
        for word in words
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        ("1 thanks", 1),
        (" 2. ", 2),
        ("#3", 3),
        ("(4)", 4),
        ("１", 1),
        ("２ 谢谢", 2),
        ("①", 1),
        ("3,", 3),
        ("12", 12),
        ("1\n", 1),
    ],
)
def test_a_leading_number_is_the_answer(text: str, number: int) -> None:
    assert read(text).number == number
    assert read(text).word is None


@pytest.mark.parametrize("text", ["8:00", "1.5", "1/2", "0", "100", "2026", "", "   ", "😀😀"])
def test_times_decimals_dates_and_noise_are_not_numbered_answers(text: str) -> None:
    assert read(text).number is None


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("STOP", Word.STOP),
        ("Stop please", Word.STOP),
        ("td", Word.STOP),
        ("退订", Word.STOP),
        ("수신거부", Word.STOP),
        ("中止", None),
        ("start", Word.START),
        ("开始", Word.START),
        ("시작", Word.START),
        ("HELP", Word.HELP),
        ("?", Word.HELP),
        ("帮助", Word.HELP),
        ("도움말", Word.HELP),
        ("taken", Word.TAKEN),
        ("Taken!!", Word.TAKEN),
        ("ok", Word.YES),
        ("ＯＫ", Word.YES),
        ("ok thanks", Word.YES),
        ("먹었어요", Word.TAKEN),
        ("네", Word.YES),
        ("네 감사합니다 😀", Word.YES),
        ("吃了", Word.TAKEN),
        ("吃了谢谢!", Word.TAKEN),
        ("好", Word.YES),
        ("not today", Word.SKIP),
        ("FORGET", Word.FORGET),
        ("不舒服", Word.UNWELL),
    ],
)
def test_words_are_read_whatever_the_case_width_and_courtesy(text: str, word: Word | None) -> None:
    assert read(text).word is word


@pytest.mark.parametrize(
    "text",
    [
        "ok but I feel sick",
        "안 먹었어요",
        "好难受",
        "没吃",
        "不吃",
        "stopwatch",
        "nothing",
        "yesterday",
    ],
)
def test_a_word_followed_by_more_than_courtesy_means_nothing(text: str) -> None:
    """ "안 먹었어요" is "I did not take it"; "好难受" is "I feel awful": never a yes."""
    assert read(text).word is None
    assert read(text).number is None


def test_no_word_has_two_meanings_in_any_language() -> None:
    meanings: dict[str, set[Word]] = {}
    for word, meaning in all_words():
        meanings.setdefault(word, set()).add(meaning)
    assert {w: m for w, m in meanings.items() if len(m) > 1} == {}


def test_every_meaning_has_words_in_every_language() -> None:
    table = vocabulary()
    for meaning in [*Word, COURTESY]:
        for language in LANGUAGES:
            assert table[str(meaning)][language], (meaning, language)


@given(st.integers(1, 99), st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=20))
def test_full_width_digits_and_trailing_words_keep_the_number(number: int, tail: str) -> None:
    wide = "".join(FULL_WIDTH[d] for d in str(number))
    for text in (str(number), wide):
        assert read(f"{text} {tail}").number == number


@given(st.sampled_from(all_words()), st.data())
def test_any_case_of_a_word_reads_the_same(pair: tuple[str, Word], data: st.DataObject) -> None:
    word, meaning = pair
    flips = data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(ch.upper() if up else ch for ch, up in zip(word, flips, strict=True))
    courtesy = data.draw(st.sampled_from(["", "!", " thanks", " 谢谢", " 감사합니다", "..."]))
    assert read(cased + courtesy).word is meaning


@given(st.text(max_size=2000))
def test_any_text_is_read_without_error_and_within_bounds(text: str) -> None:
    found = read(text)
    assert not (found.number is not None and found.word is not None)
    assert found.number is None or 1 <= found.number <= 99
    assert len(found.text) <= MAX_READ
    if found.word is not None:
        # A meaning is only ever read from one of its own words.
        assert any(w in found.text for w, m in all_words() if m is found.word)


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise("  ＳＴＯＰ \n  now ") == "stop now"


def test_join_takes_the_code_that_follows() -> None:
    assert command("JOIN 4F7KQ2") == ("join", "4f7kq2")
    assert command("加入 ４Ｆ７ＫＱ２") == ("join", "4f7kq2")
    assert command("join") is None
    assert command("1 join") is None


def test_command_words_are_no_meanings_and_belong_to_one_command() -> None:
    """A command texted as a word (PROGRESS, 진행, 进度) is never read as STOP or as an answer,
    and no word names two commands."""
    owners: dict[str, set[str]] = {}
    for name in COMMANDS:
        for words in vocabulary()[name].values():
            for word in words:
                owners.setdefault(word, set()).add(name)
                assert read(word).word is None, word
    assert {w: n for w, n in owners.items() if len(n) > 1} == {}
    assert not set(owners) & {word for word, _ in all_words()}
    assert command("PROGRESS") == ("progress", "")
    assert command("진행") == ("progress", "")
    assert command("进度。") == ("progress", "")
    assert command("week mina") == ("status", "mina")
    assert command("progress report") == ("progress", "report")
    assert command("enrol") is None
