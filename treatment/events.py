"""Dose events as recorded, and the state of each slot they imply."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from treatment.codes import ErrorCode, Reason, Severity
from treatment.errors import TreatmentError
from treatment.plan import DoseSlot


class EventKind(StrEnum):
    """What happened to a slot. `skipped_on_advice` is a dose a clinician told the patient
    not to take: it does not count as taken and does not count against adherence."""

    TAKEN = "taken"
    MISSED = "missed"
    SKIPPED_ON_ADVICE = "skipped_on_advice"
    NO_REPLY = "no_reply"


class SlotState(StrEnum):
    TAKEN = "taken"
    MISSED = "missed"
    NO_REPLY = "no_reply"
    SKIPPED_ON_ADVICE = "skipped_on_advice"
    OPEN = "open"
    """Due, with no event yet: the scheduler closes every slot with an event at the end of its
    dose window; until then the slot counts neither way and is projected as taken."""
    FUTURE = "future"


NOT_TAKEN_KINDS = frozenset({EventKind.MISSED, EventKind.NO_REPLY, EventKind.SKIPPED_ON_ADVICE})


@dataclass(frozen=True, slots=True)
class DoseEvent:
    """A recorded outcome of the slot `key`; `at` is when a dose was taken (aware)."""

    key: str
    kind: EventKind
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.at is not None and self.at.utcoffset() is None:
            raise TreatmentError(
                ErrorCode.INVALID_EVENT,
                "the time a dose was taken must be an aware datetime (with a zone)",
                field="at",
            )


@dataclass(frozen=True, slots=True)
class ClassifiedSlot:
    slot: DoseSlot
    state: SlotState
    taken_at: datetime | None

    @property
    def lapsed(self) -> bool:
        return self.state in (SlotState.MISSED, SlotState.NO_REPLY)


@dataclass(frozen=True, slots=True)
class Status:
    """A finding for the patient and helper: `code` is translated by the bot; `until` is the
    instant a deadline or "not before" refers to, when there is one."""

    code: Reason
    severity: Severity
    message: str
    until: datetime | None = None


def latest_events(events: Iterable[DoseEvent]) -> dict[str, DoseEvent]:
    """Events by slot key; a later event for the same slot replaces an earlier one
    (a "missed" corrected to "taken" by the patient's late report)."""
    return {event.key: event for event in events}


def classify(slot: DoseSlot, event: DoseEvent | None, now: datetime) -> ClassifiedSlot:
    if event is None:
        state = SlotState.OPEN if slot.utc <= now else SlotState.FUTURE
        return ClassifiedSlot(slot, state, None)
    if event.kind is EventKind.TAKEN:
        return ClassifiedSlot(slot, SlotState.TAKEN, event.at or slot.utc)
    return ClassifiedSlot(slot, SlotState(event.kind.value), None)
