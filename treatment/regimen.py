"""Regimen types: what a regimen file says, as frozen values.

A regimen is a sequence of phases. Each phase has a dosing pattern (which days have doses),
a number of doses that completes it (dose counting: the phase ends when that many doses are
taken, not when the calendar runs out), optional completion window, and drugs. A drug has
one or more dose steps; a step says the mg per dose and tablets, optionally restricted to
weekdays and to the first N calendar days of the phase. Steps express loading then
maintenance (bedaquiline in BPaLM: 400 mg daily for 14 days, then 200 mg on Mon/Wed/Fri)
without a special case in the code.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PatternKind(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"


class PhaseKind(StrEnum):
    """Which interruption rules apply: intensive and continuation follow ATS/CDC/IDSA 2016
    table 5; `single` (preventive or drug-resistant regimens) gets only the general rules."""

    INTENSIVE = "intensive"
    CONTINUATION = "continuation"
    SINGLE = "single"


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar length. Months are calendar months (the guidelines speak in months), so
    9 months after 31 May is 28 February, not a fixed number of days."""

    months: int = 0
    weeks: int = 0
    days: int = 0

    def after(self, start: date) -> date:
        month_index = start.month - 1 + self.months
        year = start.year + month_index // 12
        month = month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(weeks=self.weeks, days=self.days)


@dataclass(frozen=True, slots=True)
class Window:
    """A deadline counted from the start of the regimen. `duration` is None when no source
    gives one (the operator may set it); `verified` is False when clinical.md marks the value
    as not verified or configurable."""

    duration: Duration | None
    verified: bool = True
    note: str = ""

    def deadline(self, start: date) -> date | None:
        return None if self.duration is None else self.duration.after(start)


@dataclass(frozen=True, slots=True)
class DosingPattern:
    """Which calendar days of a phase have doses.

    `weekdays` lists Monday=0 .. Sunday=6. For WEEKLY it holds at most one day; when empty
    the dose falls on the weekday the phase started, which is how once-weekly preventive
    treatment is usually begun.
    """

    kind: PatternKind = PatternKind.DAILY
    weekdays: tuple[int, ...] = ()

    def days_of_week(self, anchor_weekday: int) -> frozenset[int]:
        if self.kind is PatternKind.DAILY:
            return frozenset(range(7))
        if self.kind is PatternKind.WEEKLY and not self.weekdays:
            return frozenset({anchor_weekday})
        return frozenset(self.weekdays)


@dataclass(frozen=True, slots=True)
class DoseStep:
    """One way a drug is dosed within a phase.

    Exactly one of three dose forms applies:
    * fixed: `mg` (and `tablets` when known) per dose, as the source or prescription says;
    * weight-banded fixed-dose combination: `mg_per_tablet`, with the tablet count taken
      from the patient's weight band; mg is then tablets x mg_per_tablet;
    * as prescribed: neither, because the dose depends on weight in a way no packaged table
      covers; the bot shows "as prescribed" and never guesses.
    """

    mg: float | None = None
    tablets: float | None = None
    mg_per_tablet: float | None = None
    weekdays: tuple[int, ...] = ()
    for_days: int | None = None
    min_gap_hours: int | None = None

    @property
    def weight_banded(self) -> bool:
        return self.mg_per_tablet is not None


@dataclass(frozen=True, slots=True)
class Drug:
    name: str
    steps: tuple[DoseStep, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    kind: PhaseKind
    doses_required: int
    pattern: DosingPattern
    drugs: tuple[Drug, ...]
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class Regimen:
    id: str
    name: str
    population: str
    source: str
    phases: tuple[Phase, ...]
    doses_per_day: int = 1
    window: Window | None = None
    custom: bool = False
    note: str = ""

    @property
    def doses_required(self) -> int:
        return sum(phase.doses_required for phase in self.phases)
