"""Where no file can be sent: the text calendar and the report in a few lines."""

from __future__ import annotations

from bot.i18n import translator
from bot.records.text import report_summary, text_calendar
from tests.records import scenario


def test_text_calendar_is_a_week_a_line() -> None:
    text = text_calendar(scenario.mina("en"), translator("en"), 2026, 5)
    lines = text.splitlines()
    assert lines[0] == "May 2026"
    # Weeks from Monday: 1-3 May, then 4-10, 11-17, 18-24 (20 and 21 missed), 25-31.
    assert lines[1] == "May 1  ✅✅✅"
    assert lines[4] == "May 18  ✅✅❌❌✅✅✅"
    assert len(lines) == 7 and "❌ missed" in lines[-1]


def test_text_calendar_shows_pause_and_days_to_come() -> None:
    june = text_calendar(scenario.mina("en"), translator("en"), 2026, 6).splitlines()
    assert june[1] == "Jun 1  ⏸⏸⏸⏸⏸✅✅"
    july = text_calendar(scenario.mina("ko"), translator("ko"), 2026, 7).splitlines()
    assert july[0] == "2026년 7월"
    # 20 July is today (its dose taken at 08:05); the 21st on is still to come.
    assert july[4].endswith("✅⏳⏳⏳⏳⏳⏳")


def test_report_summary_names_the_numbers_and_in_discreet_mode_no_medicine() -> None:
    record = scenario.mina("en")
    t = translator("en")
    plain = report_summary(record, t, discreet=False)
    assert plain.splitlines() == [
        "Doses counted: 132 of 273.",
        "Doses missed this month: 0.",
        "Last side effect: May 19, 2026, Yellow skin or yellow eyes (serious).",
        "Next check with a clinician: around Dec 8, 2026.",
    ]
    discreet = report_summary(record, t, discreet=True)
    assert "Check-ins answered: 132 of 273." in discreet
    for word in ("dose", "Dose", "side effect", "Yellow", "clinician"):
        assert word not in discreet
