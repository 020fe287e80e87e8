"""Properties of the dose plan over many inputs (Hypothesis) and every zone in tzdata."""

from __future__ import annotations

import itertools
import random
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.treatment.dosing_fixtures import CLINICAL_DOSES
from treatment.catalogue import custom_regimen
from treatment.enrolment import Enrolment, validate
from treatment.plan import iter_slots

ZONES = sorted(zoneinfo.available_timezones())
DAILY_ONCE = [
    "2HRZE/4HR",
    "2HRZE/7HR",
    "2HPMZ/2HPM",
    "2HRZ(E)/2HR",
    "BPaLM",
    "1HP",
    "4R",
    "9H",
    "BPaL",
    "9m-all-oral",
    "9m-all-oral-Lzd",
    "6REZ-Lfx",
]


def _enrolment(regimen: str, start: date, at: time, zone: str) -> Enrolment:
    return validate(
        Enrolment(regimen_id=regimen, start=start, times=(at,), zone=zone, weight_kg=50),
        None,
        None,
    )


_starts = st.dates(date(2000, 1, 1), date(2035, 12, 31))
_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=60, deadline=None)
@given(
    regimen=st.sampled_from(list(CLINICAL_DOSES)),
    start=_starts,
    at=_times,
    zone=st.sampled_from(ZONES),
)
def test_fully_adherent_plan_takes_exactly_the_table_doses(
    regimen: str, start: date, at: time, zone: str
) -> None:
    slots = list(iter_slots(_enrolment(regimen, start, at, zone)))
    per_phase: dict[int, int] = {}
    for slot in slots:
        per_phase[slot.phase_number] = per_phase.get(slot.phase_number, 0) + 1
    assert tuple(per_phase.values()) == CLINICAL_DOSES[regimen]


@settings(max_examples=60, deadline=None)
@given(
    regimen=st.sampled_from(DAILY_ONCE),
    start=_starts,
    at=_times,
    zone=st.sampled_from(ZONES),
    data=st.data(),
)
def test_each_missed_daily_dose_moves_completion_by_exactly_one_day(
    regimen: str, start: date, at: time, zone: str, data: st.DataObject
) -> None:
    enrolment = _enrolment(regimen, start, at, zone)
    planned = list(iter_slots(enrolment))
    missed = data.draw(st.lists(st.sampled_from(planned), max_size=40, unique_by=lambda s: s.key))
    projected = list(iter_slots(enrolment, not_taken={s.key for s in missed}))
    first_end = planned[-1].local_date
    moved = projected[-1].local_date
    # A calendar day that never happened on the clock (Pacific/Apia, 30 December 2011) is
    # outside this property: its dose may merge with the next day's.
    assume(_skipped_dates(zone, start, moved) == 0)
    assert (moved - first_end).days == len(missed)


def _skipped_dates(zone: str, after: date, until: date) -> int:
    """Local dates in (after, until] that never happened in `zone` (whole-day gaps)."""
    tz = ZoneInfo(zone)
    count = 0
    day = after + timedelta(days=1)
    while day <= until:
        noon = datetime.combine(day, time(12), tzinfo=tz)
        if noon.astimezone(UTC).astimezone(tz).date() != day:
            count += 1
        day += timedelta(days=1)
    return count


def _transitions(zone: str) -> Iterator[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of each offset change from 1970 to 2037,
    found by weekly sampling and bisection to the second."""
    tz = ZoneInfo(zone)
    moment = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(2038, 1, 1, tzinfo=UTC)
    step = timedelta(days=7)
    offset = moment.astimezone(tz).utcoffset()
    while moment < end:
        following = moment + step
        new = following.astimezone(tz).utcoffset()
        if new != offset:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if middle.astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            after = high.astimezone(tz).utcoffset()
            if offset is not None and after is not None and after != offset:
                yield high, offset, after
            offset = high.astimezone(tz).utcoffset()
            moment = high
            continue
        moment = following


@cache
def _sampled_transitions() -> list[tuple[str, datetime, timedelta, timedelta]]:
    """Up to three transitions per zone (a random one and the largest jump each way)."""
    rng = random.Random(20261129)
    sample = []
    for zone in ZONES:
        found = list(_transitions(zone))
        if not found:
            continue
        chosen = {rng.choice(found)}
        chosen.add(max(found, key=lambda t: t[2] - t[1]))
        chosen.add(min(found, key=lambda t: t[2] - t[1]))
        sample.extend((zone, *t) for t in sorted(chosen))
    return sample


def _wall_times_around(instant: datetime, before: timedelta, after: timedelta) -> list[time]:
    """Dose times that land in, at the edges of, and next to the skipped or repeated
    stretch of wall time."""
    start = (instant + before).replace(tzinfo=None)
    end = (instant + after).replace(tzinfo=None)
    low, high = min(start, end), max(start, end)
    middle = low + (high - low) / 2
    candidates = [low - timedelta(minutes=30), low, middle, high, high + timedelta(minutes=30)]
    return sorted({c.time().replace(second=0, microsecond=0) for c in candidates})


def test_slots_strictly_increase_across_every_transition_of_every_zone() -> None:
    transitions = _sampled_transitions()
    assert len({zone for zone, *_ in transitions}) > 300
    for zone, instant, before, after in transitions:
        times = _wall_times_around(instant, before, after)
        local_start = (instant + before).date() - timedelta(days=2)
        regimen = custom_regimen(
            {
                "id": "custom-dst",
                "name": "DST probe",
                "doses_per_day": len(times),
                "phases": [
                    {"name": "t", "doses_required": 6 * len(times), "drugs": [{"name": "x"}]}
                ],
            }
        )
        enrolment = validate(
            Enrolment(
                regimen_id=regimen.id,
                start=local_start,
                times=tuple(times),
                zone=zone,
                custom_regimen=regimen,
            ),
            None,
            None,
        )
        slots = list(iter_slots(enrolment))
        instants = [s.utc for s in slots]
        assert all(a < b for a, b in itertools.pairwise(instants)), (zone, instant)
        assert len({s.key for s in slots}) == len(slots)
        tz = ZoneInfo(zone)
        for slot in slots:
            wall = datetime.combine(slot.local_date, times[slot.index])
            first = wall.replace(tzinfo=tz).astimezone(UTC)
            exists = first.astimezone(tz).replace(tzinfo=None) == wall
            if exists:
                # A valid (or repeated) wall time is kept, at its first occurrence.
                assert slot.utc == first, (zone, wall)
            else:
                # A skipped wall time moves to the first valid instant after it.
                assert slot.local.replace(tzinfo=None) > wall, (zone, wall)
                just_before = (slot.utc - timedelta(seconds=1)).astimezone(tz)
                assert just_before.replace(tzinfo=None) < wall, (zone, wall)
