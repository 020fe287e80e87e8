"""An enrolment: what the patient is taking, from when, at what local times, where.

`Enrolment` is a frozen dataclass of plain fields. Build one with `enrol(...)`, which checks
everything (including that the start date is within a year of `today`) before anything is
created, or read a stored one with `Enrolment.from_dict`, which checks everything except the
date relative to today (a stored enrolment may be old).

Storage contract (`to_dict` / `from_dict`, format version 1). All values are JSON types:

    {
      "version": 1,
      "regimen": "2HRZE/4HR",           # catalogue id, or the id of `custom_regimen`
      "custom_regimen": null,           # or the regimen as `regimen_dict.regimen_to_dict` writes it
      "start": "2026-03-02",            # ISO date, local to the patient
      "times": ["08:00", "20:00"],      # HH:MM local dose times, ascending, one per daily dose
      "zone": "Europe/Berlin",          # IANA time zone at the start
      "weight_kg": 61.5,                # or null
      "band_table": null,               # weight band table id, or null for the default
      "product_set": null,              # optional key: the regimen's product set the patient
                                        # holds ("separate"), or null for the combination
      "pauses": [{"start": "2026-04-01", "end": "2026-04-03"}],   # inclusive; end may be null
      "zone_changes": [{"effective": "2026-05-01", "zone": "Asia/Seoul"}],
      "time_changes": [{"effective": "2026-05-10", "times": ["09:00"]}],   # optional key
      "switches": [{"effective": "2026-06-01", "regimen": "BPaLM",
                    "custom_regimen": null, "times": null}]        # times null: keep times
    }

Changing this shape needs a new version number and a reader for the old one, because the
store keeps enrolments as encrypted JSON written by this method.
"""

from __future__ import annotations

import functools
import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from typing import Any

from treatment.catalogue import Catalogue, load_catalogue, regimen_from_dict
from treatment.codes import ErrorCode
from treatment.errors import TreatmentError
from treatment.regimen import COMBINATION, Duration, Regimen
from treatment.regimen_dict import regimen_to_dict
from treatment.weight import check_weight, load_weight_bands

FORMAT_VERSION = 1
MAX_START_DISTANCE = Duration(months=12)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Pause:
    """Dates (inclusive, local) on which no dose is expected: not counted, not missed.
    An open pause (`end` None) stops the plan until it is closed."""

    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class ZoneChange:
    """From `effective` (a local date) on, dose times are read in `zone`."""

    effective: date
    zone: str


@dataclass(frozen=True, slots=True)
class TimeChange:
    """From `effective` (a local date) on, doses are taken at `times`; the dose count goes on."""

    effective: date
    times: tuple[time, ...]


@dataclass(frozen=True, slots=True)
class RegimenSwitch:
    """From `effective` on, the patient follows another regimen, counted from its first dose.
    Slots before the switch keep their regimen, so history is not rewritten."""

    effective: date
    regimen_id: str
    custom_regimen: Regimen | None = None
    times: tuple[time, ...] | None = None


