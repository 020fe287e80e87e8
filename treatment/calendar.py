"""The adherence calendar: what each day of a treatment looked like, or will look like.

A day's mark sums up its dose slots, as programmes' month calendars do (99DOTS, SureAdhere and
the WHO treatment card all use one mark a day). The slots come from `adherence.classify_plan`,
so the calendar and the dose count never disagree; "late" is known only to the store (a dose
reported after its window closed), so its slot keys are passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from treatment.enrolment import Enrolment
from treatment.events import ClassifiedSlot, SlotState
from treatment.triage import Level


class Mark(StrEnum):
    TAKEN = "taken"
    LATE = "late"
    """Taken, but reported after the dose's window had closed."""
    MISSED = "missed"
    """The patient said the dose was not taken ("not today")."""
    NOT_RECORDED = "not_recorded"
    """The window closed with no answer: nobody knows whether it was taken."""
    SKIPPED = "skipped"
    """Not taken on a clinician's advice: not counted, and not against adherence."""
    PAUSED = "paused"
    TO_COME = "to_come"
    NO_DOSE = "no_dose"
    """A day within the treatment on which the regimen has no dose (weekly or 5-day plans)."""


# A day with several doses shows the most telling one: a fact about a missed dose first, then
# whether anything is still to come, then how the rest were taken.
_RANK = (Mark.MISSED, Mark.NOT_RECORDED, Mark.TO_COME, Mark.SKIPPED, Mark.LATE, Mark.TAKEN)

_SLOT_MARK = {
    SlotState.TAKEN: Mark.TAKEN,
    SlotState.MISSED: Mark.MISSED,
    SlotState.NO_REPLY: Mark.NOT_RECORDED,
    SlotState.SKIPPED_ON_ADVICE: Mark.SKIPPED,
    SlotState.OPEN: Mark.TO_COME,
    SlotState.FUTURE: Mark.TO_COME,
}


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of the treatment. `phase_starts` names the phase whose first dose falls
    on it; `side_effect` is the highest triage level reported that day, if any."""

    day: date
    mark: Mark
    doses: int
    taken: int
    phase_starts: str | None = None
    side_effect: Level | None = None
    last_dose: bool = False
    today: bool = False


@dataclass(frozen=True, slots=True)
class MonthCounts:
    """Due doses of one calendar month; `adherence` as in `adherence.summarise`: taken over
    taken, missed and not recorded (doses skipped on advice count neither way)."""

    year: int
    month: int
    taken: int
    late: int
    missed: int
    not_recorded: int
    skipped: int

    @property
    def adherence(self) -> float | None:
        closed = self.taken + self.missed + self.not_recorded
        return self.taken / closed if closed else None


@dataclass(frozen=True, slots=True)
class Calendar:
    start: date
    today: date
    end: date
    """The last day shown: the projected last dose, or today when that is later or unknown."""
    last_dose: date | None
    days: Mapping[date, Day]
    months_counted: tuple[MonthCounts, ...]

    def months(self) -> list[tuple[int, int]]:
        """(year, month) from the start's month to the end's, in order."""
        found = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def day(self, day: date) -> Day | None:
        """The day's entry; None before the start or after the end."""
        return self.days.get(day)


def build(
    enrolment: Enrolment,
    slots: Sequence[ClassifiedSlot],
    now: datetime,
    *,
    last_dose: date | None,
    late: Collection[str] = frozenset(),
    side_effects: Mapping[date, Level] | None = None,
) -> Calendar:
    """The calendar of an enrolment as of `now` (aware).

    1. Today is `now` on the clock of the latest slot already due (the patient's zone then).
    2. Each slot marks its local day: taken (late when its key is in `late`), missed, not
       recorded, skipped on advice, or to come; a day with several slots shows the most
       telling (`_RANK`). The first slot of each phase marks the day the phase starts.
    3. Paused days are marked paused, up to today for a pause still open.
    4. Every other day from the start to the end (the projected last dose, or today) is a day
       without a dose. Side-effect levels are added to the days they were reported.
    5. Month counts over the slots already due.
    """
    side_effects = side_effects or {}
    due = [item for item in slots if item.state is not SlotState.FUTURE]
    zone = due[-1].slot.local.tzinfo if due else ZoneInfo(enrolment.zone)
    today = now.astimezone(zone).date()
    end = max(today, last_dose or today, enrolment.start)
    marks: dict[date, list[Mark]] = {}
    taken: dict[date, int] = {}
    phase_starts: dict[date, str] = {}
    seen_positions: set[tuple[int, int]] = set()
    for item in slots:
        day = item.slot.local_date
        mark = _SLOT_MARK[item.state]
        if mark is Mark.TAKEN and item.slot.key in late:
            mark = Mark.LATE
        marks.setdefault(day, []).append(mark)
        if item.state is SlotState.TAKEN:
            taken[day] = taken.get(day, 0) + 1
        position = (item.slot.segment, item.slot.phase_number)
        if position not in seen_positions:
            seen_positions.add(position)
            phase_starts.setdefault(day, item.slot.phase)
        end = max(end, day)
    paused = set(_paused_days(enrolment, today, end))
    days: dict[date, Day] = {}
    day = enrolment.start
    while day <= end:
        found = marks.get(day)
        if found:
            mark = min(found, key=_RANK.index)
        elif day in paused:
            mark = Mark.PAUSED
        else:
            mark = Mark.NO_DOSE
        days[day] = Day(
            day=day,
            mark=mark,
            doses=len(found or ()),
            taken=taken.get(day, 0),
            phase_starts=phase_starts.get(day),
            side_effect=side_effects.get(day),
            last_dose=day == last_dose,
            today=day == today,
        )
        day += timedelta(days=1)
    return Calendar(
        start=enrolment.start,
        today=today,
        end=end,
        last_dose=last_dose,
        days=days,
        months_counted=tuple(month_counts(due, late)),
    )


def month_counts(due: Iterable[ClassifiedSlot], late: Collection[str] = ()) -> list[MonthCounts]:
    """Counts per calendar month of the slots' local dates, in order; open slots (due, no
    answer yet) count in no column."""
    counts: dict[tuple[int, int], list[int]] = {}
    for item in due:
        day = item.slot.local_date
        row = counts.setdefault((day.year, day.month), [0, 0, 0, 0, 0])
        state = item.state
        if state is SlotState.TAKEN:
            row[0] += 1
            if item.slot.key in late:
                row[1] += 1
        elif state is SlotState.MISSED:
            row[2] += 1
        elif state is SlotState.NO_REPLY:
            row[3] += 1
        elif state is SlotState.SKIPPED_ON_ADVICE:
            row[4] += 1
    return [MonthCounts(year, month, *row) for (year, month), row in sorted(counts.items())]


def _paused_days(enrolment: Enrolment, today: date, end: date) -> Iterable[date]:
    for pause in enrolment.pauses:
        last = pause.end if pause.end is not None else max(today, pause.start)
        day = max(pause.start, enrolment.start)
        while day <= min(last, end):
            yield day
            day += timedelta(days=1)
