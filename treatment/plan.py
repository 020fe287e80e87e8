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
import functools
import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from treatment.catalogue import Catalogue, load_catalogue
from treatment.codes import Reason
from treatment.enrolment import Enrolment, Pause
from treatment.regimen import DoseStep, Phase, PhaseKind, ProductSet, Regimen
from treatment.weight import BandTable, load_weight_bands

HORIZON_DAYS = 3660
"""No slot is generated more than about 10 years after a regimen starts, so an enrolment whose
doses are never counted (every key passed as not taken) cannot loop forever."""


@dataclass(frozen=True, slots=True)
class DrugDose:
    """A drug in a slot. `mg`/`tablets` are None when the dose is as prescribed or the weight
    is unknown or outside every band: the bot then says so instead of guessing."""

    name: str
    mg: float | None
    tablets: float | None
    step: int = 0
    """Index of the drug's dose step (bedaquiline: 0 loading, 1 three times a week)."""
    combined: bool = False
    """Part of a fixed-dose combination tablet: `tablets` counts combination tablets, the same
    for every drug in it, not tablets of this drug alone."""


@dataclass(frozen=True, slots=True)
class ProductDose:
    """One kind of tablet in a slot, as the patient holds it: a fixed-dose combination is one
    product (its tablets hold several drugs), any other tablet is its own.

    `tablets` per dose is None when the weight is unknown or outside every band, or the dose is
    as prescribed; `contains` is what one tablet holds (mg None where the source gives no
    strength); `mg` is the whole dose of a single-drug product when known without a count."""

    name: str
    tablets: float | None
    contains: tuple[tuple[str, float | None], ...]
    mg: float | None = None

    @property
    def combined(self) -> bool:
        return len(self.contains) > 1


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


@dataclass(frozen=True, slots=True)
class Segment:
    """The stretch of an enrolment during which one regimen is followed."""

    number: int
    regimen: Regimen
    start: date
    end: date | None
    times: tuple[time, ...]


def segments(enrolment: Enrolment, catalogue: Catalogue | None = None) -> tuple[Segment, ...]:
    """The enrolment's regimens in order: the first from the start, one per switch."""
    catalogue = catalogue or load_catalogue()
    starts: list[tuple[date, Regimen, tuple[time, ...]]] = [
        (enrolment.start, enrolment.regimen(catalogue), enrolment.times)
    ]
    for switch in enrolment.switches:
        regimen = switch.custom_regimen or catalogue.get(switch.regimen_id)
        starts.append((switch.effective, regimen, switch.times or starts[-1][2]))
    return tuple(
        Segment(
            number=i,
            regimen=regimen,
            start=start,
            end=starts[i + 1][0] if i + 1 < len(starts) else None,
            times=times,
        )
        for i, (start, regimen, times) in enumerate(starts)
    )


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
       zone change, time change, not-taken key or clock change, see `_Breaks`) is counted
       without being walked: its pattern days times the dose times, stopping a day short of
       the phase's end, which the walk then takes as in steps 1-6.
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
    breaks = _Breaks(enrolment, not_taken) if since is not None else None
    for segment in segments(enrolment, catalogue):
        chosen = segment.regimen.product_set(enrolment.product_set)
        doses = _dose_table(segment.regimen, enrolment.weight_kg, table, chosen)
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
            pause = _pause_on(pauses, day) if pauses else None
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
                until = breaks.regular_until(day, min(since, last_day + one_day), zone_name)
                skip = _countable_days(
                    day, until, phase_days, times, phase.doses_required - counted
                )
                if skip:
                    first = _nth_pattern_day(day, phase_days, 1)
                    if previous_utc is None or _instant(first, times[0][1], zone)[0] > previous_utc:
                        last = _nth_pattern_day(day, phase_days, skip)
                        previous_utc = _instant(last, times[-1][1], zone)[0]
                        counted += skip * len(times)
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
                utc, local = _instant(day, at, zone)
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