@dataclass(frozen=True, slots=True)
class Enrolment:
    regimen_id: str
    start: date
    times: tuple[time, ...]
    zone: str
    weight_kg: float | None = None
    band_table: str | None = None
    custom_regimen: Regimen | None = None
    product_set: str | None = None
    pauses: tuple[Pause, ...] = ()
    zone_changes: tuple[ZoneChange, ...] = ()
    switches: tuple[RegimenSwitch, ...] = ()
    time_changes: tuple[TimeChange, ...] = ()

    def regimen(self, catalogue: Catalogue | None = None) -> Regimen:
        """The regimen at the start of treatment."""
        return _resolve(self.regimen_id, self.custom_regimen, catalogue, "regimen")

    def with_pause(self, pause: Pause, catalogue: Catalogue | None = None) -> Enrolment:
        return validate(replace(self, pauses=(*self.pauses, pause)), None, catalogue)

    def open_pause(self) -> Pause | None:
        return next((p for p in self.pauses if p.end is None), None)

    def resumed(self, day: date, catalogue: Catalogue | None = None) -> Enrolment:
        """Close the open pause so that doses are expected again from `day` (local).

        A pause that had not begun before `day` disappears: no date was ever paused.
        """
        pause = self.open_pause()
        if pause is None:
            raise TreatmentError(ErrorCode.INVALID_PAUSE, "there is no open pause to end")
        kept = tuple(p for p in self.pauses if p is not pause)
        if pause.start < day:
            kept = (*kept, Pause(pause.start, day - timedelta(days=1)))
        return validate(replace(self, pauses=kept), None, catalogue)

    def with_zone_change(self, change: ZoneChange, catalogue: Catalogue | None = None) -> Enrolment:
        """Add a zone change; one already effective on the same date is replaced."""
        kept = tuple(z for z in self.zone_changes if z.effective != change.effective)
        return validate(replace(self, zone_changes=(*kept, change)), None, catalogue)

    def with_time_change(self, change: TimeChange, catalogue: Catalogue | None = None) -> Enrolment:
        """Add a change of dose times; one already effective on the same date is replaced."""
        kept = tuple(c for c in self.time_changes if c.effective != change.effective)
        return validate(replace(self, time_changes=(*kept, change)), None, catalogue)

    def time_change_on(self, day: date) -> TimeChange | None:
        """The last change of dose times effective on or before `day`, if any."""
        found = None
        for change in self.time_changes:
            if change.effective <= day:
                found = change
        return found

    def with_switch(self, switch: RegimenSwitch, catalogue: Catalogue | None = None) -> Enrolment:
        return validate(replace(self, switches=(*self.switches, switch)), None, catalogue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "regimen": self.regimen_id,
            "custom_regimen": _custom_to_dict(self.custom_regimen),
            "start": self.start.isoformat(),
            "times": [format_time(t) for t in self.times],
            "zone": self.zone,
            "weight_kg": self.weight_kg,
            "band_table": self.band_table,
            "product_set": self.product_set,
            "pauses": [
                {"start": p.start.isoformat(), "end": p.end.isoformat() if p.end else None}
                for p in self.pauses
            ],
            "zone_changes": [
                {"effective": z.effective.isoformat(), "zone": z.zone} for z in self.zone_changes
            ],
            "switches": [
                {
                    "effective": s.effective.isoformat(),
                    "regimen": s.regimen_id,
                    "custom_regimen": _custom_to_dict(s.custom_regimen),
                    "times": None if s.times is None else [format_time(t) for t in s.times],
                }
                for s in self.switches
            ],
            "time_changes": [
                {"effective": c.effective.isoformat(), "times": [format_time(t) for t in c.times]}
                for c in self.time_changes
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], catalogue: Catalogue | None = None) -> Enrolment:
        """Read the `to_dict` form back, validating it (no check against today)."""
        if not isinstance(data, Mapping) or data.get("version") != FORMAT_VERSION:
            raise _invalid("version", f"expected an enrolment of format version {FORMAT_VERSION}")
        try:
            enrolment = cls(
                regimen_id=_str(data, "regimen"),
                start=parse_date(_str(data, "start"), "start"),
                times=parse_times(data.get("times")),
                zone=_str(data, "zone"),
                weight_kg=_weight(data.get("weight_kg")),
                band_table=_optional_str(data, "band_table"),
                product_set=_optional_str(data, "product_set"),
                custom_regimen=_custom_from_dict(data.get("custom_regimen")),
                pauses=tuple(
                    Pause(
                        parse_date(_str(p, "start"), "pauses.start"),
                        None if p.get("end") is None else parse_date(_str(p, "end"), "pauses.end"),
                    )
                    for p in _list(data, "pauses")
                ),
                zone_changes=tuple(
                    ZoneChange(
                        parse_date(_str(z, "effective"), "zone_changes.effective"),
                        _str(z, "zone"),
                    )
                    for z in _list(data, "zone_changes")
                ),
                switches=tuple(
                    RegimenSwitch(
                        effective=parse_date(_str(s, "effective"), "switches.effective"),
                        regimen_id=_str(s, "regimen"),
                        custom_regimen=_custom_from_dict(s.get("custom_regimen")),
                        times=None if s.get("times") is None else parse_times(s["times"]),
                    )
                    for s in _list(data, "switches")
                ),
                time_changes=tuple(
                    TimeChange(
                        parse_date(_str(c, "effective"), "time_changes.effective"),
                        parse_times(c.get("times")),
                    )
                    for c in _list(data, "time_changes")
                ),
            )
        except (AttributeError, TypeError) as exc:
            raise _invalid("(enrolment)", f"malformed enrolment: {exc}") from None
        return validate(enrolment, None, catalogue)


