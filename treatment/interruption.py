"""Interruption rules: what the tracker says after doses stop.

Rules and thresholds: ATS/CDC/IDSA 2016 pocket guide table 5 for the intensive and
continuation phases, WHO 2022 table 10.1 for loss to follow-up; the numbers are in
`treatment/data/rules.toml`. Whenever a rule ends in a clinical decision (restart,
extend, reassess) the status is a `..._talk_to_clinician` code: the bot never prescribes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from treatment.codes import Reason, Severity
from treatment.enrolment import Pause
from treatment.events import ClassifiedSlot, SlotState, Status
from treatment.regimen import PhaseKind
from treatment.rules import Rules


@dataclass(frozen=True, slots=True)
class Lapse:
    """A run of consecutive missed or unanswered doses.

    `days` counts calendar days from the first missed dose to the next dose taken (or to
    today if none yet), leaving out paused days: a pause is not a lapse.
    """

    segment: int
    phase: str
    phase_kind: PhaseKind
    first_missed: date
    resumed: date | None
    days: int

    @property
    def ongoing(self) -> bool:
        return self.resumed is None


@dataclass(frozen=True, slots=True)
class PhaseFacts:
    """What the rules need to know about one phase of the current regimen."""

    name: str
    kind: PhaseKind
    doses_required: int
    doses_taken: int
    projected_end: date | None
    window_deadline: date | None


def find_lapses(
    slots: Sequence[ClassifiedSlot], today: date, pauses: Sequence[Pause]
) -> list[Lapse]:
    """Lapses among due slots, in order.

    1. Walk due slots; skipped-on-advice and open slots neither start nor end a lapse.
    2. A missed or unanswered slot starts a lapse if none is running.
    3. A taken slot ends the running lapse; its date is the resumption date.
    4. A lapse still running at the end is ongoing and measured to `today`.
    """
    lapses: list[Lapse] = []
    start: ClassifiedSlot | None = None
    for item in slots:
        if item.state is SlotState.FUTURE:
            break
        if item.lapsed and start is None:
            start = item
        elif item.state is SlotState.TAKEN and start is not None:
            lapses.append(_lapse(start, item.slot.local_date, today, pauses))
            start = None
    if start is not None:
        lapses.append(_lapse(start, None, today, pauses))
    return lapses


def _lapse(
    start: ClassifiedSlot, resumed: date | None, today: date, pauses: Sequence[Pause]
) -> Lapse:
    first = start.slot.local_date
    end = resumed if resumed is not None else today
    days = max(0, (end - first).days - _paused_days(pauses, first, end))
    return Lapse(
        segment=start.slot.segment,
        phase=start.slot.phase,
        phase_kind=start.slot.phase_kind,
        first_missed=first,
        resumed=resumed,
        days=days,
    )


def _paused_days(pauses: Sequence[Pause], first: date, end: date) -> int:
    total = 0
    for pause in pauses:
        low = max(pause.start, first)
        high = min(pause.end or end, end - timedelta(days=1))
        if high >= low:
            total += (high - low).days + 1
    return total


def assess(
    *,
    phases: Sequence[PhaseFacts],
    lapses: Sequence[Lapse],
    segment: int,
    started: bool,
    complete: bool,
    projected_completion: date | None,
    complete_by: date | None,
    rules: Rules,
) -> list[Status]:
    """The interruption statuses of the current regimen, loudest first.

    1. Complete: `treatment_complete`, nothing else. Not started: `not_started`.
    2. An ongoing lapse of `lost_to_follow_up.consecutive_days` or more: WHO's lost to
       follow-up (talk to a clinician); of `warn_after_days` or more: `lapse_warning`.
    3. Intensive phase: a lapse of 14 days or more is a treatment interruption (clinician
       may restart); shorter lapses continue, but the projected end of the intensive phase
       must stay within its window (3 months) or a clinician must decide.
    4. Continuation phase, after any lapse: 80% or more of its doses taken, continue (the
       clinician decides whether more is needed); under 80%, cumulative lapse of 3 months
       or more is an interruption; otherwise complete all doses, unless one lapse exceeded
       2 months (clinician).
    5. The projected completion after the regimen's window: clinician.
    6. Nothing found: `on_track`.
    """
    if complete:
        return [Status(Reason.TREATMENT_COMPLETE, Severity.OK, "all required doses are taken")]
    if not started:
        return [Status(Reason.NOT_STARTED, Severity.OK, "no dose is due yet")]
    found: list[Status] = []
    ongoing = next((lapse for lapse in lapses if lapse.ongoing), None)
    if ongoing is not None and ongoing.days >= rules.lost_to_follow_up_days:
        found.append(
            Status(
                Reason.LOST_TO_FOLLOW_UP,
                Severity.CLINICIAN,
                f"no dose taken for {ongoing.days} days: treatment interrupted for 2 months "
                "or more; talk to a clinician",
            )
        )
    elif ongoing is not None and ongoing.days >= rules.lapse_warning_days:
        found.append(
            Status(
                Reason.LAPSE_WARNING,
                Severity.WARNING,
                f"no dose taken for {ongoing.days} days",
            )
        )
    current = [lapse for lapse in lapses if lapse.segment == segment]
    for phase in phases:
        phase_lapses = [lapse for lapse in current if lapse.phase == phase.name]
        if phase.kind is PhaseKind.INTENSIVE:
            found.extend(_intensive(phase, phase_lapses, rules))
        elif phase.kind is PhaseKind.CONTINUATION and phase_lapses:
            found.append(_continuation(phase, phase_lapses, rules))
    if (
        complete_by is not None
        and projected_completion is not None
        and projected_completion > complete_by
    ):
        found.append(
            Status(
                Reason.COMPLETION_WINDOW_CANNOT_BE_MET,
                Severity.CLINICIAN,
                f"the last dose is projected for {projected_completion.isoformat()}, after the "
                f"window ends on {complete_by.isoformat()}; talk to a clinician",
            )
        )
    if not found:
        found.append(Status(Reason.ON_TRACK, Severity.OK, "doses are on track"))
    return sorted(found, key=lambda status: -status.severity.rank)


def _intensive(phase: PhaseFacts, lapses: Sequence[Lapse], rules: Rules) -> list[Status]:
    found: list[Status] = []
    longest = max((lapse.days for lapse in lapses), default=None)
    if longest is not None and longest >= rules.intensive_lapse_days:
        found.append(
            Status(
                Reason.INTENSIVE_INTERRUPTION,
                Severity.CLINICIAN,
                f"a lapse of {longest} days in the intensive phase is a treatment interruption; "
                "talk to a clinician",
            )
        )
    elif longest is not None:
        found.append(
            Status(
                Reason.INTENSIVE_LAPSE_CONTINUE,
                Severity.INFO,
                "continue: every intensive dose must still be taken within its window",
            )
        )
    if (
        phase.doses_taken < phase.doses_required
        and phase.window_deadline is not None
        and phase.projected_end is not None
        and phase.projected_end > phase.window_deadline
    ):
        found.append(
            Status(
                Reason.INTENSIVE_WINDOW_CANNOT_BE_MET,
                Severity.CLINICIAN,
                f"the intensive phase would end on {phase.projected_end.isoformat()}, after "
                f"its window ends on {phase.window_deadline.isoformat()}; talk to a clinician",
            )
        )
    return found


def _continuation(phase: PhaseFacts, lapses: Sequence[Lapse], rules: Rules) -> Status:
    if phase.doses_taken * 100 >= rules.continuation_min_taken_percent * phase.doses_required:
        return Status(
            Reason.CONTINUATION_OVER_80_CONTINUE,
            Severity.INFO,
            "continue; at least 80% of continuation doses are taken and the clinician "
            "decides whether more is needed",
        )
    cumulative = sum(lapse.days for lapse in lapses)
    if cumulative >= rules.continuation_cumulative_lapse_days:
        return Status(
            Reason.CONTINUATION_INTERRUPTION,
            Severity.CLINICIAN,
            f"lapses add up to {cumulative} days in the continuation phase: a treatment "
            "interruption; talk to a clinician",
        )
    if any(lapse.days > rules.continuation_single_lapse_days for lapse in lapses):
        return Status(
            Reason.CONTINUATION_LONG_LAPSE,
            Severity.CLINICIAN,
            "one lapse in the continuation phase was over 2 months; talk to a clinician",
        )
    return Status(
        Reason.CONTINUATION_COMPLETE_ALL_DOSES,
        Severity.INFO,
        "continue and complete all doses",
    )
