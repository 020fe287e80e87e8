"""The dose plan: dose slots of an enrolment, generated lazily.

A slot is one moment at which the patient takes the drugs due then. Its `key`
(`"2026-03-02#0"`: local date and index of the time of day) is stable, so the store and the
scheduler can refer to it. Which phase a slot belongs to depends on how many earlier doses
were taken (dose counting), so generation counts from the start; callers pass the keys
of slots that were not taken, and every other slot is assumed taken (the projection). A caller
that needs only the slots from some date on (the planner's horizon) passes `since`: the
stretches before it are counted by weekday arithmetic, not walked slot by slot.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from treatment.catalogue import Catalogue, load_catalogue
from treatment.doses import DrugDose, ProductDose, dose_table
from treatment.enrolment import Enrolment
from treatment.plan_days import Breaks, countable_days, nth_pattern_day, pause_on, wall_instant
from treatment.regimen import PhaseKind
from treatment.segments import segments
from treatment.weight import load_weight_bands

HORIZON_DAYS = 3660
"""No slot is generated more than about 10 years after a regimen starts, so an enrolment whose
doses are never counted (every key passed as not taken) cannot loop forever."""


@dataclass(frozen=True, slots=True)
class PhasePosition:
    """Where a slot sits in the enrolment: shared by every slot of the same phase."""

    regimen_id: str
    segment: int
    phase: str
    phase_kind: PhaseKind
    phase_number: int


@dataclass(frozen=True, slots=True)
class DoseSlot:
    """One dose time. `key` ("2026-03-02#0": local date and index of the time of day) is
    stable for the store and scheduler; `utc` is the due instant, `local` the wall time on the
    patient's clock then (which differs from the dose time only when a gap moved it).

    The phase facts live in a shared `PhasePosition` (fewer fields per slot keeps plan
    generation within its time budget); the properties below read them.
    """

    key: str
    local_date: date
    index: int
    utc: datetime
    local: datetime
    position: PhasePosition
    drugs: tuple[DrugDose, ...]
    products: tuple[ProductDose, ...] = ()
    """What is in the hand for this dose: one entry per kind of tablet."""

    @property
    def zone(self) -> str:
        return str(self.local.tzinfo)

    @property
    def regimen_id(self) -> str:
        return self.position.regimen_id

    @property
    def segment(self) -> int:
        return self.position.segment

    @property
    def phase(self) -> str:
        return self.position.phase

    @property
    def phase_kind(self) -> PhaseKind:
        return self.position.phase_kind

    @property
    def phase_number(self) -> int:
        return self.position.phase_number


def iter_slots(
    enrolment: Enrolment,
    *,
    not_taken: Collection[str] = frozenset(),
    catalogue: Catalogue | None = None,
    since: date | None = None,
) -> Iterator[DoseSlot]:
    """Yield the enrolment's slots in strictly increasing UTC order, lazily; with `since`,
    only those on local dates from `since` on (the same slots as the full walk's tail).

    1. Walk local dates from the start of each regimen segment. Paused dates have no slot.
    2. The zone of a date is the last zone change effective on or before it; so are its
       dose times (the last time change, if made within the regimen segment of that date).
    3. A date has slots if the current phase's pattern includes its weekday (a weekly
       pattern without a weekday uses the weekday the phase became due).
    4. Each dose time becomes a UTC instant: an ambiguous wall time (clocks going back) is
       read as its first occurrence, so a repeated hour does not double a dose; a wall time
       in a gap (clocks going forward) moves to the first valid instant after the gap.
    5. A slot whose instant is not after the previous slot's is not generated: two dose
       times in one skipped stretch, or a zone change eastwards, give one dose, not two
       at the same moment. Dose counting then simply needs one more slot.
    6. Slots whose key is not in `not_taken` count towards the phase; when the phase's
       count is reached the next phase begins with the next dose time.
    7. Before `since`, a stretch of days in which nothing can change the count (no pause,
       zone change, time change or clock change that moves a dose time, see `Breaks`) is
       counted without being walked: its pattern days times the dose times, less the keys
       of its slots in `not_taken`, stopping a day short of the phase's end (as if every
       dose were taken), which the walk then takes as in steps 1-6.
    """
    catalogue = catalogue or load_catalogue()
    table = load_weight_bands().table(enrolment.band_table)
    zone_changes = [(enrolment.start, enrolment.zone)] + [
        (z.effective, z.zone) for z in enrolment.zone_changes
    ]
    zone_dates = [d for d, _ in zone_changes]
    zones = {name: ZoneInfo(name) for _, name in zone_changes}
    pauses = enrolment.pauses
    time_changes = enrolment.time_changes
    one_day = timedelta(days=1)
    previous_utc: datetime | None = None
    breaks = Breaks(enrolment, not_taken) if since is not None else None
    for segment in segments(enrolment, catalogue):
        chosen = segment.regimen.product_set(enrolment.product_set)
        doses = dose_table(segment.regimen, enrolment.weight_kg, table, chosen)
        phases = segment.regimen.phases
        phase_count = len(phases)
        # A time change made before a regimen switch does not reach past it: the switch's
        # times apply from the switch on, until a later time change.
        base_times = times = tuple(enumerate(segment.times))
        suffixes = [f"#{index}" for index in range(segment.regimen.doses_per_day)]
        phase_number = 0
        counted = 0
        phase_due_from = segment.start
        phase_first_day: date | None = None
        phase_days: frozenset[int] | None = None
        position: PhasePosition | None = None
        day = segment.start
        last_day = segment.start + timedelta(days=HORIZON_DAYS)
        if segment.end is not None:
            last_day = min(last_day, segment.end - one_day)
        while phase_number < phase_count and day <= last_day:
            pause = pause_on(pauses, day) if pauses else None
            if pause is not None:
                if pause.end is None:
                    return
                day = pause.end + one_day
                continue
            zone_name = zone_changes[bisect.bisect_right(zone_dates, day) - 1][1]
            zone = zones[zone_name]
            if time_changes:
                change = enrolment.time_change_on(day)
                in_segment = change is not None and change.effective >= segment.start
                times = tuple(enumerate(change.times)) if change and in_segment else base_times
            if breaks is not None and since is not None and day < since:
                phase = phases[phase_number]
                if phase_days is None:
                    phase_days = phase.pattern.days_of_week(phase_due_from.weekday())
                until = breaks.regular_until(day, min(since, last_day + one_day), zone_name, times)
                skip = countable_days(day, until, phase_days, times, phase.doses_required - counted)
                if skip:
                    first = nth_pattern_day(day, phase_days, 1)
                    if (
                        previous_utc is None
                        or wall_instant(first, times[0][1], zone)[0] > previous_utc
                    ):
                        last = nth_pattern_day(day, phase_days, skip)
                        previous_utc = wall_instant(last, times[-1][1], zone)[0]
                        counted += skip * len(times) - breaks.not_taken_within(
                            first, last, phase_days, len(times)
                        )
                        if phase_first_day is None:
                            phase_first_day = first
                        day = last + one_day
                        continue
            weekday = day.weekday()
            prefix = day.isoformat()
            drugs: tuple[DrugDose, ...] | None = None
            products: tuple[ProductDose, ...] = ()
            for index, at in times:
                if phase_number == phase_count:
                    break
                phase = phases[phase_number]
                if phase_days is None:
                    phase_days = phase.pattern.days_of_week(phase_due_from.weekday())
                if weekday not in phase_days:
                    continue
                utc, local = wall_instant(day, at, zone)
                if previous_utc is not None and utc <= previous_utc:
                    continue
                if phase_first_day is None:
                    phase_first_day = day
                if position is None:
                    position = PhasePosition(
                        segment.regimen.id, segment.number, phase.name, phase.kind, phase_number
                    )
                key = prefix + suffixes[index]
                if since is None or day >= since:
                    if drugs is None:
                        drugs, products = doses.for_day(
                            phase_number, (day - phase_first_day).days, weekday
                        )
                    yield DoseSlot(key, day, index, utc, local, position, drugs, products)
                previous_utc = utc
                if key not in not_taken:
                    counted += 1
                    if counted == phase.doses_required:
                        phase_number += 1
                        counted = 0
                        phase_first_day = None
                        phase_days = None
                        position = None
                        drugs = None
                        last_of_day = index + 1 == len(times)
                        phase_due_from = day + one_day if last_of_day else day
            day += one_day


def slots_between(
    enrolment: Enrolment,
    start: datetime,
    end: datetime,
    *,
    not_taken: Collection[str] = frozenset(),
    catalogue: Catalogue | None = None,
) -> Iterator[DoseSlot]:
    """Slots with `start <= utc < end` (aware datetimes), lazily."""
    since = start.astimezone(UTC).date() - SLOT_DATE_BEFORE_UTC
    for slot in iter_slots(enrolment, not_taken=not_taken, catalogue=catalogue, since=since):
        if slot.utc >= end:
            return
        if slot.utc >= start:
            yield slot


SLOT_DATE_BEFORE_UTC = timedelta(days=3)
"""A slot's local date is never more than this before its UTC date: zones are at most 12 hours
behind UTC, and a dose time in a gap moves at most to the end of that gap (a day, at most, in
tzdata). So the slots due from an instant on are all on local dates from its UTC date minus
this."""