def enrol(
    *,
    regimen: str | Regimen,
    start: date,
    times: Sequence[str | time],
    zone: str,
    today: date,
    weight_kg: float | None = None,
    band_table: str | None = None,
    product_set: str | None = None,
    catalogue: Catalogue | None = None,
) -> Enrolment:
    """Validate the input of a new enrolment and build it; nothing exists if this raises.

    `regimen` is a catalogue id or a custom `Regimen` (see `catalogue.custom_regimen`).
    """
    custom = regimen if isinstance(regimen, Regimen) else None
    regimen_id = regimen.id if isinstance(regimen, Regimen) else regimen
    enrolment = Enrolment(
        regimen_id=regimen_id,
        start=start,
        times=parse_times(times),
        zone=zone,
        weight_kg=weight_kg,
        band_table=band_table,
        custom_regimen=custom,
        product_set=product_set,
    )
    return validate(enrolment, today, catalogue)


def validate(enrolment: Enrolment, today: date | None, catalogue: Catalogue | None) -> Enrolment:
    """Check every rule of an enrolment and return it, or raise `TreatmentError`.

    1. The start date is within a year of `today`, when `today` is given (new enrolments).
    2. The regimen resolves, and the number of dose times equals its doses per day.
    3. Zones are IANA zones; the weight is within range; the band table exists; the product
       set is one the regimen offers (a later regimen without it uses its combination).
    4. Pauses, zone changes, switches and time changes are ordered, after the start, and do
       not overlap; a time change gives as many times as the regimen then in force needs.
    """
    if today is not None:
        earliest = Duration(months=-MAX_START_DISTANCE.months).after(today)
        latest = MAX_START_DISTANCE.after(today)
        if not earliest <= enrolment.start <= latest:
            raise TreatmentError(
                ErrorCode.START_TOO_FAR,
                "the start date is more than a year from today "
                f"({today.isoformat()}); allowed: {earliest.isoformat()} to {latest.isoformat()}",
                field="start",
            )
    regimen = enrolment.regimen(catalogue)
    _check_times(enrolment.times, regimen)
    check_zone(enrolment.zone)
    if enrolment.weight_kg is not None:
        check_weight(enrolment.weight_kg)
    load_weight_bands().table(enrolment.band_table)
    chosen = enrolment.product_set
    if chosen not in (None, COMBINATION) and regimen.product_set(chosen) is None:
        allowed = ", ".join([COMBINATION, *(p.id for p in regimen.product_sets)])
        raise TreatmentError(
            ErrorCode.UNKNOWN_PRODUCT_SET,
            f"unknown product set {chosen!r} for {regimen.id}; allowed: {allowed}",
            field="product_set",
        )
    _check_pauses(enrolment)
    previous = enrolment.start
    for change in enrolment.zone_changes:
        if change.effective <= previous:
            raise TreatmentError(
                ErrorCode.INVALID_ZONE_CHANGE,
                "a zone change must come after the start and after any earlier zone change",
                field="zone_changes",
            )
        check_zone(change.zone)
        previous = change.effective
    previous = enrolment.start
    times = enrolment.times
    for switch in enrolment.switches:
        if switch.effective <= previous:
            raise TreatmentError(
                ErrorCode.INVALID_SWITCH,
                "a regimen switch must come after the start and after any earlier switch",
                field="switches",
            )
        new_regimen = _resolve(switch.regimen_id, switch.custom_regimen, catalogue, "switches")
        times = switch.times if switch.times is not None else times
        _check_times(times, new_regimen)
        previous = switch.effective
    previous = enrolment.start
    for time_change in enrolment.time_changes:
        if time_change.effective <= previous:
            raise TreatmentError(
                ErrorCode.INVALID_TIME_CHANGE,
                "a change of dose times must come after the start and any earlier change",
                field="time_changes",
            )
        in_force = [s for s in enrolment.switches if s.effective <= time_change.effective]
        regimen_then = (
            _resolve(in_force[-1].regimen_id, in_force[-1].custom_regimen, catalogue, "switches")
            if in_force
            else regimen
        )
        _check_times(time_change.times, regimen_then)
        previous = time_change.effective
    return enrolment


