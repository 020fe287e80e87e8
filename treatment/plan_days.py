"""Day and instant arithmetic for the plan's walk (`treatment.plan.iter_slots`): dose times
as UTC instants across clock changes, and the stretches of days that can be counted without
being walked.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from treatment.enrolment import Enrolment, Pause


class Breaks:
    """Where the count of slots per day may differ from the regimen's pattern: step 7 of
    `iter_slots` counts only between these.

    Pause starts, the dates of not-taken keys, time changes, and zone changes with the two
    days after them (a zone change eastwards can make the next days' first dose fall before
    the last one in the old zone); and each zone's clock changes (`clock_change_days`).
    """

    def __init__(self, enrolment: Enrolment, not_taken: Collection[str]) -> None:
        dates = {pause.start for pause in enrolment.pauses}
        dates.update(change.effective for change in enrolment.time_changes)
        for change in enrolment.zone_changes:
            dates.update(change.effective + timedelta(days=k) for k in range(3))
        for key in not_taken:
            try:
                dates.add(date.fromisoformat(key[:10]))
            except ValueError:
                continue  # not a slot's key: it never matches one
        self._dates = sorted(dates)

    def regular_until(self, day: date, limit: date, zone_name: str) -> date:
        """The first date from `day` on (before `limit`) that must be walked."""
        found = bisect.bisect_left(self._dates, day)
        if found < len(self._dates):
            limit = min(limit, self._dates[found])
        changes = clock_change_days(zone_name, day.year)
        found = bisect.bisect_left(changes, day)
        if found < len(changes):
            limit = min(limit, changes[found])
        return min(limit, date(day.year + 1, 1, 1))


CLOCK_PROBE = timedelta(hours=3)


@functools.lru_cache(maxsize=2048)
def clock_change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """The local dates of `year` (and a few days around it) near which `zone_name`'s UTC
    offset changes, sorted: three days either side of each change, which covers every local
    date whose dose times or whose neighbour's a change can move.

    The offset is read every three hours of UTC time (about 3,000 readings, once per zone and
    year in a process): a change undone within three hours would be missed, and tzdata has
    none.
    """
    zone = ZoneInfo(zone_name)
    probe = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=4)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) + timedelta(days=4)
    offset = probe.astimezone(zone).utcoffset()
    marked: set[date] = set()
    while probe < end:
        probe += CLOCK_PROBE
        now = probe.astimezone(zone).utcoffset()
        if now != offset:
            offset = now
            marked.update(probe.date() + timedelta(days=k) for k in range(-3, 4))
    return tuple(sorted(marked))


def countable_days(
    day: date,
    until: date,
    pattern: frozenset[int],
    times: tuple[tuple[int, time], ...],
    remaining: int,
) -> int:
    """How many pattern days from `day` (before `until`) step 7 may count at once: each
    gives one slot per dose time, and the phase must not end within them. Zero when the
    dose times are not in increasing order (the walk then drops some, step 5)."""
    if until <= day or not pattern or not times or remaining <= len(times):
        return 0
    if any(a[1] >= b[1] for a, b in itertools.pairwise(times)):
        return 0
    weeks, rest = divmod((until - day).days, 7)
    first = day.weekday()
    days = weeks * len(pattern) + sum(1 for k in range(rest) if (first + k) % 7 in pattern)
    return min(days, (remaining - 1) // len(times))


def nth_pattern_day(start: date, pattern: frozenset[int], n: int) -> date:
    """The `n`-th date (from 1) on or after `start` whose weekday is in `pattern`."""
    weeks, left = divmod(n - 1, len(pattern))
    day = start + timedelta(weeks=weeks)
    left += 1
    while True:
        if day.weekday() in pattern:
            left -= 1
            if left == 0:
                return day
        day += timedelta(days=1)


def wall_instant(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(UTC instant, aware local time actually on the clock) of a dose time; step 4 of
    `iter_slots`.

    `datetime.combine` leaves fold=0, which reads an ambiguous time as its first occurrence.
    Converting back and finding a different wall time is how a gap shows itself.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(UTC)
    back = utc.astimezone(zone)
    if back.minute == at.minute and back.hour == at.hour and back.day == day.day:
        return utc, back
    utc = end_of_gap(local, zone)
    return utc, utc.astimezone(zone)


def end_of_gap(local: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant that skipped `local`: the first instant whose wall time is
    later than it, found by bisection (in whole seconds) between the two readings of the
    wall time with the offsets before and after the transition."""
    readings = sorted(local.replace(fold=fold).astimezone(UTC) for fold in (0, 1))
    naive = local.replace(tzinfo=None)
    low, high = readings[0], readings[1]
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        if middle.astimezone(zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle
    return high


def pause_on(pauses: tuple[Pause, ...], day: date) -> Pause | None:
    for pause in pauses:
        if pause.covers(day):
            return pause
    return None
