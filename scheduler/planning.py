"""One patient's plan from what was read: which slots to add, replace and remove. Pure.

The engine reads a chunk of patients at once (`storage.repositories.planning`), calls
`plan_changes` for each, and writes all the changes together; planning one patient (the
dialogue's `Engine.enrolled`, see `scheduler.horizon`) is the same with a chunk of one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scheduler.doses import dose_json
from scheduler.ladder import LadderSettings, ladder
from storage.records import DoseSlot, EnrolmentRecord, SlotState
from storage.repositories.planning import PlanningInput, SlotPlan
from treatment.plan import SLOT_DATE_BEFORE_UTC, iter_slots
from treatment.plan import DoseSlot as PlannedSlot


@dataclass
class PlanChange:
    """What planning one patient writes."""

    remove: list[DoseSlot] = field(default_factory=list)
    """Pending slots to delete: changed, no longer planned, or of an ended enrolment."""
    add: list[SlotPlan] = field(default_factory=list)
    planned: dict[str, datetime] = field(default_factory=dict)
    """Enrolment id → the instant it is now planned up to."""


def plan_changes(
    found: PlanningInput, now: datetime, end: datetime, settings: LadderSettings
) -> PlanChange:
    """The changes that bring a patient's slots in ``[now, end)`` in line with the plan.

    1. Pending slots still to come of enrolments no longer active are removed.
    2. For each active enrolment (see `_enrolment_changes`): plan the slots due in
       ``[now, end)`` with the doses not taken so far, so that a missed dose that moves a
       phase boundary shows the right drugs; add the missing ones, replace pending ones
       that changed (time, zone, pause, phase, settings), remove pending ones the plan no
       longer has. Slots already reminded or answered are history and stay as they are.
    3. Each active enrolment is noted planned up to ``end``.
    """
    change = PlanChange()
    active = {record.id for record in found.enrolments}
    by_enrolment: dict[str, list[DoseSlot]] = {}
    for slot in found.future:
        if slot.enrolment_id in active:
            by_enrolment.setdefault(slot.enrolment_id, []).append(slot)
        elif slot.state is SlotState.PENDING:
            change.remove.append(slot)
    for record in found.enrolments:
        not_taken = found.not_taken.get(record.id, frozenset())
        existing = by_enrolment.get(record.id, [])
        _enrolment_changes(change, record, existing, not_taken, settings, now, end)
        change.planned[record.id] = end
    return change


def _enrolment_changes(
    change: PlanChange,
    record: EnrolmentRecord,
    existing: Sequence[DoseSlot],
    not_taken: frozenset[str],
    settings: LadderSettings,
    now: datetime,
    end: datetime,
) -> None:
    """Step 2 of `plan_changes` for one enrolment, given its slots due from ``now`` on."""
    planned: list[PlannedSlot] = []
    following: PlannedSlot | None = None
    since = now.astimezone(UTC).date() - SLOT_DATE_BEFORE_UTC
    for slot in iter_slots(record.enrolment, not_taken=not_taken, since=since):
        if slot.utc < now:
            continue
        if slot.utc >= end:
            following = slot  # its due instant may close the last planned window
            break
        planned.append(slot)
    by_key: Mapping[str, DoseSlot] = {str(slot.dose.get("key")): slot for slot in existing}
    remove: list[DoseSlot] = []
    add: list[SlotPlan] = []
    wanted: set[str] = set()
    for number, slot in enumerate(planned):
        after = planned[number + 1] if number + 1 < len(planned) else following
        timers = ladder(slot.utc, after.utc if after else None, slot.zone, settings)
        dose = dose_json(slot, timers)
        close = timers[-1].at
        wanted.add(slot.key)
        have = by_key.get(slot.key)
        if have is not None:
            if have.state is not SlotState.PENDING:
                continue
            if have.due_at == slot.utc and have.window_ends_at == close and have.dose == dose:
                continue
            remove.append(have)
        add.append(SlotPlan(record.patient_id, record.id, slot.utc, close, dose))
    remove.extend(
        slot
        for key, slot in by_key.items()
        if key not in wanted and slot.state is SlotState.PENDING
    )
    # The unique (enrolment, due instant) pair: a slot that stays holds its instant.
    gone = {slot.id for slot in remove}
    held = {slot.due_at for slot in existing if slot.id not in gone}
    change.remove.extend(remove)
    change.add.extend(plan for plan in add if plan.due_at not in held)