def check_zone(zone: str) -> zoneinfo.ZoneInfo:
    if zone not in _zones():
        raise TreatmentError(
            ErrorCode.UNKNOWN_TIME_ZONE,
            f"unknown time zone {zone!r}; allowed: an IANA zone name such as Europe/Berlin, "
            "Asia/Seoul or America/Mexico_City",
            field="zone",
        )
    return zoneinfo.ZoneInfo(zone)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_times(values: object) -> tuple[time, ...]:
    """Parse HH:MM strings (or `time` values) into ascending, distinct local times."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise TreatmentError(
            ErrorCode.INVALID_TIME,
            "dose times must be a list of HH:MM values, such as 08:00 or 08:00,20:00",
            field="times",
        )
    parsed = sorted(parse_time(v) for v in values)
    if len(set(parsed)) != len(parsed):
        raise TreatmentError(
            ErrorCode.DUPLICATE_TIME, "a dose time is given twice; each must differ", field="times"
        )
    return tuple(parsed)


def parse_time(value: object) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None or value.second or value.microsecond:
            raise TreatmentError(
                ErrorCode.INVALID_TIME,
                "dose times are local wall times in whole minutes, without a zone",
                field="times",
            )
        return value
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise TreatmentError(
            ErrorCode.INVALID_TIME,
            f"{value!r} is not a time of day; allowed: HH:MM from 00:00 to 23:59",
            field="times",
        )
    return time(int(match[1]), int(match[2]))


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TreatmentError(
            ErrorCode.INVALID_DATE,
            f"{value!r} is not a date; allowed: YYYY-MM-DD",
            field=field,
        ) from None


def _check_times(times: tuple[time, ...], regimen: Regimen) -> None:
    if len(times) != regimen.doses_per_day:
        raise TreatmentError(
            ErrorCode.WRONG_NUMBER_OF_TIMES,
            f"regimen {regimen.id} has {regimen.doses_per_day} dose(s) a day, but "
            f"{len(times)} time(s) were given; allowed: exactly {regimen.doses_per_day}",
            field="times",
        )


def _check_pauses(enrolment: Enrolment) -> None:
    previous_end: date | None = None
    for i, pause in enumerate(enrolment.pauses):
        problem = None
        if pause.start < enrolment.start:
            problem = "starts before the treatment starts"
        elif pause.end is not None and pause.end < pause.start:
            problem = "ends before it starts"
        elif i > 0 and (previous_end is None or pause.start <= previous_end):
            problem = "overlaps or comes before the previous pause"
        if problem:
            raise TreatmentError(
                ErrorCode.INVALID_PAUSE,
                f"a pause {problem}; allowed: ordered, "
                "non-overlapping date ranges on or after the start date",
                field="pauses",
            )
        previous_end = pause.end


def _resolve(
    regimen_id: str, custom: Regimen | None, catalogue: Catalogue | None, field: str
) -> Regimen:
    if custom is not None:
        if custom.id != regimen_id:
            raise _invalid(field, "the custom regimen's id differs from the regimen id")
        return custom
    return (catalogue or load_catalogue()).get(regimen_id)


def _custom_to_dict(regimen: Regimen | None) -> dict[str, Any] | None:
    return None if regimen is None else regimen_to_dict(regimen)


def _custom_from_dict(data: object) -> Regimen | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise _invalid("custom_regimen", "must be an object")
    return _custom_regimen(_CANONICAL.encode(data))


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""The cache key's form (one encoder, not one per `json.dumps` call: every plan read has it)."""


@functools.lru_cache(maxsize=256)
def _custom_regimen(canonical: str) -> Regimen:
    """A custom regimen validated once per distinct content: the reminder engine reads every
    enrolment each day, and patients given the same prescription share it. Regimens are
    immutable, so sharing one is safe; a failed validation is not cached."""
    return regimen_from_dict(json.loads(canonical), "custom")


def _invalid(field: str, message: str) -> TreatmentError:
    return TreatmentError(ErrorCode.INVALID_ENROLMENT, f"{field}: {message}", field=field)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _invalid(key, "must be a string")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)


def _list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _invalid(key, "must be a list of objects")
    return value


def _weight(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid("weight_kg", "must be a number or null")
    return float(value)
