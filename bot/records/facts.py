"""Everything the bot holds about one patient's treatment, read once, as plain values.

The counting is the treatment domain's (`adherence.summarise`, `calendar.build`,
`interruption.find_lapses`), fed with the same store events as `/progress`, so the picture,
the report and the export say the same numbers as the chat.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dialogue.supplies import days_left, plan_supplies
from scheduler.doses import late_keys, treatment_events
from scheduler.visits import Visit
from storage.records import EnrolmentRecord, Patient, StockChange, WeightEntry
from storage.store import Repositories, Store
from treatment import calendar, interruption
from treatment.adherence import AdherenceSummary, classify_plan, summarise
from treatment.calendar import Calendar
from treatment.catalogue import load_catalogue
from treatment.enrolment import Enrolment
from treatment.events import ClassifiedSlot, DoseEvent, SlotState
from treatment.interruption import Lapse
from treatment.regimen import Regimen
from treatment.segments import segments
from treatment.switching import SegmentCount, segment_counts
from treatment.triage import Level


@dataclass(frozen=True, slots=True)
class SideEffect:
    at: datetime
    """When it was reported, in the patient's zone."""
    symptoms: tuple[str, ...]
    level: Level
    free_text: str | None


@dataclass(frozen=True, slots=True)
class MoodCheck:
    at: datetime
    instrument: str
    """"phq2" or "phq9"."""
    score: int


@dataclass(frozen=True, slots=True)
class Record:
    """One patient's treatment as of `now`; every datetime is in the patient's zone."""

    alias: str
    language: str
    zone: str
    discreet: bool
    now: datetime
    regimen: Regimen
    start: date
    times: tuple[time, ...]
    weight_kg: float | None
    """The weight the tablet counts follow (the plan's)."""
    weights: tuple[WeightEntry, ...]
    """Every weight the patient gave, oldest first; empty for a patient set up before the
    history was kept (then `weight_kg` is all there is, undated)."""
    summary: AdherenceSummary
    calendar: Calendar
    slots: tuple[ClassifiedSlot, ...]
    """Every slot of the plan, past and projected (`adherence.classify_plan`)."""
    late: frozenset[str]
    lapses: tuple[Lapse, ...]
    side_effects: tuple[SideEffect, ...]
    moods: tuple[MoodCheck, ...]
    stock: Mapping[str, int]
    stock_days_left: Mapping[str, int | None]
    stock_counted_at: datetime | None
    stock_changes: tuple[StockChange, ...]
    """Every change of a tablet count, oldest first."""
    segments: tuple[SegmentCount, ...] = ()
    """Each regimen followed, oldest first (more than one after a clinician's switch)."""
    visits: tuple[Visit, ...] = ()
    """Clinic visits and tests the patient noted, soonest first."""

    @property
    def due(self) -> Sequence[ClassifiedSlot]:
        return [item for item in self.slots if item.state is not SlotState.FUTURE]

    @property
    def today(self) -> date:
        return self.calendar.today

    @property
    def last_side_effect(self) -> SideEffect | None:
        return self.side_effects[-1] if self.side_effects else None


LEVELS = {"reassure": Level.REASSURE, "soon": Level.SOON, "red_flag": Level.RED_FLAG}


async def gather(
    store: Store | Repositories, patient: Patient, enrolment: EnrolmentRecord, now: datetime
) -> Record:
    """Read the patient's doses, side effects, mood check-ins and tablets, and `assemble`
    them. Slots are read from the day before the start (a zone east of UTC); events are the
    domain's (`scheduler.doses.treatment_events`, the bridge `/progress` uses)."""
    plan = enrolment.enrolment
    since = datetime.combine(plan.start, time.min, tzinfo=UTC) - timedelta(days=1)
    stored_slots = await store.doses.slots_between(patient.id, since, now + timedelta(days=1))
    stored_events = await store.doses.events(patient.id)
    stocked = await store.pill_stock.get(patient.id)
    history = await store.measurements.history(patient.id)
    return assemble(
        patient,
        plan,
        now,
        events=treatment_events(stored_slots, stored_events),
        late=late_keys(stored_slots, stored_events),
        side_effects=[
            SideEffect(
                report.recorded_at, tuple(report.symptoms), LEVELS[report.level], report.free_text
            )
            for report in await store.side_effects.for_patient(patient.id)
            if report.level in LEVELS
        ],
        moods=[
            MoodCheck(s.recorded_at, s.instrument, s.score)
            for s in await store.mood.for_patient(patient.id)
        ],
        stock=dict(stocked.counts) if stocked else {},
        stock_counted_at=stocked.updated_at if stocked else None,
        weights=[e for e in history if isinstance(e, WeightEntry)],
        stock_changes=[e for e in history if isinstance(e, StockChange)],
        visits=[Visit.of(a.details) for a in await store.appointments.for_patient(patient.id)],
    )


def assemble(
    patient: Patient,
    plan: Enrolment,
    now: datetime,
    *,
    events: Sequence[DoseEvent],
    late: Collection[str] = frozenset(),
    side_effects: Sequence[SideEffect] = (),
    moods: Sequence[MoodCheck] = (),
    stock: Mapping[str, int] | None = None,
    stock_counted_at: datetime | None = None,
    weights: Sequence[WeightEntry] = (),
    stock_changes: Sequence[StockChange] = (),
    visits: Sequence[Visit] = (),
) -> Record:
    """Count, as of `now`.

    1. Summary and classified plan from the same events (`adherence`).
    2. Side effects by local day: the highest level of a day marks the calendar.
    3. The calendar; lapses by the interruption rules' own walk.
    4. Tablets left at today's use; every time in the patient's zone, the weights and
       stock changes included.
    """
    zone = ZoneInfo(patient.time_zone)
    catalogue = load_catalogue()
    summary = summarise(plan, events, now, catalogue=catalogue)
    slots = classify_plan(plan, events, now, catalogue=catalogue)
    local_effects = tuple(replace(e, at=e.at.astimezone(zone)) for e in side_effects)
    worst: dict[date, Level] = {}
    for effect in local_effects:
        day = effect.at.date()
        worst[day] = max(worst.get(day, effect.level), effect.level)
    cal = calendar.build(
        plan, slots, now, last_dose=summary.projected_completion, late=late, side_effects=worst
    )
    due = [item for item in slots if item.state is not SlotState.FUTURE]
    lapses = interruption.find_lapses(due, cal.today, plan.pauses) if due else []
    counts = dict(stock or {})
    _, per_day = plan_supplies(plan, now)
    return Record(
        alias=patient.alias,
        language=patient.language,
        zone=patient.time_zone,
        discreet=patient.discreet,
        now=now.astimezone(zone),
        regimen=next(
            part.regimen
            for part in segments(plan, catalogue)
            if part.regimen.id == summary.regimen_id
        ),
        start=plan.start,
        times=plan.times,
        weight_kg=plan.weight_kg,
        weights=tuple(replace(w, at=w.at.astimezone(zone)) for w in weights),
        summary=summary,
        calendar=cal,
        slots=tuple(slots),
        late=frozenset(late),
        lapses=tuple(lapses),
        side_effects=local_effects,
        moods=tuple(replace(m, at=m.at.astimezone(zone)) for m in moods),
        stock=counts,
        stock_days_left=days_left(counts, per_day),
        stock_counted_at=stock_counted_at.astimezone(zone) if stock_counted_at else None,
        stock_changes=tuple(replace(c, at=c.at.astimezone(zone)) for c in stock_changes),
        segments=tuple(segment_counts(plan, slots)),
        visits=tuple(sorted(visits, key=lambda visit: visit.at)),
    )
