"""A patient does what the screen says: the tablets shown are the tablets in the hand.

For every regimen of the catalogue, every weight band of every band table, and every product
set a regimen offers, the words a patient reads (the set-up summary, the reminder as the engine
composes it, /progress and `tbbot plan`) give each product's own count once: a fixed-dose
combination's count is the band's, never repeated for each drug it holds.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from bot.commands.plan import build_report, print_report
from bot.compose import BotComposer
from bot.flows import onboarding
from bot.flows.progress import progress_reply
from bot.flows.reminder import Wording
from bot.i18n import translator
from scheduler.doses import dose_json
from scheduler.ladder import Step
from storage.records import Consent, DoseSlot, Patient, SlotState
from treatment.adherence import summarise
from treatment.catalogue import load_catalogue
from treatment.doses import ProductDose
from treatment.enrolment import Enrolment, enrol
from treatment.plan import DoseSlot as PlannedSlot
from treatment.plan import iter_slots
from treatment.regimen import COMBINATION, Regimen
from treatment.weight import load_weight_bands

START = date(2026, 3, 2)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# Every count as the reader's language writes it: "4 tablets of", "4알", "4片".
COUNT = {
    "en": re.compile(r"(\d+(?:\.\d+)?) tablets? of "),
    "ko": re.compile(r"(\d+(?:\.\d+)?)알"),
    "zh_Hans": re.compile(r"(\d+(?:\.\d+)?)片"),
}
PER_DRUG = re.compile(
    r"\d+ mg \(\d+(?:\.\d+)? tablets?\)"
)  # the old "isoniazid 300 mg (4 tablets)"


@dataclass(frozen=True)
class Case:
    regimen: Regimen
    weight: float
    table: str
    products: str | None

    def __str__(self) -> str:
        return f"{self.regimen.id}-{self.table}-{self.weight:g}kg-{self.products or COMBINATION}"


def _weights(regimen: Regimen, table_id: str, products: str | None) -> set[float]:
    """The edges of every band that decides a count: the table's, or each product's own."""
    table = load_weight_bands().table(table_id)
    edges = {float(b.min_kg) for b in table.bands} | {
        float(b.max_kg) for b in table.bands if b.max_kg
    }
    chosen = regimen.product_set(products)
    if chosen is not None:
        for _, items in chosen.phases:
            for product in items:
                edges |= {float(b.min_kg) for b in product.bands}
                edges |= {float(b.max_kg) for b in product.bands if b.max_kg}
    return edges


def cases() -> Iterator[Case]:
    for regimen in load_catalogue():
        for table in load_weight_bands().tables:
            for products in (None, *(p.id for p in regimen.product_sets)):
                for weight in sorted(_weights(regimen, table.id, products)):
                    yield Case(regimen, weight, table.id, products)


CASES = list(cases())


def plan_of(case: Case) -> Enrolment:
    return enrol(
        regimen=case.regimen.id,
        start=START,
        times=[f"{8 + 6 * i:02d}:00" for i in range(case.regimen.doses_per_day)],
        zone="Asia/Seoul",
        today=START,
        weight_kg=case.weight,
        band_table=case.table,
        product_set=case.products,
    )


def first_slot_of_each_phase(plan: Enrolment) -> list[PlannedSlot]:
    seen: dict[str, PlannedSlot] = {}
    for slot in iter_slots(plan):
        seen.setdefault(slot.phase, slot)
    return list(seen.values())


def expected_counts(case: Case, slot: PlannedSlot) -> list[float]:
    """Each product's count, from the data directly: the band table for the combination,
    the product's own bands in another set, the drug's own tablets otherwise."""
    table = load_weight_bands().table(case.table)
    phase = next(p for p in case.regimen.phases if p.name == slot.phase)
    chosen = case.regimen.product_set(case.products)
    counts: list[float] = []
    if phase.combination:
        if chosen is None:
            band = table.tablets_for(case.weight)
            counts += [] if band is None else [band]
        else:
            counts += [n for p in chosen.products(phase.name) if (n := p.tablets_for(case.weight))]
    banded = {d.name for d in phase.drugs if any(s.weight_banded for s in d.steps)}
    counts += [d.tablets for d in slot.drugs if d.name not in banded and d.tablets is not None]
    return counts


def stored(slot: PlannedSlot) -> DoseSlot:
    return DoseSlot(
        id="0" * 32,
        patient_id="p",
        enrolment_id="e",
        due_at=slot.utc,
        window_ends_at=slot.utc,
        state=SlotState.PENDING,
        next_check_at=slot.utc,
        version=1,
        dose=dose_json(slot, []),
    )


def patient(language: str) -> Patient:
    return Patient("p", "Mina", language, "Asia/Seoul", False, Consent(), NOW)


def texts(case: Case, plan: Enrolment, slot: PlannedSlot, language: str) -> dict[str, str]:
    t = translator(language)
    data = {
        "language": language,
        "alias": "Mina",
        "zone": "Asia/Seoul",
        "regimen": case.regimen.id,
        "start": START.isoformat(),
        "today": START.isoformat(),
        "times": [x.strftime("%H:%M") for x in plan.times],
        "weight": case.weight,
        "products": case.products,
        "discreet": False,
        "cover": None,
    }
    out = {
        "reminder": BotComposer()
        .reminder(patient(language), stored(slot), Step.REMIND, nudge=False)
        .text,
        "progress": progress_reply(
            t,
            summarise(plan, [], slot.utc),
            "Asia/Seoul",
            next_dose=stored(slot).dose,
            wording=Wording(),
        ).text,
    }
    # Set-up enrols with the default band table (an operator's choice, not the patient's).
    default = case.table == load_weight_bands().default.id
    if default and slot.phase == plan.regimen().phases[0].name:
        out["summary"] = onboarding.STEPS["confirm"].ask(t, data).text
    return out


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_screen_shows_the_tablets_in_the_hand(case: Case) -> None:
    plan = plan_of(case)
    for slot in first_slot_of_each_phase(plan):
        expected = expected_counts(case, slot)
        held = [p.tablets for p in slot.products if p.tablets is not None]
        assert sorted(held) == sorted(expected), (slot.phase, slot.products)
        for language, count in COUNT.items():
            for screen, text in texts(case, plan, slot, language).items():
                found = [float(n) for n in count.findall(text)]
                assert sorted(found) == sorted(expected), (language, screen, text)
                assert not PER_DRUG.search(text), (language, screen, text)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_plan_command_shows_the_same_counts(case: Case) -> None:
    plan = plan_of(case)
    report = build_report(plan, set(), 0)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        print_report(report)
    for phase, slot in zip(report["phases"], first_slot_of_each_phase(plan), strict=False):
        expected = expected_counts(case, slot)
        per_dose = [p["tablets_per_dose"] for p in phase["products"][: len(slot.products)]]
        assert sorted(n for n in per_dose if n is not None) == sorted(expected)
        for product in phase["products"]:
            assert product["each_tablet"], product
    text = shown.getvalue()
    assert not PER_DRUG.search(text) and "tab)" not in text


def test_55_kg_on_the_standard_regimen_reads_four_tablets_of_hrze() -> None:
    """The example of the issue, word for word."""
    case = Case(load_catalogue().get("2HRZE/4HR"), 55, "who-4-bands-30-37", None)
    plan = plan_of(case)
    slot = first_slot_of_each_phase(plan)[0]
    reminder = texts(case, plan, slot, "en")["reminder"]
    assert reminder.splitlines()[1] == (
        "• 4 tablets of HRZE (each: isoniazid 75 mg, rifampicin 150 mg, pyrazinamide 400 mg, "
        "ethambutol 275 mg)"
    )


def test_separate_tablets_are_one_line_each_with_their_own_count() -> None:
    case = Case(load_catalogue().get("2HRZE/4HR"), 55, "who-4-bands-30-37", "separate")
    plan = plan_of(case)
    intensive, continuation = first_slot_of_each_phase(plan)
    lines = texts(case, plan, intensive, "en")["reminder"].splitlines()[1:]
    assert lines == [
        "• 3 tablets of isoniazid 100 mg",
        "• 4 tablets of rifampicin 150 mg",
        "• 7 tablets of pyrazinamide 250 mg",
        "• 4 tablets of ethambutol 250 mg",
    ]
    summary = texts(case, plan, intensive, "en")["summary"]
    assert "check each count against your prescription" in summary
    assert [p.name for p in continuation.products] == ["isoniazid 100 mg", "rifampicin 150 mg"]
    # The drugs' doses follow the products: 3 x 100 mg of isoniazid, 4 x 150 mg of rifampicin.
    assert [(d.name, d.mg) for d in intensive.drugs][:2] == [
        ("isoniazid", 300),
        ("rifampicin", 600),
    ]


def test_a_weight_outside_every_band_shows_no_count_and_says_ask() -> None:
    case = Case(load_catalogue().get("2HRZ(E)/2HR"), 20, "who-4-bands-30-37", None)
    plan = plan_of(case)
    slot = first_slot_of_each_phase(plan)[0]
    assert slot.products == (
        ProductDose(
            "HRZE",
            None,
            (("isoniazid", 75), ("rifampicin", 150), ("pyrazinamide", 400), ("ethambutol", 275)),
        ),
    )
    reminder = texts(case, plan, slot, "en")["reminder"]
    assert "ask your clinician how many tablets" in reminder
    assert not COUNT["en"].search(reminder)
