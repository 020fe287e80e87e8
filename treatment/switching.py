"""A clinician changes the regimen: from when the change applies, what an extended phase is,
and what each regimen segment counted.

A switch never rewrites history: slots before it keep their regimen (`treatment.plan`
segments), so the doses taken so far stay in the record, and the new regimen is counted from
its own first dose by its own rules. Extending a phase is a switch too, to a regimen made of
what is left of the current one with the phase made longer, so the doses already counted in
that phase are not counted twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from treatment.catalogue import custom_regimen
from treatment.codes import ErrorCode
from treatment.enrolment import Enrolment, RegimenSwitch, parse_times
from treatment.errors import TreatmentError
from treatment.events import ClassifiedSlot, SlotState
from treatment.regimen import PatternKind, Regimen
from treatment.regimen_dict import regimen_to_dict
from treatment.segments import Segment, segments

MAX_EXTENSION_WEEKS = 52
"""An extension longer than a year is not a phase extension but a new regimen."""


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """What one regimen segment of the enrolment counted."""

    number: int
    regimen_id: str
    regimen_name: str
    start: date
    end: date | None
    """The last local date of the segment (None: the segment in force)."""
    doses_taken: int
    doses_required: int
    doses_missed: int


def effective_day(enrolment: Enrolment, today: date, started: Collection[date]) -> date:
    """The local date from which a switch recorded `today` applies: the next dose.

    1. Today, unless a dose of today was already reminded or answered (`started`): that dose
       belongs to the old regimen, so the switch applies from tomorrow.
    2. Never on or before the start or an earlier switch (a segment needs at least a day).
    """
    day = today + timedelta(days=1) if today in started else today
    earliest = max([enrolment.start, *(s.effective for s in enrolment.switches)])
    return max(day, earliest + timedelta(days=1))


def switched(
    enrolment: Enrolment,
    regimen: Regimen,
    effective: date,
    times: Sequence[Any] | None = None,
) -> Enrolment:
    """The enrolment with `regimen` followed from `effective`; checked like every switch."""
    switch = RegimenSwitch(
        effective=effective,
        regimen_id=regimen.id,
        custom_regimen=regimen if regimen.custom else None,
        times=None if times is None else parse_times(times),
    )
    return enrolment.with_switch(switch)


def extended_phase(regimen: Regimen, phase_number: int, counted: int, weeks: int) -> Regimen:
    """What is left of `regimen` when phase `phase_number` (of which `counted` doses are
    already counted) is made `weeks` longer, as a regimen to switch to.

    1. The extra doses are the weeks times the phase's doses per week (its pattern and doses
       per day), so a three-times-weekly phase gets three a week.
    2. Phases before the current one are dropped (they are complete); the current one keeps
       the doses still to take plus the extra ones; later phases are unchanged.
    3. Windows counted from the start of the regimen are dropped: they were set for the
       original length, and a clinician who extends a phase sets the new deadline.
    4. A phase with a loading period (a step limited to its first days) is refused: the new
       segment would load again. Such a change is entered as a switch to the regimen given.
    """
    if not 1 <= weeks <= MAX_EXTENSION_WEEKS:
        raise TreatmentError(
            ErrorCode.INVALID_SWITCH,
            f"an extension is 1 to {MAX_EXTENSION_WEEKS} weeks, got {weeks}",
            field="weeks",
        )
    phase = regimen.phases[phase_number]
    if any(step.for_days is not None for drug in phase.drugs for step in drug.steps):
        raise TreatmentError(
            ErrorCode.INVALID_SWITCH,
            f"phase {phase.name!r} has a loading period; record the new regimen instead",
            field="weeks",
        )
    if phase.pattern.kind is PatternKind.DAILY:
        per_week = 7
    elif phase.pattern.kind is PatternKind.WEEKLY:
        per_week = 1
    else:
        per_week = len(phase.pattern.weekdays)
    extra = weeks * per_week * regimen.doses_per_day
    remaining = max(phase.doses_required - counted, 0) + extra
    data = regimen_to_dict(regimen)
    data.pop("window", None)
    kept: list[dict[str, Any]] = data["phases"][phase_number:]
    for item in kept:
        item.pop("window", None)
    kept[0]["doses_required"] = remaining
    names = {item["name"] for item in kept}
    product_sets = []
    for product_set in data.get("product_sets", []):
        phases = {name: p for name, p in product_set["phases"].items() if name in names}
        if phases:
            product_sets.append({**product_set, "phases": phases})
    return custom_regimen(
        {
            **data,
            "id": f"custom-{regimen.id}+{weeks}w"[:64],
            "name": f"{regimen.name} (+{weeks} weeks)",
            "source": f"a clinician extended a phase of {regimen.id}",
            "phases": kept,
            "product_sets": product_sets,
        }
    )


def segment_counts(enrolment: Enrolment, slots: Sequence[ClassifiedSlot]) -> list[SegmentCount]:
    """Per regimen segment, in order: doses taken, missed (or unanswered) and required, from
    the classified plan (`treatment.adherence.classify_plan`)."""
    parts: tuple[Segment, ...] = segments(enrolment)
    taken = [0] * len(parts)
    missed = [0] * len(parts)
    for item in slots:
        number = item.slot.position.segment
        if item.state is SlotState.TAKEN:
            taken[number] += 1
        elif item.state in (SlotState.MISSED, SlotState.NO_REPLY):
            missed[number] += 1
    return [
        SegmentCount(
            number=part.number,
            regimen_id=part.regimen.id,
            regimen_name=part.regimen.name,
            start=part.start,
            end=None if part.end is None else part.end - timedelta(days=1),
            doses_taken=taken[part.number],
            doses_required=part.regimen.doses_required,
            doses_missed=missed[part.number],
        )
        for part in parts
    ]
