"""`iter_slots(..., since=day)` counts the stretch before `day` without walking it: its slots
must be exactly the full walk's from that day on, whatever the regimen, the zone (with its
clock changes), the pauses, the zone and time changes, the regimen switches and the doses
not taken (Hypothesis); and the planner, which passes its horizon's first day, plans the same
slots as the full walk."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.treatment.test_custom_properties import prescriptions
from treatment.catalogue import load_catalogue
from treatment.custom import build_custom
from treatment.enrolment import (
    Enrolment,
    Pause,
    RegimenSwitch,
    TimeChange,
    ZoneChange,
    validate,
)
from treatment.errors import TreatmentError
from treatment.plan import DoseSlot, iter_slots, slots_between

ZONES = sorted(zoneinfo.available_timezones())
CATALOGUE = sorted(regimen.id for regimen in load_catalogue())
# Zones whose clocks jump far or often, and the two extremes of the offset.
AWKWARD = [
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Europe/Dublin",
]

_starts = st.dates(date(2008, 1, 1), date(2030, 12, 31))
_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
_zones = st.one_of(st.sampled_from(AWKWARD), st.sampled_from(ZONES))


def _times_for(draw: st.DrawFn, count: int) -> tuple[time, ...]:
    """`count` distinct dose times, in any order (the walk drops a dose time not after the
    previous one, and the shortcut must agree)."""
    return tuple(draw(st.lists(_times, min_size=count, max_size=count, unique=True)))


@st.composite
def enrolments(draw: st.DrawFn, regimen: Any = None, start: date | None = None) -> Enrolment:
    """A valid enrolment with some of everything that changes the count of slots."""
    start = start or draw(_starts)
    if regimen is None:
        regimen_id = draw(st.sampled_from(CATALOGUE))
        doses_per_day = load_catalogue().get(regimen_id).doses_per_day
    else:
        regimen_id, doses_per_day = regimen.id, regimen.doses_per_day
    offsets = sorted(draw(st.lists(st.integers(1, 400), max_size=6, unique=True)))
    pauses: list[Pause] = []
    zone_changes: list[ZoneChange] = []
    time_changes: list[TimeChange] = []
    for offset in offsets:
        day = start + timedelta(days=offset)
        kind = draw(st.sampled_from(["pause", "zone", "times"]))
        if kind == "pause" and (not pauses or pauses[-1].end is not None):
            if pauses and pauses[-1].end is not None and pauses[-1].end >= day:
                continue
            length = draw(st.one_of(st.none(), st.integers(0, 20)))
            if length is not None:
                pauses.append(Pause(day, day + timedelta(days=length)))
            elif offset == offsets[-1]:
                pauses.append(Pause(day))  # open: the plan stops there
        elif kind == "zone":
            zone_changes.append(ZoneChange(day, draw(_zones)))
        elif kind == "times":
            time_changes.append(TimeChange(day, _times_for(draw, doses_per_day)))
    enrolment = Enrolment(
        regimen_id=regimen_id,
        start=start,
        times=_times_for(draw, doses_per_day),
        zone=draw(_zones),
        weight_kg=draw(st.one_of(st.none(), st.floats(30, 90))),
        custom_regimen=regimen,
        pauses=tuple(pauses),
        zone_changes=tuple(zone_changes),
        time_changes=tuple(time_changes),
    )
    try:
        return validate(enrolment, None, None)
    except TreatmentError:
        assume(False)
        raise


def _tail(enrolment: Enrolment, not_taken: frozenset[str], since: date) -> list[DoseSlot]:
    return [slot for slot in iter_slots(enrolment, not_taken=not_taken) if slot.local_date >= since]


def _check(enrolment: Enrolment, data: st.DataObject) -> None:
    full = list(iter_slots(enrolment))
    assume(full)
    missed = data.draw(st.lists(st.sampled_from(full), max_size=30, unique_by=lambda s: s.key))
    not_taken = frozenset(slot.key for slot in missed)
    span = (full[-1].local_date - enrolment.start).days + 30
    since = enrolment.start + timedelta(days=data.draw(st.integers(-3, span)))
    expected = _tail(enrolment, not_taken, since)
    assert list(iter_slots(enrolment, not_taken=not_taken, since=since)) == expected


@settings(max_examples=150, deadline=None)
@given(enrolment=enrolments(), data=st.data())
def test_the_slots_from_a_date_are_the_tail_of_the_full_walk(
    enrolment: Enrolment, data: st.DataObject
) -> None:
    _check(enrolment, data)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), prescription=prescriptions(), start=_starts)
def test_the_same_holds_for_custom_regimens(
    data: st.DataObject, prescription: Any, start: date
) -> None:
    regimen = build_custom(prescription, "prop", start)
    _check(data.draw(enrolments(regimen=regimen, start=start)), data)


@settings(max_examples=40, deadline=None)
@given(
    start=_starts,
    at=_times,
    zone=_zones,
    switch_after=st.integers(1, 200),
    to=st.sampled_from(CATALOGUE),
    data=st.data(),
)
def test_the_same_holds_across_a_regimen_switch(
    start: date, at: time, zone: str, switch_after: int, to: str, data: st.DataObject
) -> None:
    doses_per_day = load_catalogue().get(to).doses_per_day
    times = tuple(time((8 + 9 * i) % 24, at.minute) for i in range(doses_per_day))
    enrolment = validate(
        Enrolment(
            regimen_id="2HRZE/4HR",
            start=start,
            times=(at,),
            zone=zone,
            weight_kg=55,
            switches=(RegimenSwitch(start + timedelta(days=switch_after), to, times=times),),
        ),
        None,
        None,
    )
    _check(enrolment, data)


def test_a_day_that_samoa_skipped_and_an_eastward_move_are_walked() -> None:
    """Pacific/Apia skipped 30 December 2011 (its dose time moves to the 31st); a move from
    UTC-12 to UTC+14 puts the next day's dose before the last one in the old zone. Counting
    over either would be a dose out."""
    samoa = validate(
        Enrolment(
            regimen_id="2HRZE/4HR",
            start=date(2011, 10, 1),
            times=(time(8, 0),),
            zone="Pacific/Apia",
            weight_kg=55,
            zone_changes=(
                ZoneChange(date(2012, 1, 10), "Etc/GMT+12"),
                ZoneChange(date(2012, 1, 20), "Pacific/Kiritimati"),
            ),
        ),
        None,
        None,
    )
    for since in (date(2011, 12, 29), date(2011, 12, 31), date(2012, 1, 21), date(2012, 3, 1)):
        assert list(iter_slots(samoa, since=since)) == _tail(samoa, frozenset(), since)
    skipped = next(slot for slot in iter_slots(samoa) if slot.local_date == date(2011, 12, 30))
    assert skipped.local.date() == date(2011, 12, 31)  # the day was not on Samoa's clocks


def test_slots_between_late_in_a_treatment_are_those_of_the_full_walk() -> None:
    enrolment = validate(
        Enrolment(
            regimen_id="2HRZE/7HR",
            start=date(2026, 1, 5),
            times=(time(21, 30),),
            zone="America/New_York",
            weight_kg=60,
        ),
        None,
        None,
    )
    start = datetime(2026, 7, 3, 1, 0, tzinfo=UTC)
    end = start + timedelta(days=2)
    walked = [slot for slot in iter_slots(enrolment) if start <= slot.utc < end]
    assert len(walked) == 2
    assert list(slots_between(enrolment, start, end)) == walked
