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

    Pause starts, time changes, and zone changes with the two days after them (a zone change
    eastwards can make the next days' first dose fall before the last one in the old zone);
    and the days around each clock change of the zone on which the walk would not give one
    slot per dose time (`irregular_days`). Doses not taken do not break a stretch: in one,
    every pattern day has a slot per dose time, so each not-taken key of such a slot is one
    dose fewer counted (`not_taken_within`).
    """

    def __init__(self, enrolment: Enrolment, not_taken: Collection[str]) -> None:
        dates = {pause.start for pause in enrolment.pauses}
        dates.update(change.effective for change in enrolment.time_changes)
        for change in enrolment.zone_changes:
            dates.update(change.effective + timedelta(days=k) for k in range(3))
        self._dates = sorted(dates)
        self._missed = sorted(filter(None, map(_slot_of_key, not_taken)))

    def not_taken_within(
        self, first: date, last: date, pattern: frozenset[int], doses_per_day: int
    ) -> int:
        """How many not-taken keys name a slot of a stretch from `first` to `last`
        (inclusive) in which each `pattern` day has `doses_per_day` slots."""
        # (day,) sorts before every (day, index): the keys of the days first..last.
        low = bisect.bisect_left(self._missed, (first,))
        high = bisect.bisect_left(self._missed, (last + timedelta(days=1),))
        return sum(
            1
            for day, index in self._missed[low:high]
            if index < doses_per_day and day.weekday() in pattern
        )

    def regular_until(
        self, day: date, limit: date, zone_name: str, times: tuple[tuple[int, time], ...]
    ) -> date:
        """The first date from `day` on (before `limit`) that must be walked, for a stretch
        in `zone_name` with these dose times."""
        found = bisect.bisect_left(self._dates, day)
        if found < len(self._dates):
            limit = min(limit, self._dates[found])
        changes = irregular_days(zone_name, day.year, times)
        found = bisect.bisect_left(changes, day)
        if found < len(changes):
            limit = min(limit, changes[found])
        return min(limit, date(day.year + 1, 1, 1))


def _slot_of_key(key: str) -> tuple[date, int] | None:
    """(local date, index of the dose time) of a slot's key (`"2026-03-02#0"`); None for a
    string that is no slot's key, which never matches one."""
    day, sep, index = key.partition("#")
    try:
        found = (date.fromisoformat(day), int(index))
    except ValueError:
        return None
    # Only the exact form a slot's key has: "2026-03-02#00" names no slot.
    return found if sep and key == f"{found[0].isoformat()}#{found[1]}" else None


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


@functools.lru_cache(maxsize=4096)
def irregular_days(
    zone_name: str, year: int, times: tuple[tuple[int, time], ...]
) -> tuple[date, ...]:
    """The days of `clock_change_days` on which walking these dose times (in this order)
    might not give one slot each: where a change is, a day must be walked only if it moves
    the dose times themselves.

    1. Read each dose time of the day as a UTC instant, as the walk does (`wall_instant`).
    2. The day is regular if those instants rise strictly (no two dose times in one skipped
       stretch, step 5 of `iter_slots`) and the first is after the last dose time of the
       day before. The walk compares with the slot before, which is on that day or earlier:
       an earlier wall time is never a later instant, so this test is the stricter one.
    Cached per zone, year and dose times: patients share a few of each, and most clock
    changes (at night) move no dose time, so most of these days are counted, not walked.
    """
    if not times:
        return clock_change_days(zone_name, year)
    zone = ZoneInfo(zone_name)
    irregular = []
    for day in clock_change_days(zone_name, year):
        instants = [wall_instant(day, at, zone)[0] for _, at in times]
        before = wall_instant(day - timedelta(days=1), times[-1][1], zone)[0]
        rising = all(a < b for a, b in itertools.pairwise(instants))
        if not (rising and before < instants[0]):
            irregular.append(day)
    return tuple(irregular)


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
