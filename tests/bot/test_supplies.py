"""/stock counts only the products of the plan now, at the rate they are used now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.dialogue.supplies import plan_supplies, running_low, tablets_of
from scheduler.doses import DoseSnapshot, dose_json
from storage.records import DoseSlot, SlotState
from treatment.enrolment import enrol
from treatment.plan import iter_slots

START = date(2026, 3, 2)
PLAN = enrol(
    regimen="2HRZE/4HR",
    start=START,
    times=["08:00"],
    zone="Asia/Seoul",
    today=START,
    weight_kg=52,
)


def at(days: int) -> datetime:
    return datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(days=days)


def test_the_first_phase_counts_its_combination_only() -> None:
    products, per_day = plan_supplies(PLAN, at(0))
    assert products == ["HRZE"] and per_day == {"HRZE": 3.0}


def test_after_the_first_phase_only_the_second_phases_tablets_are_counted() -> None:
    products, per_day = plan_supplies(PLAN, at(60))
    assert products == ["HR"] and per_day == {"HR": 3.0}


def test_separate_tablets_are_counted_each_on_its_own() -> None:
    separate = enrol(
        regimen="2HRZE/4HR",
        start=START,
        times=["08:00"],
        zone="Asia/Seoul",
        today=START,
        weight_kg=52,
        product_set="separate",
    )
    products, per_day = plan_supplies(separate, at(0))
    assert per_day == {
        "isoniazid 100 mg": 3.0,
        "rifampicin 150 mg": 4.0,
        "pyrazinamide 250 mg": 7.0,
        "ethambutol 250 mg": 4.0,
    }
    assert products == list(per_day)


def stored(dose: dict[str, object]) -> DoseSlot:
    now = at(0)
    return DoseSlot("s", "p", "e", now, now, SlotState.PENDING, None, 1, dose)


def test_a_dose_uses_the_tablets_in_the_hand_not_one_per_drug() -> None:
    slot = next(iter(iter_slots(PLAN)))
    assert tablets_of(stored(dose_json(slot, []))) == {"HRZE": 3.0}


def test_a_slot_stored_before_products_were_still_counts_its_combination_once() -> None:
    slot = next(iter(iter_slots(PLAN)))
    legacy = dose_json(slot, [])
    legacy.pop("products")
    legacy["drugs"] = [
        {"name": "isoniazid", "mg": 225, "tablets": 3, "combined": True},
        {"name": "rifampicin", "mg": 450, "tablets": 3, "combined": True},
    ]
    assert tablets_of(stored(legacy)) == {"HR": 3.0}


def test_running_low_is_at_or_below_the_warning_days_and_only_among_those_asked() -> None:
    per_day = {"HRZE": 3.0, "HR": 0.0}
    counts = {"HRZE": 21, "HR": 5}
    assert running_low(counts, per_day, 7, {"HRZE", "HR"}) == {"HRZE": 7}
    assert running_low(counts, per_day, 6, {"HRZE"}) == {}


def test_the_sealed_dose_keeps_its_products_as_planned() -> None:
    for plan in (
        PLAN,
        enrol(regimen="BPaLM", start=START, times=["08:00"], zone="Asia/Seoul", today=START),
    ):
        slot = next(iter(iter_slots(plan)))
        snapshot = DoseSnapshot.from_dict(dose_json(slot, []))
        assert snapshot.products == slot.products
        assert DoseSnapshot.from_dict(snapshot.to_dict()) == snapshot