class _Breaks:
    """Where the count of slots per day may differ from the regimen's pattern: step 7 of
    `iter_slots` counts only between these.

    Pause starts, the dates of not-taken keys, time changes, and zone changes with the two
    days after them (a zone change eastwards can make the next days' first dose fall before
    the last one in the old zone); and each zone's clock changes (`_clock_change_days`).
    """

    def __init__(self, enrolment: Enrolment, not_taken: Collection[str]) -> None:
        dates = {pause.start for pause in enrolment.pauses}
        dates.update(change.effective for change in enrolment.time_changes)
        for change in enrolment.zone_changes:
            dates.update(change.effective + timedelta(days=k) for k in range(3))
        for key in not_taken:
            try:
                dates.add(date.fromisoformat(key[:10]))
            except ValueError:
                continue  # not a slot's key: it never matches one
        self._dates = sorted(dates)

    def regular_until(self, day: date, limit: date, zone_name: str) -> date:
        """The first date from `day` on (before `limit`) that must be walked."""
        found = bisect.bisect_left(self._dates, day)
        if found < len(self._dates):
            limit = min(limit, self._dates[found])
        changes = _clock_change_days(zone_name, day.year)
        found = bisect.bisect_left(changes, day)
        if found < len(changes):
            limit = min(limit, changes[found])
        return min(limit, date(day.year + 1, 1, 1))


CLOCK_PROBE = timedelta(hours=3)


@functools.lru_cache(maxsize=2048)
def _clock_change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """The local dates of `year` (and a few days around it) near which `zone_name`'s UTC
    offset changes, sorted: three days either side of each change, which covers every local
    date whose dose times or whose neighbour's a change can move.

    The offset is read every three hours of UTC time (about 3,000 readings, once per zone and
    year in a process): a change undone within three hours would be missed, and tzdata has
    none.
    """
    zone = ZoneInfo(zone_name)
    probe = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=4)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) + timedelta(days=4)
    offset = probe.astimezone(zone).utcoffset()
    marked: set[date] = set()
    while probe < end:
        probe += CLOCK_PROBE
        now = probe.astimezone(zone).utcoffset()
        if now != offset:
            offset = now
            marked.update(probe.date() + timedelta(days=k) for k in range(-3, 4))
    return tuple(sorted(marked))


