"""The words a patient and a new helper compare: the same things in every language, never two
alike on one screen."""

from __future__ import annotations

import pytest

from bot import check_phrase
from bot.i18n import LOCALES, translator


@pytest.mark.parametrize("locale", LOCALES)
def test_no_two_words_read_alike_in_one_language(locale: str) -> None:
    t = translator(locale)
    shown = [t._(word).casefold() for word in check_phrase.WORDS]
    assert len(set(shown)) == len(check_phrase.WORDS) == 64
    assert all(" · " not in word and word.strip() == word for word in shown)


def test_a_phrase_is_distinct_words_and_phrases_differ() -> None:
    phrases = {check_phrase.draw() for _ in range(200)}
    assert all(len(set(p)) == check_phrase.LENGTH for p in phrases)
    assert len(phrases) > 190  # about 250,000 possible: repeats are rare


def test_each_side_reads_the_same_picks_in_its_own_language() -> None:
    phrase = (0, 27, 63)
    assert check_phrase.say(translator("en"), phrase) == "apple · mountain · basket"
    assert check_phrase.say(translator("ko"), phrase) == "사과 · 산 · 바구니"
    assert check_phrase.say(translator("zh_Hans"), phrase) == "苹果 · 山 · 篮子"
