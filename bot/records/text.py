"""The records in words, where no picture or file can be sent (SMS, or a channel without
attachments): a month calendar a week a line, and the report's summary in a few lines."""

from __future__ import annotations

import calendar as months
from datetime import date

from babel import Locale
from babel.dates import format_skeleton

from bot.i18n import Translator
from bot.records.facts import Record
from bot.records.words import MARK_SYMBOLS, MARK_WORDS
from bot.texts import SYMPTOM_LABELS
from treatment.calendar import Mark
from treatment.triage import Level

OUTSIDE = "▫️"
LEGEND = (Mark.TAKEN, Mark.LATE, Mark.MISSED, Mark.NOT_RECORDED, Mark.PAUSED, Mark.TO_COME)


def text_calendar(record: Record, t: Translator, year: int, month: int) -> str:
    """One line a week (from the language's first day of the week): the week's first date,
    then a symbol a day; days outside the treatment or without a dose are ▫️."""
    locale = Locale.parse(t.locale)
    lines = [format_skeleton("yMMMM", date(year, month, 1), locale=locale)]
    weeks = months.Calendar(locale.first_week_day).monthdatescalendar(year, month)
    for week in weeks:
        inside = [day for day in week if day.month == month]
        marks = []
        for day in inside:
            entry = record.calendar.day(day)
            marks.append(MARK_SYMBOLS[entry.mark] if entry is not None else OUTSIDE)
        label = format_skeleton("MMMd", inside[0], locale=locale)
        lines.append(f"{label}  {''.join(marks)}")
    lines.append("  ".join(f"{MARK_SYMBOLS[mark]} {t._(MARK_WORDS[mark])}" for mark in LEGEND))
    return "\n".join(lines)


def next_check(record: Record) -> tuple[date, bool] | None:
    """The next moment a clinician usually sees the patient, and whether it is the end of
    the first phase (clinical.md, monitoring: a smear at the end of the intensive phase) or
    else the end of treatment."""
    summary = record.summary
    if summary.complete:
        return None
    ends = summary.intensive_ends
    if ends is not None and ends >= record.today:
        return ends, True
    if summary.projected_completion is not None:
        return summary.projected_completion, False
    return None


def report_summary(record: Record, t: Translator, *, discreet: bool) -> str:
    """The report in a few short lines: doses counted, misses this month, the last side
    effect, the next check. Discreet wording names no medicine and no symptom."""
    summary = record.summary
    this_month = next(
        (
            m
            for m in record.calendar.months_counted
            if (m.year, m.month) == (record.today.year, record.today.month)
        ),
        None,
    )
    misses = this_month.missed + this_month.not_recorded if this_month else 0
    if discreet:
        lines = [
            t._(
                "Check-ins answered: {taken} of {required}.",
                taken=summary.doses_taken,
                required=summary.doses_required,
            ),
            t.ngettext("Missed this month: {n}.", "Missed this month: {n}.", misses),
        ]
    else:
        lines = [
            t._(
                "Doses counted: {taken} of {required}.",
                taken=summary.doses_taken,
                required=summary.doses_required,
            ),
            t.ngettext("Doses missed this month: {n}.", "Doses missed this month: {n}.", misses),
        ]
    last = record.last_side_effect
    if last is not None:
        when = t.date(last.at.date(), "medium")
        if discreet:
            lines.append(t._("Last time you told me you felt unwell: {date}.", date=when))
        else:
            names = ", ".join(t._(SYMPTOM_LABELS.get(s, s)) for s in last.symptoms)
            serious = last.level is Level.RED_FLAG
            lines.append(
                t._("Last side effect: {date}, {what} (serious).", date=when, what=names)
                if serious
                else t._("Last side effect: {date}, {what}.", date=when, what=names)
            )
    check = next_check(record)
    if check is not None:
        day, first_phase = check
        when = t.date(day, "medium")
        if discreet:
            lines.append(t._("Next visit: around {date}.", date=when))
        elif first_phase:
            lines.append(
                t._(
                    "Next check with a clinician: around {date}, at the end of the first phase.",
                    date=when,
                )
            )
        else:
            lines.append(t._("Next check with a clinician: around {date}.", date=when))
    return "\n".join(lines)
