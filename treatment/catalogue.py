"""The regimen catalogue: one TOML file per regimen in `treatment/regimens/`.

Every file, and every custom regimen built from a prescription, passes through the same
`regimen_from_dict`, so a custom regimen can be no less valid than a packaged one. A file that
fails raises `RegimenFileError` naming the file and the field (`phases[1].drugs[0].mg`).
Unknown keys are refused too: a typo such as `dose_required` would otherwise silently
fall back to a default, and in dose counting a silent default is a wrong end date.

File schema (see `06-BPaLM.toml` for every feature in use):

    id, name, population, source     strings; `source` is required
    doses_per_day                    1 (default) to 6; an enrolment gives that many times
    note                             optional
    [window]                         completion deadline from the start: months/weeks/days;
                                     verified = false plus a note when clinical.md says
                                     "not verified" or "configurable"; no length = no deadline
    [[phases]]                       in order
      name, kind                     kind: intensive | continuation | single
      doses_required                 doses that complete the phase (dose counting)
      pattern                        { kind = "daily" | "weekdays" | "weekly", weekdays = [...],
                                     min_gap_hours = N: the weekdays must keep doses N h apart }
      window                         optional, as above, counted from the regimen start
      combination                    the name of the fixed-dose combination tablet holding
                                     the phase's weight-banded drugs; default: their letters
      [[phases.drugs]]               name, note, and either one dose or `steps = [...]`
        mg, tablets                  fixed dose as the source or prescription gives it (a
                                     custom regimen may give tablets without mg)
        mg_per_tablet                weight-banded fixed-dose combination (tablets by band)
        (neither)                    dose as prescribed: shown as such, never guessed
        weekdays, for_days,          a step on some weekdays only, for the next N calendar
        min_gap_hours                days of the phase (every step but the last; on the last
                                     step the drug then stops before the phase ends), at least
                                     N hours between doses
    [[product_sets]]                 other ways the weight-banded drugs are dispensed:
      id, name, source               id other than "combination"; `source` is required
      verified, note                 verified = false plus a note, as for windows
      phases.<phase name> = [...]    per phase with weight-banded drugs, its products:
        name                         as the patient reads it ("isoniazid 100 mg")
        contains = { drug = mg }     what one tablet holds; each banded drug in one product
        bands = [{min_kg, max_kg, tablets}]   tablets per dose by whole-kg weight,
                                     ascending and contiguous, the last open-ended
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from treatment.codes import ErrorCode
from treatment.errors import RegimenFileError, TreatmentError
from treatment.regimen import (
    COMBINATION,
    WEEKDAY_NAMES,
    DoseStep,
    DosingPattern,
    Drug,
    Duration,
    Ingredient,
    PatternKind,
    Phase,
    PhaseKind,
    Product,
    ProductSet,
    Regimen,
    Window,
)
from treatment.weight import Band

# The letters WHO uses for TB drugs; a fixed-dose combination is named by its drugs' letters.
ABBREVIATIONS = {
    "isoniazid": "H",
    "rifampicin": "R",
    "pyrazinamide": "Z",
    "ethambutol": "E",
    "rifapentine": "P",
    "moxifloxacin": "M",
    "bedaquiline": "B",
    "pretomanid": "Pa",
    "linezolid": "L",
}
MAX_DOSES_PER_DAY = 6
MAX_DOSES_PER_PHASE = 1500
MAX_MG = 10_000
MAX_TABLETS = 20


@dataclass(frozen=True)
class Catalogue:
    """The regimens an instance knows, in file order of their ids."""

    regimens: Mapping[str, Regimen]

    def get(self, regimen_id: str) -> Regimen:
        try:
            return self.regimens[regimen_id]
        except KeyError:
            allowed = ", ".join(self.regimens)
            raise TreatmentError(
                ErrorCode.UNKNOWN_REGIMEN,
                f"unknown regimen {regimen_id!r}; allowed: {allowed}",
                field="regimen",
            ) from None

    def __iter__(self) -> Iterator[Regimen]:
        return iter(self.regimens.values())

    def __len__(self) -> int:
        return len(self.regimens)


@functools.cache
def load_catalogue() -> Catalogue:
    """Load and validate every packaged regimen file (once per process)."""
    folder = resources.files("treatment").joinpath("regimens")
    regimens: dict[str, Regimen] = {}
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda entry: entry.name,
    )
    for entry in files:
        source = f"treatment/regimens/{entry.name}"
        regimen = parse_regimen_toml(entry.read_text(encoding="utf-8"), source)
        if regimen.id in regimens:
            raise RegimenFileError(source, "id", f"{regimen.id!r} is defined twice")
        regimens[regimen.id] = regimen
    return Catalogue(regimens)


def parse_regimen_toml(text: str, source: str) -> Regimen:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegimenFileError(source, "(file)", f"not valid TOML: {exc}") from None
    return regimen_from_dict(data, source)


def custom_regimen(data: Mapping[str, Any], origin: str = "custom") -> Regimen:
    """Build a regimen from a prescription entered by the user, validated like a file;
    `origin` names where it came from in errors (a file name). Drug names are not checked
    against the drug catalogue here (stored regimens are read back through this): the ways
    in for users, `treatment.custom`, check them.

    The id must start with `custom` so it can never shadow a catalogue regimen.
    """
    regimen = regimen_from_dict({"source": "the prescription", **data, "custom": True}, origin)
    if not regimen.id.startswith("custom"):
        raise RegimenFileError(origin, "id", f"must start with 'custom', got {regimen.id!r}")
    return regimen


class _Fields:
    """Typed access to one TOML table, raising errors that name the file and field path."""

    def __init__(self, data: object, source: str, path: str, allowed: Sequence[str]) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, Mapping):
            raise RegimenFileError(source, path or "(file)", "must be a table")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise RegimenFileError(
                source,
                self._name(unknown[0]),
                f"unknown key; allowed keys: {', '.join(allowed)}",
            )
        self.data: Mapping[str, object] = data

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> RegimenFileError:
        return RegimenFileError(self.source, self._name(key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(key, "must be a non-empty string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"must be a whole number from {low} to {high}")
        return value

    def optional_integer(self, key: str, low: int, high: int) -> int | None:
        return self.integer(key, low, high) if key in self.data else None

    def number(self, key: str, low: float, high: float) -> float | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low < value <= high
        ):
            raise self.fail(key, f"must be a number above {low} and at most {high}")
        return value

    def weekdays(self, key: str) -> tuple[int, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of weekdays ({', '.join(WEEKDAY_NAMES)})")
        days: list[int] = []
        for name in value:
            if name not in WEEKDAY_NAMES:
                raise self.fail(
                    key, f"{name!r} is not a weekday; allowed: {', '.join(WEEKDAY_NAMES)}"
                )
            days.append(WEEKDAY_NAMES.index(name))
        if len(set(days)) != len(days):
            raise self.fail(key, "lists a weekday twice")
        return tuple(sorted(days))

    def tables(self, key: str) -> list[object]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of tables")
        return value


def regimen_from_dict(data: Mapping[str, Any], source: str) -> Regimen:
    """Validate a regimen given as plain data (a parsed TOML file or user input)."""
    top = _Fields(
        data,
        source,
        "",
        (
            "id",
            "name",
            "population",
            "source",
            "doses_per_day",
            "window",
            "phases",
            "custom",
            "note",
            "product_sets",
        ),
    )
    doses_per_day = top.integer("doses_per_day", 1, MAX_DOSES_PER_DAY, default=1)
    custom = top.boolean("custom", False)
    phases = tuple(
        _phase(item, source, f"phases[{i}]", doses_per_day, custom)
        for i, item in enumerate(top.tables("phases"))
    )
    names = [phase.name for phase in phases]
    if len(set(names)) != len(names):
        raise top.fail("phases", "two phases have the same name")
    raw_sets = top.tables("product_sets") if top.has("product_sets") else []
    product_sets = tuple(
        _product_set(item, source, f"product_sets[{i}]", phases) for i, item in enumerate(raw_sets)
    )
    ids = [COMBINATION, *(p.id for p in product_sets)]
    if len(set(ids)) != len(ids):
        raise top.fail("product_sets", f"ids must be unique and not {COMBINATION!r}")
    return Regimen(
        id=top.text("id"),
        name=top.text("name"),
        population=top.text("population", ""),
        source=top.text("source"),
        phases=phases,
        doses_per_day=doses_per_day,
        window=_window(top.data["window"], source, "window") if top.has("window") else None,
        custom=custom,
        note=top.text("note", ""),
        product_sets=product_sets,
    )


def _window(data: object, source: str, path: str) -> Window:
    fields = _Fields(data, source, path, ("months", "weeks", "days", "verified", "note"))
    parts = [fields.optional_integer(key, 0, 120) for key in ("months", "weeks", "days")]
    duration = None
    if any(part is not None for part in parts):
        months, weeks, days = (part or 0 for part in parts)
        if months == weeks == days == 0:
            raise fields.fail("months", "a window must be longer than zero")
        duration = Duration(months=months, weeks=weeks, days=days)
    verified = fields.boolean("verified", True)
    note = fields.text("note", "")
    if duration is None and verified:
        raise fields.fail("verified", "a window without a length must be marked verified = false")
    if not verified and not note:
        raise fields.fail("note", "an unverified window must say why in a note")
    return Window(duration=duration, verified=verified, note=note)


def _phase(data: object, source: str, path: str, doses_per_day: int, custom: bool) -> Phase:
    fields = _Fields(
        data,
        source,
        path,
        ("name", "kind", "doses_required", "pattern", "window", "drugs", "combination"),
    )
    kind_name = fields.text("kind", PhaseKind.SINGLE.value)
    if kind_name not in PhaseKind.__members__.values():
        raise fields.fail("kind", f"must be one of {', '.join(k.value for k in PhaseKind)}")
    pattern = _pattern(fields.data.get("pattern", {}), source, f"{path}.pattern")
    drugs = tuple(
        _drug(item, source, f"{path}.drugs[{i}]", pattern, doses_per_day, custom)
        for i, item in enumerate(fields.tables("drugs"))
    )
    combination = fields.text("combination", "")
    banded = [d.name for d in drugs if any(step.weight_banded for step in d.steps)]
    if combination and not banded:
        raise fields.fail("combination", "only a phase with weight-banded drugs has one")
    if banded and not combination.strip():
        # As pharmacies label them: the drugs' letters ("HRZE").
        combination = "".join(ABBREVIATIONS.get(name, name[:1].upper()) for name in banded)
    return Phase(
        name=fields.text("name"),
        kind=PhaseKind(kind_name),
        doses_required=fields.integer("doses_required", 1, MAX_DOSES_PER_PHASE),
        pattern=pattern,
        drugs=drugs,
        window=_window(fields.data["window"], source, f"{path}.window")
        if fields.has("window")
        else None,
        combination=combination,
    )


def _product_set(data: object, source: str, path: str, phases: Sequence[Phase]) -> ProductSet:
    """A product set, checked against the phases: it must dispense exactly the weight-banded
    drugs of each phase that has them, each drug in one product."""
    fields = _Fields(data, source, path, ("id", "name", "source", "verified", "note", "phases"))
    verified = fields.boolean("verified", True)
    note = fields.text("note", "")
    if not verified and not note:
        raise fields.fail("note", "an unverified product set must say why in a note")
    raw = fields.data.get("phases")
    if not isinstance(raw, Mapping):
        raise fields.fail("phases", "must be a table of phase name = [products]")
    known = {phase.name: phase for phase in phases}
    out: list[tuple[str, tuple[Product, ...]]] = []
    for phase_name, items in raw.items():
        where = f"{path}.phases.{phase_name}"
        phase = known.get(phase_name)
        if phase is None or not phase.combination:
            raise RegimenFileError(source, where, "not a phase with weight-banded drugs")
        if not isinstance(items, list) or not items:
            raise RegimenFileError(source, where, "must be a non-empty list of products")
        products = tuple(_product(item, source, f"{where}[{i}]") for i, item in enumerate(items))
        given = [ing.drug for product in products for ing in product.contains]
        banded = [d.name for d in phase.drugs if any(s.weight_banded for s in d.steps)]
        if sorted(given) != sorted(banded):
            raise RegimenFileError(
                source, where, f"must hold each of {', '.join(banded)} in exactly one product"
            )
        out.append((phase_name, products))
    missing = [p.name for p in phases if p.combination and p.name not in raw]
    if missing:
        raise fields.fail("phases", f"no products for phase {missing[0]!r}")
    return ProductSet(
        id=fields.text("id"),
        name=fields.text("name"),
        source=fields.text("source"),
        verified=verified,
        note=note,
        phases=tuple(out),
    )


def _product(data: object, source: str, path: str) -> Product:
    fields = _Fields(data, source, path, ("name", "contains", "bands"))
    raw = fields.data.get("contains")
    if not isinstance(raw, Mapping) or not raw:
        raise fields.fail("contains", "must be a table of drug = mg in one tablet")
    contains = []
    for drug, mg in raw.items():
        if isinstance(mg, bool) or not isinstance(mg, int | float) or not 0 < mg <= MAX_MG:
            raise fields.fail(f"contains.{drug}", f"must be mg above 0 and at most {MAX_MG}")
        contains.append(Ingredient(str(drug), float(mg)))
    bands: list[Band] = []
    for i, item in enumerate(fields.tables("bands")):
        band = _Fields(item, source, f"{path}.bands[{i}]", ("min_kg", "max_kg", "tablets"))
        low = band.integer("min_kg", 1, 250)
        high = band.optional_integer("max_kg", low, 250)
        tablets = band.integer("tablets", 1, MAX_TABLETS)
        if bands and (bands[-1].max_kg is None or low != bands[-1].max_kg + 1):
            raise band.fail("min_kg", "must follow the previous band's max_kg")
        bands.append(Band(low, high, tablets))
    if bands[-1].max_kg is not None:
        raise fields.fail("bands", "the last band must be open-ended (no max_kg)")
    return Product(name=fields.text("name"), contains=tuple(contains), bands=tuple(bands))


def _pattern(data: object, source: str, path: str) -> DosingPattern:
    fields = _Fields(data, source, path, ("kind", "weekdays", "min_gap_hours"))
    kind_name = fields.text("kind", PatternKind.DAILY.value)
    if kind_name not in PatternKind.__members__.values():
        raise fields.fail("kind", f"must be one of {', '.join(k.value for k in PatternKind)}")
    kind = PatternKind(kind_name)
    weekdays = fields.weekdays("weekdays")
    if kind is PatternKind.DAILY and weekdays:
        raise fields.fail("weekdays", "a daily pattern takes no weekdays")
    if kind is PatternKind.WEEKDAYS and not weekdays:
        raise fields.fail("weekdays", "list the days of the week that have doses")
    if kind is PatternKind.WEEKLY and len(weekdays) > 1:
        raise fields.fail("weekdays", "a weekly pattern has at most one weekday")
    min_gap = fields.optional_integer("min_gap_hours", 1, 24 * 7)
    if min_gap is not None:
        if kind is not PatternKind.WEEKDAYS:
            raise fields.fail("min_gap_hours", "only a pattern of weekdays has a gap to check")
        _check_gap(fields, weekdays, min_gap, DosingPattern(kind, weekdays))
    return DosingPattern(kind=kind, weekdays=weekdays, min_gap_hours=min_gap)


def _drug(
    data: object,
    source: str,
    path: str,
    pattern: DosingPattern,
    doses_per_day: int,
    custom: bool,
) -> Drug:
    step_keys = ("mg", "tablets", "mg_per_tablet", "weekdays", "for_days", "min_gap_hours")
    fields = _Fields(data, source, path, ("name", "note", "steps", *step_keys))
    if fields.has("steps"):
        if any(fields.has(key) for key in step_keys):
            raise fields.fail("steps", "give either steps or a single dose, not both")
        raw_steps = fields.tables("steps")
        steps = tuple(
            _step(item, source, f"{path}.steps[{i}]", pattern, doses_per_day, custom)
            for i, item in enumerate(raw_steps)
        )
    else:
        single = {key: value for key, value in fields.data.items() if key in step_keys}
        steps = (_step(single, source, path, pattern, doses_per_day, custom),)
    for i, step in enumerate(steps):
        is_last = i == len(steps) - 1
        where = f"steps[{i}].for_days" if len(steps) > 1 else "for_days"
        if not is_last and step.for_days is None:
            raise fields.fail(where, "every step but the last needs for_days")
    return Drug(name=fields.text("name"), steps=steps, note=fields.text("note", ""))


def _step(
    data: object,
    source: str,
    path: str,
    pattern: DosingPattern,
    doses_per_day: int,
    custom: bool,
) -> DoseStep:
    """One dose step. A custom regimen may give tablets without mg: a prescription often
    says "2 tablets" and the patient may not know the strength; a packaged file may not."""
    fields = _Fields(
        data,
        source,
        path,
        ("mg", "tablets", "mg_per_tablet", "weekdays", "for_days", "min_gap_hours"),
    )
    mg = fields.number("mg", 0, MAX_MG)
    tablets = fields.number("tablets", 0, MAX_TABLETS)
    mg_per_tablet = fields.number("mg_per_tablet", 0, MAX_MG)
    if mg is not None and mg_per_tablet is not None:
        raise fields.fail("mg_per_tablet", "give mg (fixed dose) or mg_per_tablet (by weight band)")
    if mg_per_tablet is not None and tablets is not None:
        raise fields.fail("tablets", "tablets come from the weight band when mg_per_tablet is set")
    if mg is None and mg_per_tablet is None and tablets is not None and not custom:
        raise fields.fail("mg", "tablets without mg: give the mg per dose too")
    weekdays = fields.weekdays("weekdays")
    if weekdays:
        if pattern.kind is PatternKind.WEEKLY:
            raise fields.fail("weekdays", "a weekly phase cannot restrict a drug to weekdays")
        allowed = pattern.days_of_week(0)
        if not set(weekdays) <= allowed:
            raise fields.fail("weekdays", "a drug can only be given on the phase's dosing days")
    min_gap = fields.optional_integer("min_gap_hours", 1, 24 * 28)
    if min_gap is not None:
        _check_gap(fields, weekdays or tuple(sorted(pattern.days_of_week(0))), min_gap, pattern)
        if doses_per_day > 1:
            raise fields.fail("min_gap_hours", "needs a once-daily regimen")
    return DoseStep(
        mg=mg,
        tablets=tablets,
        mg_per_tablet=mg_per_tablet,
        weekdays=weekdays,
        for_days=fields.optional_integer("for_days", 1, MAX_DOSES_PER_PHASE),
        min_gap_hours=min_gap,
    )


def _check_gap(
    fields: _Fields, weekdays: tuple[int, ...], min_gap_hours: int, pattern: DosingPattern
) -> None:
    """Dose days at the same time of day are 24 h x (days between) apart, cyclically."""
    if pattern.kind is PatternKind.WEEKLY:
        return
    gaps = [(weekdays[(i + 1) % len(weekdays)] - day) % 7 or 7 for i, day in enumerate(weekdays)]
    if min(gaps) * 24 < min_gap_hours:
        raise fields.fail(
            "min_gap_hours", f"the weekdays given put doses less than {min_gap_hours} h apart"
        )
