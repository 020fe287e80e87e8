"""Adherence and dose counting: where a patient stands, given the plan and recorded events.

Treatment is complete when the required doses are taken, not when the calendar runs out. A
slot that was missed, unanswered or skipped on a clinician's advice does not count as taken,
so its phase goes on for one more slot and the projected completion moves later. Skips on
advice do not count against adherence percentages; open slots (due, no event yet) count
neither way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from treatment import bedaquiline, interruption
from treatment.catalogue import Catalogue, load_catalogue
from treatment.codes import ErrorCode, Severity
from treatment.enrolment import Enrolment
from treatment.errors import TreatmentError
from treatment.events import (
    NOT_TAKEN_KINDS,
    ClassifiedSlot,
    DoseEvent,
    SlotState,
    Status,
    classify,
    latest_events,
)
from treatment.plan import iter_slots
from treatment.regimen import PhaseKind
from treatment.rules import Rules, load_rules
from treatment.segments import Segment, segments


@dataclass(frozen=True, slots=True)
class PhaseProgress:
    regimen_id: str
    name: str
    kind: PhaseKind
    doses_required: int
    doses_taken: int
    first_dose: date | None
    projected_end: date | None
    """Local date of the dose that completes the phase, assuming every dose from now on is
    taken (the actual date once it is complete)."""
    window_deadline: date | None
    complete: bool

    @property
    def window_met(self) -> bool | None:
        if self.window_deadline is None or self.projected_end is None:
            return None
        return self.projected_end <= self.window_deadline


@dataclass(frozen=True, slots=True)
class AdherenceSummary:
    regimen_id: str
    phases: tuple[PhaseProgress, ...]
    doses_required: int
    doses_taken: int
    adherence_7d: float | None
    adherence_30d: float | None
    adherence_whole: float | None
    """Fractions 0..1 of closed, non-skipped slots that were taken; None with no such slot."""
    streak: int
    projected_completion: date | None
    """Local date of the last dose if every dose from now on is taken; None while an open
    pause (or a switch still ahead) makes the end unknown."""
    complete_by: date | None
    window_can_be_met: bool | None
    intensive_ends: date | None
    complete: bool
    statuses: tuple[Status, ...]

    @property
    def status(self) -> Status:
        """The loudest status, for a one-line answer."""
        return self.statuses[0]


def summarise(
    enrolment: Enrolment,
    events: Iterable[DoseEvent],
    now: datetime,
    *,
    catalogue: Catalogue | None = None,
    rules: Rules | None = None,
) -> AdherenceSummary:
    """Count doses and apply the rules as of `now` (an aware datetime).

    1. Index events by slot key (a later event for a slot replaces an earlier one).
    2. Generate the whole plan once, with missed, unanswered and skipped slots not counted;
       its last slot is the projected completion.
    3. Classify each slot (taken, missed, no reply, skipped on advice, open, future).
    4. Progress per phase of the current regimen (the one in force at `now`); adherence over
       the last 7 and 30 days and overall; streak of consecutive doses taken.
    5. Statuses: interruption rules, bedaquiline rules, loudest first.
    """
    if now.utcoffset() is None:
        raise TreatmentError(
            ErrorCode.INVALID_EVENT, "`now` must be an aware datetime", field="now"
        )
    catalogue = catalogue or load_catalogue()
    rules = rules or load_rules()
    slots = classify_plan(enrolment, events, now, catalogue=catalogue)
    due = [item for item in slots if item.state is not SlotState.FUTURE]
    parts = segments(enrolment, catalogue)
    today = now.astimezone(due[-1].slot.local.tzinfo).date() if due else None
    # The regimen in force: the last one begun by today (the first before any dose is due).
    segment = parts[0]
    for part in parts:
        if today is not None and part.start <= today:
            segment = part
    mine = (
        slots
        if len(parts) == 1
        else [item for item in slots if item.slot.position.segment == segment.number]
    )
    phases = _progress(segment, mine)
    # An open pause (or the plan horizon) stops the plan before every phase is reached:
    # then no completion date can be projected.
    reached = segment.number == parts[-1].number and all(p.projected_end for p in phases)
    projected = slots[-1].slot.local_date if slots and reached else None
    window = segment.regimen.window
    complete_by = window.deadline(segment.start) if window else None
    complete = segment.number == parts[-1].number and all(p.complete for p in phases)
    statuses = interruption.assess(
        phases=[
            interruption.PhaseFacts(
                p.name,
                p.kind,
                p.doses_required,
                p.doses_taken,
                p.projected_end,
                p.window_deadline,
            )
            for p in phases
        ],
        lapses=interruption.find_lapses(due, today, enrolment.pauses) if today else [],
        segment=segment.number,
        started=bool(due),
        complete=complete,
        projected_completion=projected,
        complete_by=complete_by,
        rules=rules,
    )
    if not complete and bedaquiline.in_regimen(segment.regimen):
        statuses = statuses + bedaquiline.assess(mine, now, rules)
    statuses.sort(key=lambda status: -status.severity.rank)
    if len(statuses) > 1:
        statuses = [s for s in statuses if s.severity is not Severity.OK] or statuses[:1]
    intensive = next((p for p in phases if p.kind is PhaseKind.INTENSIVE), None)
    week, month, whole = _adherence(due, now)
    return AdherenceSummary(
        regimen_id=segment.regimen.id,
        phases=phases,
        doses_required=sum(p.doses_required for p in phases),
        doses_taken=sum(p.doses_taken for p in phases),
        adherence_7d=week,
        adherence_30d=month,
        adherence_whole=whole,
        streak=_streak(due),
        projected_completion=projected,
        complete_by=complete_by,
        window_can_be_met=None
        if complete_by is None or projected is None
        else projected <= complete_by,
        intensive_ends=intensive.projected_end if intensive else None,
        complete=complete,
        statuses=tuple(statuses),
    )


def classify_plan(
    enrolment: Enrolment,
    events: Iterable[DoseEvent],
    now: datetime,
    *,
    catalogue: Catalogue | None = None,
) -> list[ClassifiedSlot]:
    """Every slot of the plan, past and projected, with its state as of `now` (steps 1-3 of
    `summarise`): the one walk of the plan that the summary and the calendar share."""
    by_key = latest_events(events)
    not_taken = {key for key, event in by_key.items() if event.kind in NOT_TAKEN_KINDS}
    return [
        classify(slot, by_key.get(slot.key), now)
        for slot in iter_slots(enrolment, not_taken=not_taken, catalogue=catalogue)
    ]


def _progress(segment: Segment, slots: list[ClassifiedSlot]) -> tuple[PhaseProgress, ...]:
    """Per phase: doses taken, first dose, and the date of the slot that reaches the
    required count when every open or future slot is taken (the projected end)."""
    regimen = segment.regimen
    count = len(regimen.phases)
    taken = [0] * count
    counting = [0] * count
    first: list[date | None] = [None] * count
    ends: list[date | None] = [None] * count
    for item in slots:
        number = item.slot.position.phase_number
        if first[number] is None:
            first[number] = item.slot.local_date
        state = item.state
        if state is SlotState.TAKEN:
            taken[number] += 1
        elif state is not SlotState.OPEN and state is not SlotState.FUTURE:
            continue
        counting[number] += 1
        if counting[number] == regimen.phases[number].doses_required:
            ends[number] = item.slot.local_date
    return tuple(
        PhaseProgress(
            regimen_id=regimen.id,
            name=phase.name,
            kind=phase.kind,
            doses_required=phase.doses_required,
            doses_taken=taken[number],
            first_dose=first[number],
            projected_end=ends[number],
            window_deadline=_phase_deadline(segment, number),
            complete=taken[number] >= phase.doses_required,
        )
        for number, phase in enumerate(regimen.phases)
    )


def _phase_deadline(segment: Segment, number: int) -> date | None:
    window = segment.regimen.phases[number].window
    return window.deadline(segment.start) if window is not None else None


def _adherence(
    due: list[ClassifiedSlot], now: datetime
) -> tuple[float | None, float | None, float | None]:
    """Taken / (taken + missed + unanswered) over the last 7 days, 30 days and all time."""
    week_start = now - timedelta(days=7)
    month_start = now - timedelta(days=30)
    counts = [0, 0, 0, 0, 0, 0]  # taken and closed: week, month, whole
    for item in due:
        state = item.state
        if state is SlotState.TAKEN:
            hit = 1
        elif state is SlotState.MISSED or state is SlotState.NO_REPLY:
            hit = 0
        else:
            continue
        counts[4] += hit
        counts[5] += 1
        if item.slot.utc > month_start:
            counts[2] += hit
            counts[3] += 1
            if item.slot.utc > week_start:
                counts[0] += hit
                counts[1] += 1
    week, month, whole = (counts[i] / counts[i + 1] if counts[i + 1] else None for i in (0, 2, 4))
    return week, month, whole


def _streak(due: list[ClassifiedSlot]) -> int:
    """Consecutive doses taken, counting back from the latest closed slot; skipped-on-advice
    and open slots neither extend nor break it."""
    streak = 0
    for item in reversed(due):
        if item.state is SlotState.TAKEN:
            streak += 1
        elif item.lapsed:
            break
    return streak
