"""The drug catalogue: WHO ids, three languages, sources, and the regimens that use it."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest

from treatment.catalogue import load_catalogue
from treatment.drugs import AS_PRESCRIBED, LANGUAGES, load_drugs, parse_drugs
from treatment.errors import DataFileError

# WHO abbreviations (Module 4, 2022) and the generic names the regimen files use, by hand.
WHO_IDS = {
    "H": "isoniazid",
    "R": "rifampicin",
    "Z": "pyrazinamide",
    "E": "ethambutol",
    "P": "rifapentine",
    "Bdq": "bedaquiline",
    "Pa": "pretomanid",
    "Lzd": "linezolid",
    "Mfx": "moxifloxacin",
    "Lfx": "levofloxacin",
    "Cfz": "clofazimine",
    "Dlm": "delamanid",
    "Cs": "cycloserine",
    "Eto": "ethionamide",
    "Am": "amikacin",
}


def _raw() -> dict[str, Any]:
    text = resources.files("treatment").joinpath("data", "drugs.toml").read_text("utf-8")
    return tomllib.loads(text)


@pytest.mark.parametrize(("drug_id", "name"), WHO_IDS.items())
def test_who_abbreviations_name_the_generic_drug(drug_id: str, name: str) -> None:
    drugs = load_drugs()
    assert drugs.get(drug_id).name == name
    assert drugs.lookup(drug_id.upper()) == drugs.lookup(name.title())
    assert drugs.id_of(name) == drug_id


def test_every_drug_has_three_languages_a_source_and_says_when_unverified() -> None:
    for drug in load_drugs():
        assert set(drug.names) == set(LANGUAGES)
        assert drug.source.strip()
        assert drug.verified or drug.note.strip(), drug.id
        if drug.id != AS_PRESCRIBED:
            assert drug.strengths, drug.id
    korean = load_drugs().get("Bdq").local_name("ko")
    assert korean == "베다퀼린"
    assert load_drugs().get("Lzd").local_name("zh_Hans") == "利奈唑胺"


def test_qt_prolonging_drugs_are_those_the_handbook_monitors_with_ecgs() -> None:
    flagged = {d.id for d in load_drugs() if d.qt_prolonging}
    assert {"Bdq", "Dlm", "Mfx", "Cfz"} <= flagged
    assert not flagged & {"H", "R", "Z", "E", "Lzd", "Pa"}


def test_combinations_hold_catalogue_drugs() -> None:
    hrze = next(c for c in load_drugs().combinations if c.id == "HRZE")
    assert dict(hrze.contains) == {"H": 75, "R": 150, "Z": 400, "E": 275}
    assert {c.id for c in load_drugs().combinations_with("E")} >= {"HRZE", "HRE"}


def test_every_packaged_regimen_names_catalogue_drugs() -> None:
    for regimen in load_catalogue():
        for phase in regimen.phases:
            for drug in phase.drugs:
                assert load_drugs().lookup(drug.name) is not None, (regimen.id, drug.name)


def test_pickable_list_leaves_out_the_as_prescribed_entry() -> None:
    picks = load_drugs().pickable()
    assert AS_PRESCRIBED not in {d.id for d in picks}
    assert [d.id for d in picks[:4]] == ["H", "R", "Z", "E"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["drugs"][1].update(id="H"), "drugs[1]"),
        (lambda d: d["drugs"][0]["names"].pop("ko"), "drugs[0].names"),
        (lambda d: d["drugs"][0].update(group="D"), "drugs[0].group"),
        (lambda d: d["drugs"][0].pop("source"), "drugs[0].source"),
        (lambda d: d["drugs"][0].update(verified=False, note=""), "drugs[0].note"),
        (
            lambda d: d["drugs"][0].update(strengths=[{"mg": 0, "form": "x"}]),
            "drugs[0].strengths[0].mg",
        ),
        (lambda d: d["combinations"][0]["contains"].update(Q=5), "combinations[0].contains.Q"),
        (lambda d: d["drugs"][0].update(colour="red"), "drugs[0].colour"),
    ],
)
def test_a_broken_catalogue_names_the_field(change: Any, field: str) -> None:
    data = _raw()
    change(data)
    with pytest.raises(DataFileError) as caught:
        parse_drugs(data)
    assert caught.value.field == field
