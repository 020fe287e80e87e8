"""Weight bands: tablet counts by programme table, as clinical.md prints them."""

from __future__ import annotations

from datetime import date

import pytest

from tests.treatment.dosing_fixtures import TODAY
from treatment.codes import ErrorCode, Reason
from treatment.doses import dose_notices, weight_moves_tablets
from treatment.enrolment import enrol
from treatment.errors import DataFileError, TreatmentError
from treatment.plan import iter_slots
from treatment.weight import check_weight, load_weight_bands, parse_weight_bands


@pytest.mark.parametrize(
    ("weight", "tablets"),
    [(30, 2), (37, 2), (37.4, 2), (37.6, 3), (38, 3), (54, 3), (55, 4), (70, 4), (71, 5), (140, 5)],
)
def test_default_table_is_the_who_four_bands(weight: float, tablets: int) -> None:
    assert load_weight_bands().default.tablets_for(weight) == tablets


@pytest.mark.parametrize(
    ("weight", "tablets"), [(25, 2), (34, 2), (35, 3), (49, 3), (50, 4), (65, 5), (75, 5), (76, 6)]
)
def test_india_table_has_five_bands(weight: float, tablets: int) -> None:
    assert load_weight_bands().table("india-ntep").tablets_for(weight) == tablets


def test_variant_table_moves_only_the_lower_edge() -> None:
    bands = load_weight_bands()
    assert bands.table("who-4-bands-30-37").tablets_for(38) == 3
    assert bands.table("who-4-bands-30-39").tablets_for(38) == 2


def test_weight_below_every_band_has_no_tablet_count() -> None:
    assert load_weight_bands().default.tablets_for(18) is None


def test_unknown_band_table_lists_the_allowed_ones() -> None:
    with pytest.raises(TreatmentError) as caught:
        load_weight_bands().table("who-3-bands")
    assert caught.value.code == ErrorCode.UNKNOWN_BAND_TABLE
    assert "india-ntep" in caught.value.message


def test_a_change_of_five_kilograms_asks_for_the_clinician() -> None:
    bands = load_weight_bands()
    assert bands.weight_change_notice(60, 55) is Reason.WEIGHT_CHANGED
    assert bands.weight_change_notice(60, 63) is None


@pytest.mark.parametrize("weight", [2.9, 250.1, float("nan"), -1])
def test_weight_outside_3_to_250_kg_is_refused(weight: float) -> None:
    with pytest.raises(TreatmentError) as caught:
        check_weight(weight)
    assert caught.value.code == ErrorCode.WEIGHT_OUT_OF_RANGE
    assert "3 to 250 kg" in caught.value.message


def test_gap_between_bands_in_a_table_file_is_refused() -> None:
    data = {
        "weight_change": {"notice_kg": 5},
        "tables": [
            {
                "id": "t",
                "name": "t",
                "source": "s",
                "verified": True,
                "bands": [
                    {"min_kg": 30, "max_kg": 37, "tablets": 2},
                    {"min_kg": 39, "tablets": 3},
                ],
            }
        ],
    }
    with pytest.raises(DataFileError) as caught:
        parse_weight_bands(data, "weights.toml")
    assert caught.value.field == "tables[0].bands[1].min_kg"


def test_hrze_tablets_give_mg_per_tablet_times_band_count() -> None:
    enrolment = enrol(
        regimen="2HRZE/4HR",
        start=date(2026, 3, 2),
        times=["08:00"],
        zone="UTC",
        today=TODAY,
        weight_kg=60,
    )
    first = next(iter_slots(enrolment))
    assert {d.name: (d.mg, d.tablets) for d in first.drugs} == {
        "isoniazid": (4 * 75, 4),
        "rifampicin": (4 * 150, 4),
        "pyrazinamide": (4 * 400, 4),
        "ethambutol": (4 * 275, 4),
    }


def test_without_weight_tablets_are_unknown_and_the_plan_says_why() -> None:
    enrolment = enrol(
        regimen="2HRZE/4HR", start=date(2026, 3, 2), times=["08:00"], zone="UTC", today=TODAY
    )
    first = next(iter_slots(enrolment))
    assert all(d.mg is None and d.tablets is None for d in first.drugs)
    assert dose_notices(enrolment) == (Reason.WEIGHT_NEEDED,)


def test_child_below_the_bands_is_sent_to_the_clinician() -> None:
    enrolment = enrol(
        regimen="2HRZ(E)/2HR",
        start=date(2026, 3, 2),
        times=["08:00"],
        zone="UTC",
        today=TODAY,
        weight_kg=14,
    )
    assert dose_notices(enrolment) == (Reason.WEIGHT_OUTSIDE_BANDS,)


@pytest.mark.parametrize(
    ("before", "after", "table", "band_moved", "large"),
    [
        (52, 56, None, True, False),  # 38-54 to 55-70 kg, 4 kg
        (56, 61, None, False, True),  # within 55-70 kg, 5 kg
        (56, 60, None, False, False),
        (54.4, 54.6, None, True, False),  # rounded to whole kilograms: 54 and 55
        (52, 49, "india-ntep", True, False),  # 50-64 to 35-49 kg
        (52, 49, None, False, False),
    ],
)
def test_a_new_weight_asks_for_the_clinician_on_a_band_change_or_five_kilograms(
    before: float, after: float, table: str | None, band_moved: bool, large: bool
) -> None:
    change = load_weight_bands().change(before, after, table)
    assert (change.band_moved, change.large) == (band_moved, large)
    assert change.ask_clinician is (band_moved or large)


def test_a_weight_moves_the_tablets_only_across_a_band_of_the_plans_own_products() -> None:

    plan = enrol(
        regimen="2HRZE/4HR", start=TODAY, times=["08:00"], zone="UTC", today=TODAY, weight_kg=52
    )
    assert not weight_moves_tablets(plan, 54)
    assert weight_moves_tablets(plan, 56)
    assert not weight_moves_tablets(plan, 52.4)


def test_the_weight_question_comes_monthly_and_a_bad_interval_is_refused() -> None:
    assert load_weight_bands().ask_every_days == 30
    data = {
        "weight_change": {"notice_kg": 5, "ask_every_days": -1},
        "tables": [
            {
                "id": "t",
                "name": "t",
                "source": "s",
                "verified": True,
                "bands": [{"min_kg": 30, "tablets": 2}],
            }
        ],
    }
    with pytest.raises(DataFileError) as caught:
        parse_weight_bands(data, "weights.toml")
    assert caught.value.field == "weight_change.ask_every_days"
