"""Doses due before set-up: counted as the patient says, never assumed.

A patient who began treatment before meeting the bot is asked about the doses since: all
taken, some missed (how many, or on which days), or not sure. Only doses they confirm count as
taken; the rest are not taken, so dose counting moves the last dose later by as many doses.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from treatment.enrolment import Enrolment
from treatment.plan import DoseSlot, iter_slots

MAX_PASSES = 4
"""Which slots exist can depend on which were taken (a phase with other weekdays begins after
its predecessor's last taken dose), so the answer is applied again until it is stable."""


class Earlier(StrEnum):
    ALL = "all"  # every earlier dose taken
    SOME = "some"  # some missed: a count, or the days
    UNSURE = "unsure"  # none is counted as taken


@dataclass(frozen=True, slots=True)
class EarlierDoses:
    """The patient's answer about the doses due between the first dose and set-up."""

    answer: Earlier
    missed_count: int | None = None
    missed_days: tuple[date, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "answer": self.answer.value,
            "count": self.missed_count,
            "days": [d.isoformat() for d in self.missed_days],
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EarlierDoses:
        count = data.get("count")
        days = data.get("days")
        return cls(
            Earlier(str(data["answer"])),
            count if isinstance(count, int) else None,
            tuple(date.fromisoformat(str(d)) for d in days) if isinstance(days, list) else (),
        )


def due_before(
    plan: Enrolment, now: datetime, not_taken: Collection[str] = frozenset()
) -> list[DoseSlot]:
    """The plan's slots due before `now`."""
    out = []
    for slot in iter_slots(plan, not_taken=not_taken):
        if slot.utc >= now:
            break
        out.append(slot)
    return out


def not_taken(plan: Enrolment, now: datetime, earlier: EarlierDoses) -> frozenset[str]:
    """The keys of the slots due before `now` that are not counted as taken.

    1. All taken: none. Not sure: every one.
    2. Missed days: every slot on those local days.
    3. A missed count (the days unknown): that many slots, spread evenly over the period, so
       the count, which sets the end date, is exact and no lapse is made up that the patient
       did not report. A count above the number of slots is capped at it.
    4. Repeat with the keys found until the slots are the same (see `MAX_PASSES`).
    """
    keys: frozenset[str] = frozenset()
    for _ in range(MAX_PASSES):
        slots = due_before(plan, now, keys)
        found = _pick(slots, earlier)
        if found == keys:
            break
        keys = found
    return keys


def _pick(slots: Sequence[DoseSlot], earlier: EarlierDoses) -> frozenset[str]:
    if earlier.answer is Earlier.ALL:
        return frozenset()
    if earlier.answer is Earlier.UNSURE:
        return frozenset(s.key for s in slots)
    if earlier.missed_days:
        days = set(earlier.missed_days)
        return frozenset(s.key for s in slots if s.local_date in days)
    count = min(earlier.missed_count or 0, len(slots))
    if count == 0:
        return frozenset()
    step = len(slots) / count
    return frozenset(slots[int(i * step + step / 2)].key for i in range(count))


def last_dose_day(plan: Enrolment, keys: Collection[str] = frozenset()) -> date | None:
    """The local day of the last dose when every slot not in `keys` is taken."""
    last = None
    for slot in iter_slots(plan, not_taken=keys):
        last = slot.local_date
    return last
