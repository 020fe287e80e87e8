"""The SMS reminder: one segment in every language, discreet, answerable by number or label."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.flows.reminder import brief_reminder
from bot.i18n import LOCALES, translator
from bot.sms.render import Option, render
from bot.sms.replies import Word, read
from tests.bot.test_reminder_text import MEDICAL_WORDS
from tests.sms.test_sms_texts import REVEALING

SLOT = "0123456789abcdef0123456789abcdef"
TIMES = [datetime(2026, 12, 1, h, m) for h, m in ((0, 0), (8, 0), (10, 30), (12, 45), (23, 59))]
WIDE = {"en": "x", "ko": "가", "zh_Hans": "药"}  # a 24-character cover word (the longest allowed)


def covers(locale: str) -> list[str | None]:
    t = translator(locale)
    return [None, t._("vitamins"), t._("my pills"), WIDE[locale] * 24]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_sms_reminder_and_nudge_is_one_segment(locale: str) -> None:
    t = translator(locale)
    for at in TIMES:
        for cover in covers(locale):
            for nudge in (False, True):
                reply = brief_reminder(
                    t, slot_ref=SLOT, local_due=at, cover_word=cover, nudge=nudge
                )
                options = [Option(c.label, c.payload) for c in reply.all_choices()]
                sms = render(reply.text, options, 1)
                assert sms.segments == 1 and not sms.shortened, sms.text
                assert len(sms.menu) == 4


@pytest.mark.parametrize("locale", LOCALES)
def test_the_sms_reminder_is_discreet(locale: str) -> None:
    t = translator(locale)
    reply = brief_reminder(t, slot_ref=SLOT, local_due=TIMES[1], cover_word=None)
    text = "\n".join([reply.text, *(c.label for c in reply.all_choices())]).lower()
    assert not any(word.lower() in text for word in REVEALING)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_answer_label_texted_back_means_its_answer(locale: str) -> None:
    t = translator(locale)
    reply = brief_reminder(t, slot_ref=SLOT, local_due=TIMES[1], cover_word=None)
    meanings = [read(c.label).word for c in reply.all_choices()]
    assert meanings == [Word.TAKEN, Word.LATER, Word.SKIP, Word.UNWELL]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("nudge", [False, True])
def test_the_discreet_words_test_covers_the_sms_reminder(locale: str, nudge: bool) -> None:
    """The word list of the discreet reminders' test (tests/bot/test_reminder_text.py): the
    SMS form never carries any of them, whether or not the patient chose discreet mode."""
    t = translator(locale)
    for cover in (None, t._("vitamins")):
        reply = brief_reminder(t, slot_ref=SLOT, local_due=TIMES[1], cover_word=cover, nudge=nudge)
        shown = reply.text + " ".join(c.label for c in reply.all_choices())
        assert not [w for w in MEDICAL_WORDS if w in shown]
