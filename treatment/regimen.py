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
import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from treatment.weight import Band

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
    min_gap_hours: int | None = None
    """At least this many hours between doses (three times a week: 48), checked on load."""

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
    combination: str = ""
    """The name of the fixed-dose combination tablet that holds the phase's weight-banded
    drugs ("HRZE"): one product, whose tablet count is the weight band's, not one per drug."""


@dataclass(frozen=True, slots=True)
class Ingredient:
    """What one tablet of a product holds of one drug."""

    drug: str
    mg: float


@dataclass(frozen=True, slots=True)
class Product:
    """One kind of tablet as the patient holds it, in a product set other than the
    combination: what one tablet contains, and tablets per dose by weight."""

    name: str
    contains: tuple[Ingredient, ...]
    bands: tuple[Band, ...]  # tablets of this product per dose, by whole kilograms

    def tablets_for(self, weight_kg: float | None) -> int | None:
        if weight_kg is None:
            return None
        whole = math.floor(weight_kg + 0.5)
        return next((b.tablets for b in self.bands if b.contains(whole)), None)


@dataclass(frozen=True, slots=True)
class ProductSet:
    """Another way the weight-banded drugs are dispensed (separate tablets, as many clinics
    in China do): per phase, the products that replace the combination."""

    id: str
    name: str
    source: str
    verified: bool
    note: str
    phases: tuple[tuple[str, tuple[Product, ...]], ...]

    def products(self, phase: str) -> tuple[Product, ...]:
        return next((products for name, products in self.phases if name == phase), ())


COMBINATION = "combination"
"""The id of the product set every regimen has: the combination tablet of each phase."""


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
    product_sets: tuple[ProductSet, ...] = ()
    """Product sets besides the combination (`COMBINATION`), which every regimen has."""

    @property
    def doses_required(self) -> int:
        return sum(phase.doses_required for phase in self.phases)

    @property
    def weight_banded(self) -> bool:
        """Whether some tablet count depends on the patient's weight."""
        return any(s.weight_banded for p in self.phases for d in p.drugs for s in d.steps)

    def product_set(self, set_id: str | None) -> ProductSet | None:
        """The product set chosen (None: the combination)."""
        if set_id is None or set_id == COMBINATION:
            return None
        return next((s for s in self.product_sets if s.id == set_id), None)
