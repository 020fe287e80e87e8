"""Table tests of the WHO drug-resistant regimens against docs/regimens.md (WHO 2022 Module 4).

Expected values are copied by hand from the table in docs/regimens.md, not read from the
regimen files, so a wrong file fails here instead of agreeing with itself.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from importlib import resources

import pytest

from tests.treatment.dosing_fixtures import TODAY
from treatment import bedaquiline
from treatment.adherence import summarise
from treatment.catalogue import load_catalogue
from treatment.codes import Reason
from treatment.custom import load_custom_toml
from treatment.doses import dose_notices
from treatment.enrolment import Enrolment, enrol
from treatment.events import DoseEvent, EventKind
from treatment.plan import DoseSlot, iter_slots
from treatment.regimen import Duration

START = date(2026, 3, 2)  # a Monday

# docs/regimens.md: drugs per phase (generic names), doses per phase, window.
TABLE: dict[str, tuple[tuple[frozenset[str], ...], tuple[int, ...], Duration | None, bool]] = {
    "BPaL": (
        (frozenset({"bedaquiline", "pretomanid", "linezolid"}),),
        (182,),
        Duration(months=7),
        True,
    ),
    "9m-all-oral": (
        (
            frozenset(
                {
                    "bedaquiline",
                    "levofloxacin",
                    "clofazimine",
                    "pyrazinamide",
                    "ethambutol",
                    "isoniazid",
                    "ethionamide",
                }
            ),
            frozenset({"bedaquiline", "levofloxacin", "clofazimine", "pyrazinamide", "ethambutol"}),
            frozenset({"levofloxacin", "clofazimine", "pyrazinamide", "ethambutol"}),
        ),
        (112, 56, 84),
        None,
        False,
    ),
    "6REZ-Lfx": (
        (frozenset({"rifampicin", "ethambutol", "pyrazinamide", "levofloxacin"}),),
        (182,),
        None,
        False,
    ),
}


def _enrol(regimen: str) -> Enrolment:
    return enrol(regimen=regimen, start=START, times=["08:00"], zone="UTC", today=TODAY)


def _slots_with(slots: list[DoseSlot], drug: str) -> list[DoseSlot]:
    return [s for s in slots if any(d.name == drug for d in s.drugs)]


@pytest.mark.parametrize("regimen_id", TABLE)
def test_drugs_doses_and_window_follow_the_table(regimen_id: str) -> None:
    drugs, doses, window, verified = TABLE[regimen_id]
    regimen = load_catalogue().get(regimen_id)
    assert tuple(frozenset(d.name for d in p.drugs) for p in regimen.phases) == drugs
    assert tuple(p.doses_required for p in regimen.phases) == doses
    assert regimen.window is not None
    assert regimen.window.duration == window
    assert regimen.window.verified is verified
    if not verified:
        assert regimen.window.note
    assert "WHO 2022 Module 4" in regimen.source


@pytest.mark.parametrize("regimen_id", ["BPaL", "9m-all-oral", "9m-all-oral-Lzd"])
def test_bedaquiline_loads_daily_for_two_weeks_then_three_times_a_week(regimen_id: str) -> None:
    slots = list(iter_slots(_enrol(regimen_id)))
    bdq = _slots_with(slots, "bedaquiline")
    loading = [s for s in bdq if s.local_date < START + timedelta(days=14)]
    assert len(loading) == 14
    assert {d.mg for s in loading for d in s.drugs if d.name == "bedaquiline"} == {400}
    after = [s for s in bdq if s.local_date >= START + timedelta(days=14)]
    assert {s.local_date.weekday() for s in after} == {0, 2, 4}
    assert {d.mg for s in after for d in s.drugs if d.name == "bedaquiline"} == {200}
    assert bedaquiline.in_regimen(load_catalogue().get(regimen_id))


@pytest.mark.parametrize("regimen_id", ["9m-all-oral", "9m-all-oral-Lzd"])
def test_nine_month_bedaquiline_lasts_24_weeks_and_stops_before_the_last_phase(
    regimen_id: str,
) -> None:
    slots = list(iter_slots(_enrol(regimen_id)))
    bdq = _slots_with(slots, "bedaquiline")
    assert bdq[-1].local_date < START + timedelta(weeks=24)
    assert bdq[-1].local_date >= START + timedelta(weeks=24) - timedelta(days=3)
    assert not [s for s in bdq if s.phase == "continuation"]
    assert len(slots) == 252
    assert slots[-1].local_date == START + timedelta(days=251)


def test_linezolid_variant_gives_linezolid_for_two_months_instead_of_ethionamide() -> None:
    slots = list(iter_slots(_enrol("9m-all-oral-Lzd")))
    linezolid = _slots_with(slots, "linezolid")
    assert len(linezolid) == 56
    assert linezolid[-1].local_date == START + timedelta(days=55)
    assert {d.mg for s in linezolid for d in s.drugs if d.name == "linezolid"} == {600}
    assert not _slots_with(slots, "ethionamide")
    with_eto = list(iter_slots(_enrol("9m-all-oral")))
    assert len(_slots_with(with_eto, "ethionamide")) == 112


def test_bpal_missed_doses_are_made_up_within_seven_months() -> None:
    enrolment = _enrol("BPaL")
    planned = list(iter_slots(enrolment))
    missed = {planned[i].key for i in (20, 21, 22, 100)}
    moved = list(iter_slots(enrolment, not_taken=missed))
    assert moved[-1].local_date == planned[-1].local_date + timedelta(days=4)
    assert len(moved) - len(missed) == 182
    assert Duration(months=7).after(START) == date(2026, 10, 2)


def test_bpal_gap_over_two_weeks_in_maintenance_needs_reloading() -> None:
    enrolment = _enrol("BPaL")
    first_missed = date(2026, 3, 20)
    now = datetime(2026, 4, 5, 12, tzinfo=UTC)
    events = []
    for slot in iter_slots(enrolment):
        if slot.utc > now:
            break
        if first_missed <= slot.local_date:
            events.append(DoseEvent(slot.key, EventKind.MISSED))
        else:
            events.append(DoseEvent(slot.key, EventKind.TAKEN, slot.utc))
    codes = [s.code for s in summarise(enrolment, events, now).statuses]
    assert Reason.BEDAQUILINE_RELOAD in codes


def test_rifampicin_free_doses_show_as_prescribed_for_hr_tb() -> None:
    enrolment = _enrol("6REZ-Lfx")
    assert Reason.DOSE_AS_PRESCRIBED in dose_notices(enrolment)
    first = next(iter(iter_slots(enrolment)))
    assert Counter(d.name for d in first.drugs) == Counter(
        ["rifampicin", "ethambutol", "pyrazinamide", "levofloxacin"]
    )
    assert all(d.mg is None for d in first.drugs)


def test_longer_individualised_template_loads_and_has_all_group_a_drugs() -> None:
    text = (
        resources.files("treatment")
        .joinpath("templates", "longer-individualised.toml")
        .read_text("utf-8")
    )
    regimen = load_custom_toml(text, "longer-individualised.toml")
    assert regimen.custom
    assert [p.doses_required for p in regimen.phases] == [24 * 7, 54 * 7]
    first = {d.name for d in regimen.phases[0].drugs}
    assert {"bedaquiline", "linezolid", "levofloxacin"} <= first
    assert first & {"clofazimine", "cycloserine", "terizidone"}
    assert "bedaquiline" not in {d.name for d in regimen.phases[1].drugs}
    weeks = sum(p.doses_required for p in regimen.phases) / 7
    assert 18 * 4 <= weeks <= 20 * 4.35  # 18-20 months
