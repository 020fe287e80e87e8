"""The steps of one dose: reminder, nudges, and the end of its window.

A dose slot becomes a short list of timers. Each is a row the engine claims when it comes due,
so what happens to a dose survives restarts and is shared by several workers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_NUDGES = (timedelta(minutes=30), timedelta(hours=2))
DEFAULT_WINDOW = timedelta(hours=6)


class Step(enum.StrEnum):
    REMIND = "remind"
    NUDGE = "nudge"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A local time span with no nudges; `start > end` wraps past midnight (22:00-07:00)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, local: datetime) -> datetime:
        """The first local instant at or after `local` where quiet hours are over."""
        candidate = local.replace(
            hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0
        )
        if candidate <= local:
            candidate += timedelta(days=1)
        return candidate


@dataclass(frozen=True, slots=True)
class LadderSettings:
    nudges: tuple[timedelta, ...] = DEFAULT_NUDGES
    window: timedelta = DEFAULT_WINDOW
    quiet: QuietHours | None = None


@dataclass(frozen=True, slots=True)
class Timer:
    step: Step
    at: datetime  # aware, UTC


def ladder(
    due: datetime, next_due: datetime | None, zone: str, settings: LadderSettings
) -> list[Timer]:
    """The timers of one dose, in time order.

    Steps:
    1. The window closes `settings.window` after the due instant, or at the next dose if that
       comes sooner: two open reminders for the same pills would invite a double dose.
    2. The reminder fires at the due instant. The patient chose that time, so quiet hours do
       not apply to it.
    3. Each nudge falls at its offset after the due instant. One that lands in quiet hours moves
       to the end of the quiet hours; a nudge that would then fall at or after the close of the
       window, or on the same instant as an earlier nudge, is dropped.
    4. The close step comes last, at the end of the window.
    """
    close = due + settings.window
    if next_due is not None and next_due < close:
        close = next_due
    timers = [Timer(Step.REMIND, due)]
    tz = ZoneInfo(zone)
    last = due
    for offset in sorted(settings.nudges):
        at = due + offset
        if settings.quiet is not None:
            local = at.astimezone(tz)
            if settings.quiet.contains(local.time()):
                at = settings.quiet.next_end(local.replace(tzinfo=None)).replace(tzinfo=tz)
                at = at.astimezone(due.tzinfo)
        if last < at < close:
            timers.append(Timer(Step.NUDGE, at))
            last = at
    timers.append(Timer(Step.CLOSE, close))
    return timers
