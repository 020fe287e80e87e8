"""What the patient takes at a dose: each drug's mg and tablets, and the kinds of tablet in
the hand.

A dose comes from the regimen's step and, for a weight-banded drug, the patient's weight: the
fixed-dose combination's count from the band table, or each product's own count in another
product set. `DoseTable` resolves them once per regimen, weight and product set; the plan
(`treatment.plan`) asks it for the doses of each day.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from treatment.catalogue import Catalogue, load_catalogue
from treatment.codes import Reason
from treatment.enrolment import Enrolment
from treatment.regimen import DoseStep, Phase, ProductSet, Regimen
from treatment.segments import segments
from treatment.weight import BandTable, load_weight_bands


@dataclass(frozen=True, slots=True)
class DrugDose:
    """A drug in a slot. `mg`/`tablets` are None when the dose is as prescribed or the weight
    is unknown or outside every band: the bot then says so instead of guessing."""

    name: str
    mg: float | None
    tablets: float | None
    step: int = 0
    """Index of the drug's dose step (bedaquiline: 0 loading, 1 three times a week)."""
    combined: bool = False
    """Part of a fixed-dose combination tablet: `tablets` counts combination tablets, the same
    for every drug in it, not tablets of this drug alone."""


@dataclass(frozen=True, slots=True)
class ProductDose:
    """One kind of tablet in a slot, as the patient holds it: a fixed-dose combination is one
    product (its tablets hold several drugs), any other tablet is its own.

    `tablets` per dose is None when the weight is unknown or outside every band, or the dose is
    as prescribed; `contains` is what one tablet holds (mg None where the source gives no
    strength); `mg` is the whole dose of a single-drug product when known without a count."""

    name: str
    tablets: float | None
    contains: tuple[tuple[str, float | None], ...]
    mg: float | None = None

    @property
    def combined(self) -> bool:
        return len(self.contains) > 1


class DoseTable:
    """The drugs and products of a slot by phase, day of the phase and weekday, resolved once.

    Doses are resolved when the table is built: fixed doses as written, weight-banded ones as
    tablets of the products that hold them (the combination's count from the band table, or
    each product's own count in another product set), as-prescribed ones as unknown. A step
    applies from the end of the previous step's `for_days` (calendar days from the phase's
    first dose, so a missed loading dose is not made up), and a drug whose last step has
    `for_days` stops after it; results are cached per
    (phase, step boundary bucket, weekday), which keeps generation cheap.
    """

    def __init__(
        self,
        regimen: Regimen,
        weight_kg: float | None,
        table: BandTable,
        chosen: ProductSet | None = None,
    ) -> None:
        tablets = None if weight_kg is None else table.tablets_for(weight_kg)
        self._boundaries: list[list[int]] = []
        self._resolved: list[list[list[tuple[DoseStep, DrugDose, int | None]]]] = []
        self.banded: list[tuple[ProductDose, ...]] = []
        for phase in regimen.phases:
            boundaries: set[int] = set()
            drugs = []
            separate = {} if chosen is None else _separate(chosen, phase.name, weight_kg)
            for drug in phase.drugs:
                steps: list[tuple[DoseStep, DrugDose, int | None]] = []
                elapsed = 0
                for step in drug.steps:
                    until = None
                    if step.for_days is not None:
                        elapsed += step.for_days
                        until = elapsed
                        boundaries.add(elapsed)
                    dose = separate.get(drug.name) or _dose(drug.name, step, tablets, len(steps))
                    steps.append((step, dose, until))
                drugs.append(steps)
            self._boundaries.append(sorted(boundaries))
            self._resolved.append(drugs)
            self.banded.append(
                _combination(phase, tablets)
                if chosen is None
                else _products(chosen, phase.name, weight_kg)
            )
        self._cache: dict[
            tuple[int, int, int], tuple[tuple[DrugDose, ...], tuple[ProductDose, ...]]
        ] = {}

    def for_day(
        self, phase_number: int, offset: int, weekday: int
    ) -> tuple[tuple[DrugDose, ...], tuple[ProductDose, ...]]:
        bucket = bisect.bisect_right(self._boundaries[phase_number], offset)
        key = (phase_number, bucket, weekday)
        cached = self._cache.get(key)
        if cached is None:
            entries = [
                (step, dose)
                for steps in self._resolved[phase_number]
                for step, dose, _ in _step_on(steps, offset)
                if not step.weekdays or weekday in step.weekdays
            ]
            drugs = tuple(dose for _, dose in entries)
            own = tuple(
                _own_product(dose, step) for step, dose in entries if not step.weight_banded
            )
            cached = (drugs, self.banded[phase_number] + own)
            self._cache[key] = cached
        return cached


_TABLES_KEPT = 512
_tables: dict[
    tuple[int, float | None, int, int],
    tuple[Regimen, BandTable, ProductSet | None, DoseTable],
] = {}


