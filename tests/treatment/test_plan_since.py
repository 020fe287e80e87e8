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

from tests.scheduler.engine_support import TWICE_DAILY
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


def _stray_keys(first: date, last: date) -> st.SearchStrategy[str]:
    days = st.dates(first - timedelta(days=3), last + timedelta(days=3))
    return st.one_of(
        st.builds(lambda d, i: f"{d.isoformat()}#{i}", days, st.integers(0, 4)),
        st.builds(lambda d: f"{d.isoformat()}#00", days),
        st.builds(lambda d: d.isoformat(), days),
        st.text(max_size=12),
    )


def _tail(enrolment: Enrolment, not_taken: frozenset[str], since: date) -> list[DoseSlot]:
    return [slot for slot in iter_slots(enrolment, not_taken=not_taken) if slot.local_date >= since]


def _check(enrolment: Enrolment, data: st.DataObject) -> None:
    full = list(iter_slots(enrolment))
    assume(full)
    missed = data.draw(st.lists(st.sampled_from(full), max_size=30, unique_by=lambda s: s.key))
    # Strings that name no slot (a day without one, an index past the dose times, another
    # spelling of a key) must change nothing, counted or walked.
    stray = data.draw(st.lists(_stray_keys(enrolment.start, full[-1].local_date), max_size=6))
    not_taken = frozenset(slot.key for slot in missed) | frozenset(stray)
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


def _twice_daily(zone: str, start: date, times: tuple[time, time]) -> Enrolment:
    return validate(
        Enrolment(
            regimen_id=TWICE_DAILY.id,
            start=start,
            times=times,
            zone=zone,
            weight_kg=55,
            custom_regimen=TWICE_DAILY,
        ),
        None,
        None,
    )


def test_two_dose_times_in_one_skipped_hour_are_walked_and_give_one_dose() -> None:
    """Berlin's clocks skip 02:00-03:00 on 29 March 2026: doses at 02:15 and 02:45 both move
    to 03:00, so that day has one slot, not two, and the intensive phase needs one more.
    Counting over it as two would end the phase a dose early (the wrong drugs after)."""
    enrolment = _twice_daily("Europe/Berlin", date(2026, 3, 20), (time(2, 15), time(2, 45)))
    full = list(iter_slots(enrolment))
    on_the_day = [slot for slot in full if slot.local_date == date(2026, 3, 29)]
    assert len(on_the_day) == 1
    missed = frozenset({"2026-03-21#1", "2026-03-27#0", "2026-03-30#1"})
    for day in range(20, 36):
        since = date(2026, 3, 1) + timedelta(days=day)
        assert list(iter_slots(enrolment, since=since)) == _tail(enrolment, frozenset(), since)
        assert list(iter_slots(enrolment, not_taken=missed, since=since)) == _tail(
            enrolment, missed, since
        )


def test_a_clock_change_that_moves_no_dose_time_is_counted_and_one_that_does_is_walked() -> None:
    from treatment.plan_days import clock_change_days, irregular_days

    morning = ((0, time(8, 0)),)
    assert len(clock_change_days("Europe/Berlin", 2026)) == 14  # three days either side
    assert irregular_days("Europe/Berlin", 2026, morning) == ()
    in_the_gap = ((0, time(2, 15)), (1, time(2, 45)))
    assert irregular_days("Europe/Berlin", 2026, in_the_gap) == (date(2026, 3, 29),)
    # 03:00 is the gap's first valid instant, where 02:15 also lands.
    assert irregular_days("Europe/Berlin", 2026, ((0, time(2, 15)), (1, time(3, 0)))) == (
        date(2026, 3, 29),
    )
    assert irregular_days("Europe/Berlin", 2026, ((0, time(1, 59)), (1, time(3, 0)))) == ()
    # Samoa's lost day: both of its dose times fall on the 31st's midnight.
    twice = ((0, time(8, 0)), (1, time(20, 0)))
    assert irregular_days("Pacific/Apia", 2011, twice) == (date(2011, 12, 30),)
    # Lord Howe moves its clocks by half an hour, at 02:00.
    assert irregular_days("Australia/Lord_Howe", 2026, ((0, time(2, 5)), (1, time(2, 20)))) != ()
