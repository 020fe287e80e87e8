"""Custom regimens: what a clinician prescribed, from an operator's TOML file or the chat.

The format is a regimen file's (see `treatment/catalogue.py`) with the words a prescription
uses, turned into the engine's terms here and then validated by the same `regimen_from_dict`
as every packaged regimen, so a custom regimen can be no less valid than a packaged one:

    id                      optional; must start with "custom" (default "custom")
    name                    optional (default "Custom regimen")
    source                  optional (default "the prescription")
    doses_per_day           1 or more (twice a day: 2); or a phase pattern "twice_daily"
    [[phases]]
      name                  optional (default "phase 1", ...)
      doses_required        doses that complete the phase, or instead:
      duration              { weeks = N } or { days = N } (daily only) or { months = N }; months
                            are calendar months from the phase's start, so they need the
                            start date (`tbbot plan --start`)
      pattern               kind = daily | five_of_seven | three_times_weekly | weekly |
                            twice_daily | weekdays; five_of_seven defaults to Monday-Friday,
                            three_times_weekly to Mon/Wed/Fri and always keeps 48 hours
                            between doses; `weekdays` chooses other days
      [[phases.drugs]]
        name                a WHO abbreviation or generic name from the drug catalogue
                            (`treatment/data/drugs.toml`); "Rx" for "as my clinician told me"
        tablets             tablets per dose, or "as prescribed" (also when omitted)
        mg                  optional, when the prescription gives it
        loading             optional { days = N, tablets = T, mg = M }: a loading dose for
                            the first N days of the phase, as bedaquiline has
        weekdays            optional: this drug only on some dosing days (bedaquiline after
                            its loading: three times a week, 48 hours apart)

Checks beyond a packaged file's (each a clear `RegimenFileError`, nothing half built):
every drug is in the catalogue and appears once per phase; a three-times-a-week pattern keeps
48 hours between doses, also across a change to the next three-times-a-week phase, and weekly
phases one after the other keep one weekday; the whole regimen lasts at most `MAX_LENGTH_DAYS`
on the calendar when no dose is missed (a guard against typos such as "400 weeks", not a
clinical limit: the longest WHO regimens run 18 to 20 months, modified by the response).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from treatment.catalogue import MAX_DOSES_PER_DAY, custom_regimen
from treatment.drugs import load_drugs
from treatment.errors import RegimenFileError
from treatment.regimen import WEEKDAY_NAMES, Duration, Regimen

MAX_LENGTH_DAYS = 2 * 365 + 1
THREE_WEEKLY_GAP_HOURS = 48
DEFAULT_WEEKDAYS = {
    "five_of_seven": ("mon", "tue", "wed", "thu", "fri"),
    "three_times_weekly": ("mon", "wed", "fri"),
}
PATTERN_DAYS = {"five_of_seven": 5, "three_times_weekly": 3}
PATTERNS = ("daily", "five_of_seven", "three_times_weekly", "weekly", "twice_daily", "weekdays")
AS_PRESCRIBED_WORDS = {"as prescribed", "as-prescribed"}

_TOP_KEYS = ("id", "name", "population", "source", "doses_per_day", "note", "window", "phases")
_PHASE_KEYS = ("name", "kind", "doses_required", "duration", "pattern", "window", "drugs")
_DRUG_KEYS = ("name", "note", "tablets", "mg", "loading", "weekdays", "min_gap_hours", "steps")


def load_custom_toml(text: str, source: str, start: date | None = None) -> Regimen:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegimenFileError(source, "(file)", f"not valid TOML: {exc}") from None
    return build_custom(data, source, start)


def build_custom(data: Mapping[str, Any], source: str, start: date | None = None) -> Regimen:
    """A validated custom regimen, or `RegimenFileError` naming the field.

    1. Check the keys (a typo must not fall back to a default).
    2. Turn prescription words into engine terms: pattern presets into weekdays and gaps,
       "twice_daily" into two doses a day, drug ids into catalogue names, "as prescribed"
       into no count, a loading period into a first step.
    3. Turn durations into dose counts (months by the calendar from `start`).
    4. Validate with the catalogue's checks, then the length limit.
    """
    _known(data, _TOP_KEYS, source, "")
    phases_raw = data.get("phases")
    if not isinstance(phases_raw, list) or not phases_raw:
        raise RegimenFileError(source, "phases", "a regimen needs at least one phase")
    twice = [_pattern_kind(p) == "twice_daily" for p in phases_raw]
    doses_per_day = data.get("doses_per_day", 1)
    if any(twice):
        if not all(twice):
            raise RegimenFileError(
                source, "phases", "twice a day must be the pattern of every phase"
            )
        if doses_per_day not in (1, 2):
            raise RegimenFileError(source, "doses_per_day", "twice a day means 2 doses a day")
        doses_per_day = 2
    if (
        isinstance(doses_per_day, bool)
        or not isinstance(doses_per_day, int)
        or not 1 <= doses_per_day <= MAX_DOSES_PER_DAY
    ):
        raise RegimenFileError(
            source, "doses_per_day", f"must be a whole number from 1 to {MAX_DOSES_PER_DAY}"
        )
    phases: list[dict[str, Any]] = []
    phase_start = start
    for i, raw in enumerate(phases_raw):
        phase = _phase(raw, source, f"phases[{i}]", i, doses_per_day, phase_start)
        if phases:
            _check_change(phases[-1]["pattern"], phase["pattern"], source, f"phases[{i}]")
        phases.append(phase)
        if phase_start is not None and _is_count(phase["doses_required"]):
            phase_start = _end_of(phase, phase_start, doses_per_day) + timedelta(days=1)
    out: dict[str, Any] = {
        "id": data.get("id", "custom"),
        "name": data.get("name", "Custom regimen"),
        "source": data.get("source", "the prescription"),
        "doses_per_day": doses_per_day,
        "phases": phases,
    }
    for key in ("population", "note", "window"):
        if key in data:
            out[key] = data[key]
    length = _calendar_days(phases, doses_per_day)
    if length > MAX_LENGTH_DAYS:
        raise RegimenFileError(
            source,
            "phases",
            f"the phases last {math.ceil(length / 7)} weeks without a missed dose; at most "
            f"{MAX_LENGTH_DAYS // 7} weeks (2 years) can be followed: check the prescription",
        )
    return custom_regimen(out, source)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 10_000


def _check_change(
    before: Mapping[str, Any], after: Mapping[str, Any], source: str, path: str
) -> None:
    """The gap between doses also holds where one phase gives way to the next."""
    where = f"{path}.pattern.weekdays"
    if "min_gap_hours" in before and "min_gap_hours" in after:
        if before["weekdays"] != after["weekdays"]:
            # Sunday then Monday across the phase change would be 24 hours apart.
            raise RegimenFileError(
                source,
                where,
                "three times a week must keep the previous phase's days (48 hours apart)",
            )
    elif before.get("kind") == after["kind"] == "weekly":
        named = before.get("weekdays")
        if not named or named != after.get("weekdays"):
            # Unnamed, the next weekly phase would fall on the day after the last dose.
            raise RegimenFileError(
                source, where, "weekly phases one after the other must name the same weekday"
            )


def _known(data: object, allowed: Sequence[str], source: str, path: str) -> Mapping[str, Any]:
    """`data` as a table with only `allowed` keys (a typo must not fall back to a default)."""
    if not isinstance(data, Mapping):
        raise RegimenFileError(source, path or "(file)", "must be a table")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise RegimenFileError(source, where, f"unknown key; allowed keys: {', '.join(allowed)}")
    return data


def _pattern_kind(raw: object) -> object:
    pattern = raw.get("pattern", {}) if isinstance(raw, Mapping) else {}
    return pattern.get("kind", "daily") if isinstance(pattern, Mapping) else None


def _phase(
    raw: object,
    source: str,
    path: str,
    number: int,
    doses_per_day: int,
    start: date | None,
) -> dict[str, Any]:
    raw = _known(raw, _PHASE_KEYS, source, path)
    pattern = _pattern(raw.get("pattern", {}), source, f"{path}.pattern")
    drugs_raw = raw.get("drugs")
    if not isinstance(drugs_raw, list) or not drugs_raw:
        raise RegimenFileError(
            source,
            f"{path}.drugs",
            "list at least one medicine (or Rx: as my clinician told me)",
        )
    drugs = [_drug(item, source, f"{path}.drugs[{j}]") for j, item in enumerate(drugs_raw)]
    names = [d["name"] for d in drugs]
    if len(set(names)) != len(names):
        raise RegimenFileError(source, f"{path}.drugs", "a medicine is listed twice")
    out: dict[str, Any] = {
        "name": raw.get("name", f"phase {number + 1}"),
        "kind": raw.get("kind", "single"),
        "pattern": pattern,
        "drugs": drugs,
    }
    if "window" in raw:
        out["window"] = raw["window"]
    has_count, has_duration = "doses_required" in raw, "duration" in raw
    if has_count == has_duration:
        raise RegimenFileError(
            source, f"{path}.doses_required", "give either doses_required or a duration"
        )
    if has_count:
        out["doses_required"] = raw["doses_required"]
    else:
        out["doses_required"] = _doses_for(
            raw["duration"], pattern, doses_per_day, start, source, f"{path}.duration"
        )
    return out


def _pattern(raw: object, source: str, path: str) -> dict[str, Any]:
    raw = _known(raw, ("kind", "weekdays", "min_gap_hours"), source, path)
    kind = raw.get("kind", "daily")
    if not isinstance(kind, str):
        raise RegimenFileError(source, f"{path}.kind", "must be a pattern name")
    if kind in ("daily", "twice_daily"):
        if "weekdays" in raw:
            raise RegimenFileError(source, f"{path}.weekdays", "a daily pattern takes no weekdays")
        return {"kind": "daily"}
    if kind in PATTERN_DAYS:
        weekdays = raw.get("weekdays", list(DEFAULT_WEEKDAYS[kind]))
        if not isinstance(weekdays, list):
            raise RegimenFileError(source, f"{path}.weekdays", "must be a list of weekdays")
        want = PATTERN_DAYS[kind]
        if len(weekdays) != want:
            raise RegimenFileError(
                source, f"{path}.weekdays", f"{kind.replace('_', ' ')} needs exactly {want} days"
            )
        out: dict[str, Any] = {"kind": "weekdays", "weekdays": weekdays}
        if kind == "three_times_weekly":
            out["min_gap_hours"] = raw.get("min_gap_hours", THREE_WEEKLY_GAP_HOURS)
        return out
    if kind in ("weekly", "weekdays"):
        return {key: value for key, value in raw.items()}
    raise RegimenFileError(source, f"{path}.kind", f"must be one of {', '.join(PATTERNS)}")


def _drug(raw: object, source: str, path: str) -> dict[str, Any]:
    raw = _known(raw, _DRUG_KEYS, source, path)
    token = raw.get("name")
    info = load_drugs().lookup(token) if isinstance(token, str) else None
    if info is None:
        allowed = ", ".join(d.id for d in load_drugs())
        raise RegimenFileError(
            source, f"{path}.name", f"not in the drug catalogue; allowed: {allowed}"
        )
    out: dict[str, Any] = {"name": info.name}
    if "note" in raw:
        out["note"] = raw["note"]
    if "steps" in raw:
        extra = sorted(set(raw) - {"name", "note", "steps"})
        if extra:
            raise RegimenFileError(source, f"{path}.{extra[0]}", "give either steps or a dose")
        out["steps"] = raw["steps"]
        return out
    dose: dict[str, Any] = {}
    tablets = raw.get("tablets")
    if isinstance(tablets, str):
        if tablets.strip().casefold() not in AS_PRESCRIBED_WORDS:
            raise RegimenFileError(
                source, f"{path}.tablets", 'must be a number of tablets or "as prescribed"'
            )
    elif tablets is not None:
        dose["tablets"] = tablets
    for key in ("mg", "weekdays", "min_gap_hours"):
        if key in raw:
            dose[key] = raw[key]
    if "loading" not in raw:
        out.update(dose)
        return out
    loading = raw["loading"]
    loading = _known(loading, ("days", "tablets", "mg"), source, f"{path}.loading")
    if "days" not in loading:
        raise RegimenFileError(source, f"{path}.loading.days", "how many days the loading lasts")
    first = {"for_days": loading["days"]}
    first.update({key: loading[key] for key in ("tablets", "mg") if key in loading})
    out["steps"] = [first, dose]
    return out


def _doses_for(
    raw: object,
    pattern: Mapping[str, Any],
    doses_per_day: int,
    start: date | None,
    source: str,
    path: str,
) -> int:
    """Dose slots in a phase of this calendar length, when no dose is missed."""
    raw = _known(raw, ("months", "weeks", "days"), source, path)
    parts = {key: raw[key] for key in ("months", "weeks", "days") if key in raw}
    if len(parts) != 1:
        raise RegimenFileError(source, path, "give one of months, weeks or days")
    ((unit, amount),) = parts.items()
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise RegimenFileError(source, f"{path}.{unit}", "must be a whole number of 1 or more")
    if amount > MAX_LENGTH_DAYS:
        raise RegimenFileError(source, f"{path}.{unit}", "is far longer than any TB regimen")
    per_week = _days_per_week(pattern)
    if unit == "weeks":
        return amount * per_week * doses_per_day
    if unit == "days":
        if per_week != 7:
            raise RegimenFileError(source, f"{path}.days", "give weeks when not dosing every day")
        return amount * doses_per_day
    if start is None:
        raise RegimenFileError(
            source,
            f"{path}.months",
            "months are calendar months from the start: give the start date, or weeks",
        )
    if amount * 31 > MAX_LENGTH_DAYS:
        raise RegimenFileError(source, f"{path}.months", "is far longer than any TB regimen")
    end = Duration(months=amount).after(start)
    days = _dose_days(pattern, start)
    dose_days = sum(1 for n in range((end - start).days) if (start + timedelta(days=n)) in days)
    return dose_days * doses_per_day


class _DoseDays:
    """Membership test for the dosing days of a pattern anchored at a phase start."""

    def __init__(self, weekdays: frozenset[int]) -> None:
        self.weekdays = weekdays

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day.weekday() in self.weekdays


def _dose_days(pattern: Mapping[str, Any], start: date) -> _DoseDays:
    kind = pattern.get("kind", "daily")
    if kind == "daily":
        return _DoseDays(frozenset(range(7)))
    names = pattern.get("weekdays") or [WEEKDAY_NAMES[start.weekday()]]
    return _DoseDays(frozenset(WEEKDAY_NAMES.index(n) for n in names if n in WEEKDAY_NAMES))


def _days_per_week(pattern: Mapping[str, Any]) -> int:
    kind = pattern.get("kind", "daily")
    if kind == "daily":
        return 7
    if kind == "weekly":
        return 1
    weekdays = pattern.get("weekdays", [])
    return len(weekdays) if isinstance(weekdays, list) and weekdays else 7


def _end_of(phase: Mapping[str, Any], start: date, doses_per_day: int) -> date:
    """The last dosing day of a phase that starts on `start` and misses nothing."""
    days = _dose_days(phase["pattern"], start)
    remaining = math.ceil(int(phase["doses_required"]) / doses_per_day)
    day = start
    while True:
        if day in days:
            remaining -= 1
            if remaining <= 0:
                return day
        day += timedelta(days=1)


def _calendar_days(phases: Sequence[Mapping[str, Any]], doses_per_day: int) -> int:
    """Calendar days from the first dose to the last when no dose is missed, by whole weeks
    for weekday patterns (the guard needs weeks, not the exact day). Counts that are not
    numbers count as zero here: the catalogue's checks refuse them next."""
    total = 0.0
    for phase in phases:
        count = phase["doses_required"]
        if not _is_count(count):
            continue
        total += count / (_days_per_week(phase["pattern"]) * doses_per_day) * 7
    return math.ceil(total)