def dose_table(
    regimen: Regimen, weight_kg: float | None, table: BandTable, chosen: ProductSet | None
) -> DoseTable:
    """The `DoseTable` of these, shared by every enrolment that has them: the horizon job
    plans every patient each day, and patients on one regimen and weight (or band table and
    product set) have the same doses. Keyed by the objects' identities, which the entry
    keeps alive (so no other object can take an identity while it is kept); regimens,
    tables and product sets are immutable. At most `_TABLES_KEPT` are kept."""
    key = (id(regimen), weight_kg, id(table), id(chosen))
    kept = _tables.get(key)
    if kept is not None:
        return kept[3]
    if len(_tables) >= _TABLES_KEPT:
        _tables.clear()
    doses = DoseTable(regimen, weight_kg, table, chosen)
    _tables[key] = (regimen, table, chosen, doses)
    return doses


def _combination(phase: Phase, tablets: int | None) -> tuple[ProductDose, ...]:
    """The phase's fixed-dose combination: one product, the band's count of tablets."""
    contents = tuple(
        (drug.name, step.mg_per_tablet)
        for drug in phase.drugs
        for step in drug.steps[:1]
        if step.weight_banded
    )
    return (ProductDose(phase.combination, tablets, contents),) if contents else ()


def _products(chosen: ProductSet, phase: str, weight_kg: float | None) -> tuple[ProductDose, ...]:
    return tuple(
        ProductDose(
            product.name,
            product.tablets_for(weight_kg),
            tuple((i.drug, i.mg) for i in product.contains),
        )
        for product in chosen.products(phase)
    )


def _separate(chosen: ProductSet, phase: str, weight_kg: float | None) -> dict[str, DrugDose]:
    """The dose of each weight-banded drug when it comes in the chosen set's products."""
    out: dict[str, DrugDose] = {}
    for product in chosen.products(phase):
        count = product.tablets_for(weight_kg)
        for ingredient in product.contains:
            mg = None if count is None else count * ingredient.mg
            out[ingredient.drug] = DrugDose(ingredient.drug, mg, count)
    return out


def _own_product(dose: DrugDose, step: DoseStep) -> ProductDose:
    """A drug that is not part of a weight-banded product is its own kind of tablet."""
    strength = None
    if step.mg is not None and step.tablets:
        strength = step.mg / step.tablets
    return ProductDose(dose.name, dose.tablets, ((dose.name, strength),), mg=dose.mg)


def _step_on(
    steps: list[tuple[DoseStep, DrugDose, int | None]], offset: int
) -> list[tuple[DoseStep, DrugDose, int | None]]:
    """The step in force `offset` days into the phase; none once a drug whose last step has
    `for_days` has stopped (linezolid for the first 2 months of a longer phase)."""
    for entry in steps:
        until = entry[2]
        if until is None or offset < until:
            return [entry]
    return []


def _dose(name: str, step: DoseStep, band_tablets: int | None, number: int) -> DrugDose:
    if step.mg_per_tablet is not None:
        if band_tablets is None:
            return DrugDose(name, None, None, number)
        return DrugDose(
            name, band_tablets * step.mg_per_tablet, band_tablets, number, combined=True
        )
    return DrugDose(name, step.mg, step.tablets, number)


def dose_for_step(
    name: str, step: DoseStep, weight_kg: float | None, table: BandTable, number: int = 0
) -> DrugDose:
    """The dose a drug step gives this patient (see `DoseTable` for the three forms)."""
    tablets = None if weight_kg is None else table.tablets_for(weight_kg)
    return _dose(name, step, tablets, number)


def weight_moves_tablets(
    enrolment: Enrolment, weight_kg: float, catalogue: Catalogue | None = None
) -> bool:
    """Whether dosing by `weight_kg` instead of the enrolment's weight changes any tablet
    count of any phase (the combination's band, or a separate product's own band)."""
    catalogue = catalogue or load_catalogue()
    table = load_weight_bands().table(enrolment.band_table)
    for segment in segments(enrolment, catalogue):
        chosen = segment.regimen.product_set(enrolment.product_set)
        now = DoseTable(segment.regimen, enrolment.weight_kg, table, chosen)
        then = DoseTable(segment.regimen, weight_kg, table, chosen)
        if now.banded != then.banded:
            return True
    return False


def dose_notices(enrolment: Enrolment, catalogue: Catalogue | None = None) -> tuple[Reason, ...]:
    """Why some doses in the plan show no mg or tablets, so the bot can say why.

    `weight_needed_for_tablets`: a weight-banded drug and no weight given;
    `weight_outside_bands_talk_to_clinician`: the weight is in no band of the table;
    `dose_as_prescribed`: a drug whose dose the catalogue cannot give.
    """
    table = load_weight_bands().table(enrolment.band_table)
    notices: list[Reason] = []
    for segment in segments(enrolment, catalogue):
        steps = [s for p in segment.regimen.phases for d in p.drugs for s in d.steps]
        if any(s.weight_banded for s in steps):
            if enrolment.weight_kg is None:
                notices.append(Reason.WEIGHT_NEEDED)
            elif table.tablets_for(enrolment.weight_kg) is None:
                notices.append(Reason.WEIGHT_OUTSIDE_BANDS)
        if any(s.mg is None and not s.weight_banded for s in steps):
            notices.append(Reason.DOSE_AS_PRESCRIBED)
    return tuple(dict.fromkeys(notices))
