"""Encouragement comes once, at the dose that crosses a milestone, and never mentions misses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice

from bot.flows.milestones import milestone_replies
from bot.flows.reminder import Wording
from bot.i18n import translator
from treatment.adherence import AdherenceSummary, summarise
from treatment.enrolment import enrol
from treatment.events import DoseEvent, EventKind
from treatment.plan import iter_slots

START = date(2026, 3, 2)
PLAN = enrol(regimen="2HRZE/4HR", start=START, times=["08:00"], zone="Asia/Seoul", today=START)
SLOTS = list(iter_slots(PLAN))
HR = {
    "drugs": [
        {"name": "isoniazid", "mg": 225, "tablets": 3, "combined": True},
        {"name": "rifampicin", "mg": 450, "tablets": 3, "combined": True},
    ]
}
T = translator("en")


def taken(n: int) -> tuple[AdherenceSummary, datetime]:
    events = [DoseEvent(s.key, EventKind.TAKEN, s.utc) for s in islice(SLOTS, n)]
    now = SLOTS[max(n - 1, 0)].utc + timedelta(minutes=5)
    return summarise(PLAN, events, now), now


def said(n: int) -> str:
    before, _ = taken(n - 1)
    after, _ = taken(n)
    replies = milestone_replies(
        T, before, after, first_week_doses=7, next_dose=HR, wording=Wording()
    )
    return "\n".join(r.text for r in replies)


def test_the_seventh_dose_completes_the_first_week_once() -> None:
    assert "One week done" in said(7)
    assert said(6) == "" and "One week" not in said(8)


def test_the_last_intensive_dose_says_what_changes_from_the_next_dose() -> None:
    text = said(56)
    assert "finished the first phase" in text
    assert "isoniazid 225 mg (3 tablets)" in text and "pyrazinamide" not in text


def test_half_way_and_the_last_dose() -> None:
    assert "Half-way" in said(91)
    last = said(182)
    assert "every dose" in last and "end-of-treatment check" in last


def test_no_milestone_on_an_ordinary_day() -> None:
    assert said(30) == ""


def test_nothing_is_said_twice_when_nothing_new_was_recorded() -> None:
    summary, _ = taken(7)
    assert (
        milestone_replies(T, summary, summary, first_week_doses=7, next_dose=HR, wording=Wording())
        == []
    )