def _countable_days(
    day: date,
    until: date,
    pattern: frozenset[int],
    times: tuple[tuple[int, time], ...],
    remaining: int,
) -> int:
    """How many pattern days from `day` (before `until`) step 7 may count at once: each
    gives one slot per dose time, and the phase must not end within them. Zero when the
    dose times are not in increasing order (the walk then drops some, step 5)."""
    if until <= day or not pattern or not times or remaining <= len(times):
        return 0
    if any(a[1] >= b[1] for a, b in itertools.pairwise(times)):
        return 0
    weeks, rest = divmod((until - day).days, 7)
    first = day.weekday()
    days = weeks * len(pattern) + sum(1 for k in range(rest) if (first + k) % 7 in pattern)
    return min(days, (remaining - 1) // len(times))


def _nth_pattern_day(start: date, pattern: frozenset[int], n: int) -> date:
    """The `n`-th date (from 1) on or after `start` whose weekday is in `pattern`."""
    weeks, left = divmod(n - 1, len(pattern))
    day = start + timedelta(weeks=weeks)
    left += 1
    while True:
        if day.weekday() in pattern:
            left -= 1
            if left == 0:
                return day
        day += timedelta(days=1)


def _instant(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(UTC instant, aware local time actually on the clock) of a dose time; step 4 of
    `iter_slots`.

    `datetime.combine` leaves fold=0, which reads an ambiguous time as its first occurrence.
    Converting back and finding a different wall time is how a gap shows itself.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(UTC)
    back = utc.astimezone(zone)
    if back.minute == at.minute and back.hour == at.hour and back.day == day.day:
        return utc, back
    utc = _end_of_gap(local, zone)
    return utc, utc.astimezone(zone)


def _end_of_gap(local: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant that skipped `local`: the first instant whose wall time is
    later than it, found by bisection (in whole seconds) between the two readings of the
    wall time with the offsets before and after the transition."""
    readings = sorted(local.replace(fold=fold).astimezone(UTC) for fold in (0, 1))
    naive = local.replace(tzinfo=None)
    low, high = readings[0], readings[1]
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        if middle.astimezone(zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle
    return high


def _pause_on(pauses: tuple[Pause, ...], day: date) -> Pause | None:
    for pause in pauses:
        if pause.covers(day):
            return pause
    return None


class _DoseTable:
    """The drugs and products of a slot by phase, day of the phase and weekday, resolved once.

    Doses are resolved when the table is built: fixed doses as written, weight-banded ones as
    tablets of the products that hold them (the combination's count from the band table, or
    each product's own count in another product set), as-prescribed ones as unknown. A step
    applies from the end of the previous step's `for_days` (calendar days from the phase's
    first dose, so a missed loading dose is not made up), and a drug whose last step has
    `for_days` stops after it; results are cached per
    (phase, step boundary bucket, weekday), which keeps generation cheap.
    """

    def __init__(
        self,
        regimen: Regimen,
        weight_kg: float | None,
        table: BandTable,
        chosen: ProductSet | None = None,
    ) -> None:
        tablets = None if weight_kg is None else table.tablets_for(weight_kg)
        self._boundaries: list[list[int]] = []
        self._resolved: list[list[list[tuple[DoseStep, DrugDose, int | None]]]] = []
        self.banded: list[tuple[ProductDose, ...]] = []
        for phase in regimen.phases:
            boundaries: set[int] = set()
            drugs = []
            separate = {} if chosen is None else _separate(chosen, phase.name, weight_kg)
            for drug in phase.drugs:
                steps: list[tuple[DoseStep, DrugDose, int | None]] = []
                elapsed = 0
                for step in drug.steps:
                    until = None
                    if step.for_days is not None:
                        elapsed += step.for_days
                        until = elapsed
                        boundaries.add(elapsed)
                    dose = separate.get(drug.name) or _dose(drug.name, step, tablets, len(steps))
                    steps.append((step, dose, until))
                drugs.append(steps)
            self._boundaries.append(sorted(boundaries))
            self._resolved.append(drugs)
            self.banded.append(
                _combination(phase, tablets)
                if chosen is None
                else _products(chosen, phase.name, weight_kg)
            )
        self._cache: dict[
            tuple[int, int, int], tuple[tuple[DrugDose, ...], tuple[ProductDose, ...]]
        ] = {}

    def for_day(
        self, phase_number: int, offset: int, weekday: int
    ) -> tuple[tuple[DrugDose, ...], tuple[ProductDose, ...]]:
        bucket = bisect.bisect_right(self._boundaries[phase_number], offset)
        key = (phase_number, bucket, weekday)
        cached = self._cache.get(key)
        if cached is None:
            entries = [
                (step, dose)
                for steps in self._resolved[phase_number]
                for step, dose, _ in _step_on(steps, offset)
                if not step.weekdays or weekday in step.weekdays
            ]
            drugs = tuple(dose for _, dose in entries)
            own = tuple(
                _own_product(dose, step) for step, dose in entries if not step.weight_banded
            )
            cached = (drugs, self.banded[phase_number] + own)
            self._cache[key] = cached
        return cached


_TABLES_KEPT = 512
_tables: dict[
    tuple[int, float | None, int, int],
    tuple[Regimen, BandTable, ProductSet | None, _DoseTable],
] = {}


def _dose_table(
    regimen: Regimen, weight_kg: float | None, table: BandTable, chosen: ProductSet | None
) -> _DoseTable:
    """The `_DoseTable` of these, shared by every enrolment that has them: the horizon job
    plans every patient each day, and patients on one regimen and weight (or band table and
    product set) have the same doses. Keyed by the objects' identities, which the entry
    keeps alive (so no other object can take an identity while it is kept); regimens,
    tables and product sets are immutable. At most `_TABLES_KEPT` are kept."""
    key = (id(regimen), weight_kg, id(table), id(chosen))
    kept = _tables.get(key)
    if kept is not None:
        return kept[3]
    if len(_tables) >= _TABLES_KEPT:
        _tables.clear()
    doses = _DoseTable(regimen, weight_kg, table, chosen)
    _tables[key] = (regimen, table, chosen, doses)
    return doses


def _combination(phase: Phase, tablets: int | None) -> tuple[ProductDose, ...]:
    """The phase's fixed-dose combination: one product, the band's count of tablets."""
    contents = tuple(
        (drug.name, step.mg_per_tablet)
        for drug in phase.drugs
        for step in drug.steps[:1]
        if step.weight_banded
    )
    return (ProductDose(phase.combination, tablets, contents),) if contents else ()


def _products(chosen: ProductSet, phase: str, weight_kg: float | None) -> tuple[ProductDose, ...]:
    return tuple(
        ProductDose(
            product.name,
            product.tablets_for(weight_kg),
            tuple((i.drug, i.mg) for i in product.contains),
        )
        for product in chosen.products(phase)
    )


def _separate(chosen: ProductSet, phase: str, weight_kg: float | None) -> dict[str, DrugDose]:
    """The dose of each weight-banded drug when it comes in the chosen set's products."""
    out: dict[str, DrugDose] = {}
    for product in chosen.products(phase):
        count = product.tablets_for(weight_kg)
        for ingredient in product.contains:
            mg = None if count is None else count * ingredient.mg
            out[ingredient.drug] = DrugDose(ingredient.drug, mg, count)
    return out


def _own_product(dose: DrugDose, step: DoseStep) -> ProductDose:
    """A drug that is not part of a weight-banded product is its own kind of tablet."""
    strength = None
    if step.mg is not None and step.tablets:
        strength = step.mg / step.tablets
    return ProductDose(dose.name, dose.tablets, ((dose.name, strength),), mg=dose.mg)


def _step_on(
    steps: list[tuple[DoseStep, DrugDose, int | None]], offset: int
) -> list[tuple[DoseStep, DrugDose, int | None]]:
    """The step in force `offset` days into the phase; none once a drug whose last step has
    `for_days` has stopped (linezolid for the first 2 months of a longer phase)."""
    for entry in steps:
        until = entry[2]
        if until is None or offset < until:
            return [entry]
    return []


def _dose(name: str, step: DoseStep, band_tablets: int | None, number: int) -> DrugDose:
    if step.mg_per_tablet is not None:
        if band_tablets is None:
            return DrugDose(name, None, None, number)
        return DrugDose(
            name, band_tablets * step.mg_per_tablet, band_tablets, number, combined=True
        )
    return DrugDose(name, step.mg, step.tablets, number)


def dose_for_step(
    name: str, step: DoseStep, weight_kg: float | None, table: BandTable, number: int = 0
) -> DrugDose:
    """The dose a drug step gives this patient (see `_DoseTable` for the three forms)."""
    tablets = None if weight_kg is None else table.tablets_for(weight_kg)
    return _dose(name, step, tablets, number)


def weight_moves_tablets(
    enrolment: Enrolment, weight_kg: float, catalogue: Catalogue | None = None
) -> bool:
    """Whether dosing by `weight_kg` instead of the enrolment's weight changes any tablet
    count of any phase (the combination's band, or a separate product's own band)."""
    catalogue = catalogue or load_catalogue()
    table = load_weight_bands().table(enrolment.band_table)
    for segment in segments(enrolment, catalogue):
        chosen = segment.regimen.product_set(enrolment.product_set)
        now = _DoseTable(segment.regimen, enrolment.weight_kg, table, chosen)
        then = _DoseTable(segment.regimen, weight_kg, table, chosen)
        if now.banded != then.banded:
            return True
    return False


def dose_notices(enrolment: Enrolment, catalogue: Catalogue | None = None) -> tuple[Reason, ...]:
    """Why some doses in the plan show no mg or tablets, so the bot can say why.

    `weight_needed_for_tablets`: a weight-banded drug and no weight given;
    `weight_outside_bands_talk_to_clinician`: the weight is in no band of the table;
    `dose_as_prescribed`: a drug whose dose the catalogue cannot give.
    """
    table = load_weight_bands().table(enrolment.band_table)
    notices: list[Reason] = []
    for segment in segments(enrolment, catalogue):
        steps = [s for p in segment.regimen.phases for d in p.drugs for s in d.steps]
        if any(s.weight_banded for s in steps):
            if enrolment.weight_kg is None:
                notices.append(Reason.WEIGHT_NEEDED)
            elif table.tablets_for(enrolment.weight_kg) is None:
                notices.append(Reason.WEIGHT_OUTSIDE_BANDS)
        if any(s.mg is None and not s.weight_banded for s in steps):
            notices.append(Reason.DOSE_AS_PRESCRIBED)
    return tuple(dict.fromkeys(notices))
