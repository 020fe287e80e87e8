"""Reminders say what to take, and in discreet mode say nothing medical at all."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dialogue.choices import parse_payload
from bot.flows.reminder import SKIP, SNOOZE, SYMPTOM, TAKEN, reminder
from bot.i18n import LOCALES, translator
from treatment.doses import DrugDose

DUE = datetime(2026, 3, 2, 20, 0, tzinfo=ZoneInfo("Asia/Seoul"))
HRZE = [
    DrugDose("isoniazid", 300, None),
    DrugDose("rifampicin", 600, 2),
    DrugDose("pyrazinamide", 1500, 1.5),
]
MEDICAL_WORDS = ["TB", "isoniazid", "rifampicin", "medicine", "결핵", "약", "结核", "药"]


def test_plain_reminder_lists_each_drug_with_mg_and_tablets() -> None:
    reply = reminder(
        translator("en"), slot_ref="s1", local_due=DUE, drugs=HRZE, discreet=False, cover_word=None
    )
    assert "8:00" in reply.text and "TB medicine" in reply.text
    assert "isoniazid 300 mg" in reply.text
    assert "rifampicin 600 mg (2 tablets)" in reply.text
    assert "pyrazinamide 1500 mg (1.5 tablets)" in reply.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("nudge", [False, True])
@pytest.mark.parametrize("cover", [None, "vitamins"])
def test_discreet_reminders_carry_no_medical_word(
    locale: str, nudge: bool, cover: str | None
) -> None:
    reply = reminder(
        translator(locale),
        slot_ref="s1",
        local_due=DUE,
        drugs=HRZE,
        discreet=True,
        cover_word=cover,
        nudge=nudge,
    )
    shown = reply.text + " ".join(c.label for c in reply.all_choices())
    assert not [w for w in MEDICAL_WORDS if w in shown]
    if cover:
        assert cover in reply.text


def test_buttons_carry_the_slot_and_parse_back() -> None:
    reply = reminder(
        translator("en"), slot_ref="a1b2", local_due=DUE, drugs=HRZE, discreet=True, cover_word=None
    )
    verbs = frozenset({TAKEN, SNOOZE, SKIP, SYMPTOM})
    picks = [parse_payload(c.payload, verbs) for c in reply.all_choices()]
    assert [(p.verb, p.arg) for p in picks if p] == [
        (TAKEN, "a1b2"),
        (SNOOZE, "a1b2.15"),
        (SNOOZE, "a1b2.60"),
        (SKIP, "a1b2"),
        (SYMPTOM, "a1b2"),
    ]
