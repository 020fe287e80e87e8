"""What a patient chose about their reminders and the chat, as one typed record.

Stored sealed as a JSON object on `storage.records.Patient.preferences`; every reader in
`scheduler` and `bot` goes through `Preferences.of(patient)` and every writer through
`Preferences.saved_into`, so no key is spelt twice. Reading is forgiving: a value that is
missing, malformed or from a version that meant something else falls back to its default (a
bad setting must never silence reminders), and keys this version does not know are kept as
they were, so an older worker does not drop a newer setting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from scheduler.ladder import DEFAULT_NUDGES, DEFAULT_WINDOW, LadderSettings, QuietHours
from storage.records import Patient
from treatment.enrolment import parse_time
from treatment.stock import REFILL_WARNING_DAYS

log = logging.getLogger(__name__)

DEFAULT_ESCALATION = timedelta(hours=1)
ESCALATION_CHOICES = (30, 60, 180, 720)  # minutes before an alert goes to the next helper


class Nudges(StrEnum):
    """How many nudges follow an unanswered reminder."""

    TWO = "two"  # +30 min and +2 h (the default ladder)
    ONE = "one"  # +30 min
    NONE = "none"

    def offsets(self, ladder: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        return {Nudges.TWO: ladder, Nudges.ONE: ladder[:1], Nudges.NONE: ()}[self]


@dataclass(frozen=True)
class Preferences:
    """The patient's choices (every default is what a new patient gets).

    - `nudges`, `quiet_hours` (local start and end, may wrap midnight): the reminder ladder;
    - `cover_word`: a neutral word for the medicine in discreet reminders;
    - `delete_after_minutes`: discreet mode deletes sensitive messages after this (0: never);
    - `mood_every_days` (None: the screening rules' interval, 0: never) and
      `mood_offered_at`: the mood check-in offer;
    - `weight_asked_at`: when the monthly weight question was last offered;
    - `contraception_told`: the advice about rifampicin and contraception was given once;
    - `pause_reason`: why reminders are paused, while they are;
    - `refill_warn_days`, `refill_to_helper`, `stock_warned` (products warned about until
      restocked): the refill reminder;
    - `escalate_minutes`: how long an alert waits for a helper before going to the next.
    """

    nudges: Nudges = Nudges.TWO
    quiet_hours: tuple[time, time] | None = None
    cover_word: str | None = None
    delete_after_minutes: int = 0
    mood_every_days: int | None = None
    mood_offered_at: datetime | None = None
    weight_asked_at: datetime | None = None
    contraception_told: bool = False
    pause_reason: str | None = None
    refill_warn_days: int = REFILL_WARNING_DAYS
    refill_to_helper: bool = False
    stock_warned: frozenset[str] = frozenset()
    escalate_minutes: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, patient: Patient) -> Preferences:
        return cls.from_dict(patient.preferences)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preferences:
        values: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            if data.get(name) is None:
                continue
            try:
                values[name] = parse(data[name])
            except (TypeError, ValueError):
                log.warning("ignoring a malformed %s preference", name)
        return cls(**values, extra={k: v for k, v in data.items() if k not in _KNOWN})

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the unknown keys as they came, and every choice that differs
        from its default."""
        stored: dict[str, Any] = dict(self.extra)
        default = Preferences()
        for name, dump in _DUMPERS.items():
            value = getattr(self, name)
            if value != getattr(default, name):
                stored[name] = dump(value)
        return stored

    def saved_into(self, patient: Patient) -> Patient:
        return replace(patient, preferences=self.to_dict())

    def quiet(self) -> QuietHours | None:
        return None if self.quiet_hours is None else QuietHours(*self.quiet_hours)

    def ladder(
        self,
        nudges: tuple[timedelta, ...] = DEFAULT_NUDGES,
        window: timedelta = DEFAULT_WINDOW,
    ) -> LadderSettings:
        """The dose ladder for this patient, from the engine's default offsets and window."""
        return LadderSettings(nudges=self.nudges.offsets(nudges), window=window, quiet=self.quiet())

    def escalation_delay(self) -> timedelta:
        if self.escalate_minutes in ESCALATION_CHOICES:
            return timedelta(minutes=self.escalate_minutes)
        return DEFAULT_ESCALATION

    def mood_interval(self, default_days: int) -> int:
        """Days between mood check-in offers (0: never)."""
        return default_days if self.mood_every_days is None else self.mood_every_days


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError("not a whole number")
    return int(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a flag")
    return value


def _span(value: Any) -> tuple[time, time]:
    start, end = value  # two local times, "22:00" and "07:00"
    return parse_time(_text(start)), parse_time(_text(end))


def _products(value: Any) -> frozenset[str]:
    return frozenset(_text(product) for product in value)


_KNOWN = frozenset(f.name for f in fields(Preferences)) - {"extra"}
"""The stored keys this version reads (planning reads every patient's each day)."""

_PARSERS: Mapping[str, Any] = {
    "nudges": Nudges,
    "quiet_hours": _span,
    "cover_word": _text,
    "delete_after_minutes": _int,
    "mood_every_days": _int,
    "mood_offered_at": lambda v: datetime.fromisoformat(_text(v)),
    "weight_asked_at": lambda v: datetime.fromisoformat(_text(v)),
    "contraception_told": _flag,
    "pause_reason": _text,
    "refill_warn_days": _int,
    "refill_to_helper": _flag,
    "stock_warned": _products,
    "escalate_minutes": _int,
}
_DUMPERS: Mapping[str, Any] = {
    **{name: lambda v: v for name in _PARSERS},
    "nudges": lambda v: v.value,
    "quiet_hours": lambda v: [v[0].strftime("%H:%M"), v[1].strftime("%H:%M")],
    "mood_offered_at": lambda v: v.isoformat(),
    "weight_asked_at": lambda v: v.isoformat(),
    "stock_warned": sorted,
}
