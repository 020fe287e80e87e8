"""Products in the regimen data: a combination is one product; another set must dispense
exactly the weight-banded drugs, each in one product, with contiguous weight bands."""

from __future__ import annotations

import copy
import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatment.catalogue import load_catalogue, regimen_from_dict
from treatment.enrolment import enrol
from treatment.errors import RegimenFileError
from treatment.plan import iter_slots
from treatment.regimen import COMBINATION
from treatment.regimen_dict import regimen_to_dict
from treatment.weight import load_weight_bands

STANDARD = regimen_to_dict(load_catalogue().get("2HRZE/4HR"))


def with_change(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(STANDARD)
    change(data)
    return data


def test_the_standard_regimen_names_its_combinations_and_offers_separate_tablets() -> None:
    regimen = load_catalogue().get("2HRZE/4HR")
    assert [p.combination for p in regimen.phases] == ["HRZE", "HR"]
    (separate,) = regimen.product_sets
    assert separate.id == "separate" and not separate.verified and separate.note
    assert regimen.product_set(None) is None and regimen.product_set(COMBINATION) is None
    assert regimen.product_set("separate") is separate


def test_regimens_without_weight_bands_have_no_combination() -> None:
    for regimen_id in ("BPaLM", "3HP", "2HPMZ/2HPM"):
        regimen = load_catalogue().get(regimen_id)
        assert [p.combination for p in regimen.phases] == [""] * len(regimen.phases)
        assert regimen.product_sets == () and not regimen.weight_banded


def _set(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = data["product_sets"][0]
    return result


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: _set(d)["phases"]["intensive"].pop(), "product_sets[0].phases.intensive"),
        (lambda d: _set(d)["phases"].pop("continuation"), "product_sets[0].phases"),
        (
            lambda d: _set(d)["phases"].update(extra=_set(d)["phases"]["intensive"]),
            "product_sets[0].phases.extra",
        ),
        (
            lambda d: _set(d)["phases"]["intensive"][0]["contains"].update(isoniazid=0),
            "product_sets[0].phases.intensive[0].contains.isoniazid",
        ),
        (
            lambda d: _set(d)["phases"]["intensive"][1]["bands"][1].update(min_kg=52),
            "product_sets[0].phases.intensive[1].bands[1].min_kg",
        ),
        (
            lambda d: _set(d)["phases"]["intensive"][1]["bands"][1].update(max_kg=90),
            "product_sets[0].phases.intensive[1].bands",
        ),
        (lambda d: _set(d).pop("note"), "product_sets[0].note"),
        (lambda d: _set(d).update(id=COMBINATION), "product_sets"),
        (
            lambda d: (
                d["phases"][0].update(combination="HRZE")
                or d["phases"][0].update(drugs=[{"name": "x", "mg": 1, "tablets": 1}])
            ),
            "phases[0].combination",
        ),
    ],
)
def test_a_bad_product_set_names_the_field(change: Any, field: str) -> None:
    with pytest.raises(RegimenFileError) as caught:
        regimen_from_dict(with_change(change), "test")
    assert caught.value.field == field


def test_a_combination_without_a_name_is_named_by_its_drugs_letters() -> None:
    data = with_change(lambda d: [p.pop("combination") for p in d["phases"]])
    data.pop("product_sets")
    regimen = regimen_from_dict(data, "test")
    assert [p.combination for p in regimen.phases] == ["HRZE", "HR"]


@given(st.floats(min_value=3, max_value=250), st.sampled_from([None, "separate"]))
def test_each_drug_dose_is_what_its_products_hold(weight: float, products: str | None) -> None:
    """For any weight: a combination's count is the band's, shared by its drugs; in any set,
    a drug's mg per dose is the tablets of its product times what one tablet holds."""
    plan = enrol(
        regimen="2HRZE/4HR",
        start=date(2026, 3, 2),
        times=["08:00"],
        zone="Asia/Seoul",
        today=date(2026, 3, 2),
        weight_kg=weight,
        product_set=products,
    )
    band = load_weight_bands().default.tablets_for(weight)
    for slot in itertools.islice(iter_slots(plan), 0, None, 60):
        held = {drug: (p.tablets, mg) for p in slot.products for drug, mg in p.contains}
        assert set(held) == {d.name for d in slot.drugs}
        for drug in slot.drugs:
            tablets, strength = held[drug.name]
            assert strength is not None
            assert drug.mg == (None if tablets is None else tablets * strength)
        if products is None:
            assert [p.tablets for p in slot.products] == [band]
