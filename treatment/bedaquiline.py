"""Bedaquiline missed-dose rules (WHO operational handbook, drug-resistant TB, section 5.2.4).

* A missed dose in the 2-week daily loading is not made up (the plan's loading step counts
  calendar days, so nothing is added; the status only explains it).
* In the three-times-weekly phase a dose remembered within its 48-hour window is taken at
  once, and the next one 48 hours after that.
* A gap over 2 weeks and under 8 weeks means re-loading (daily for 7 days); over 8 weeks the
  regimen must be reassessed. Both are a clinician's decision, so the tracker says "talk to a
  clinician" and never adds doses itself.

The gap is measured from the last bedaquiline dose taken to the next one the plan expects (or
to now when none is left), so a long pause is caught before the patient resumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from treatment.codes import Reason, Severity
from treatment.events import ClassifiedSlot, SlotState, Status
from treatment.regimen import Regimen
from treatment.rules import Rules

BEDAQUILINE = "bedaquiline"
LOADING_STEP = 0


def in_regimen(regimen: Regimen) -> bool:
    return any(drug.name == BEDAQUILINE for phase in regimen.phases for drug in phase.drugs)


def _bedaquiline_step(item: ClassifiedSlot) -> int | None:
    for dose in item.slot.drugs:
        if dose.name == BEDAQUILINE:
            return dose.step
    return None


def assess(slots: Sequence[ClassifiedSlot], now: datetime, rules: Rules) -> list[Status]:
    """Bedaquiline statuses for the slots of the current regimen.

    1. Keep slots that contain bedaquiline; none: no status.
    2. Gap = next expected bedaquiline slot (or now) minus the last dose taken (or, before any,
       the first slot). Over the reassess gap: reassess; over the reload gap: re-load. Either
       ends in a clinician's decision, and the other rules wait.
    3. The latest due bedaquiline slot missed or unanswered: in loading, not made up (info);
       in the three-times-weekly phase, within 48 h: take it now (deadline in `until`);
       after 48 h: talk to a clinician.
    4. In the three-times-weekly phase, the last dose taken less than 48 h before the next
       planned one (it was taken late): the next one not before 48 h after it (`until`).
       Loading doses are daily by design, so the rule does not apply to them.
    """
    bdq = [(item, step) for item in slots if (step := _bedaquiline_step(item)) is not None]
    due = [(item, step) for item, step in bdq if item.state is not SlotState.FUTURE]
    if not due:
        return []
    taken = [item for item, _ in due if item.state is SlotState.TAKEN]
    upcoming = next((item for item, _ in bdq if item.state is SlotState.FUTURE), None)
    last_intake = max((i.taken_at for i in taken if i.taken_at is not None), default=None)
    reference = last_intake if last_intake is not None else due[0][0].slot.utc
    gap_end = upcoming.slot.utc if upcoming is not None else now
    gap = max(gap_end, now) - reference
    if gap > timedelta(days=rules.bedaquiline_reassess_gap_days):
        return [
            Status(
                Reason.BEDAQUILINE_REASSESS,
                Severity.CLINICIAN,
                f"over {rules.bedaquiline_reassess_gap_days // 7} weeks without bedaquiline: "
                "the regimen must be reassessed; talk to a clinician",
            )
        ]
    if gap > timedelta(days=rules.bedaquiline_reload_gap_days):
        return [
            Status(
                Reason.BEDAQUILINE_RELOAD,
                Severity.CLINICIAN,
                f"over {rules.bedaquiline_reload_gap_days // 7} weeks without bedaquiline: "
                f"re-loading ({rules.bedaquiline_reload_daily_doses} daily doses) is needed; "
                "talk to a clinician before the next dose",
            )
        ]
    found: list[Status] = []
    latest, latest_step = due[-1]
    window = timedelta(hours=rules.bedaquiline_window_hours)
    if latest.lapsed and latest_step == LOADING_STEP and len(_steps(bdq)) > 1:
        found.append(
            Status(
                Reason.BEDAQUILINE_LOADING_MISSED,
                Severity.INFO,
                "a missed loading dose of bedaquiline is not made up; continue as planned",
            )
        )
    elif latest.lapsed and now < latest.slot.utc + window:
        found.append(
            Status(
                Reason.BEDAQUILINE_TAKE_WITHIN_48H,
                Severity.WARNING,
                "take the missed bedaquiline dose now; the next one 48 hours after it",
                until=latest.slot.utc + window,
            )
        )
    elif latest.lapsed:
        found.append(
            Status(
                Reason.BEDAQUILINE_WINDOW_PASSED,
                Severity.CLINICIAN,
                "a bedaquiline dose was missed for more than 48 hours; talk to a clinician",
            )
        )
    last_taken = next((s for i, s in reversed(due) if i.state is SlotState.TAKEN), None)
    maintenance = len(_steps(bdq)) > 1 and last_taken not in (None, LOADING_STEP)
    if maintenance and last_intake is not None and upcoming is not None:
        not_before = last_intake + window
        if upcoming.slot.utc < not_before and now < not_before:
            found.append(
                Status(
                    Reason.BEDAQUILINE_NEXT_NOT_BEFORE,
                    Severity.INFO,
                    "the next bedaquiline dose must wait 48 hours after the last one",
                    until=not_before,
                )
            )
    return found


def _steps(bdq: Sequence[tuple[ClassifiedSlot, int]]) -> set[int]:
    return {step for _, step in bdq}
