"""Side-effect triage follows clinical.md: reassure, see a clinician soon, or stop and get care."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatment.errors import TreatmentError
from treatment.triage import Level, Severity, rules

HRZE = ["isoniazid", "rifampicin", "pyrazinamide", "ethambutol"]
BPALM = ["bedaquiline", "pretomanid", "linezolid", "moxifloxacin"]
MILD = Severity.MILD


def test_orange_urine_on_rifampicin_reassures_and_warns_about_contraception_once() -> None:
    first = rules().triage([("orange_fluids", MILD)], HRZE, contraception_told=False)
    assert first.level is Level.REASSURE
    assert not first.stop_medicine and not first.alert_helper
    assert "contraception" in first.advice
    again = rules().triage([("orange_fluids", MILD)], HRZE, contraception_told=True)
    assert "contraception" not in again.advice


def test_no_contraception_warning_without_a_rifamycin() -> None:
    result = rules().triage([("sun_sensitivity", MILD)], BPALM, contraception_told=False)
    assert "contraception" not in result.advice


def test_mild_nausea_means_see_a_clinician_soon_take_with_food_and_ask_again_in_two_days() -> None:
    result = rules().triage([("mild_nausea", MILD)], HRZE, contraception_told=True)
    assert result.level is Level.SOON
    assert result.advice == ("take_with_food",)
    assert result.recheck_days == 2
    assert not result.alert_helper


def test_nausea_with_yellow_eyes_is_a_red_flag_to_stop_and_alert_the_helper() -> None:
    result = rules().triage(
        [("mild_nausea", MILD), ("jaundice", MILD)], HRZE, contraception_told=True
    )
    assert result.level is Level.RED_FLAG
    assert result.stop_medicine and result.alert_helper
    assert result.recheck_days is None


def test_severe_report_of_a_soon_symptom_moves_up_to_a_red_flag() -> None:
    result = rules().triage([("headache", Severity.SEVERE)], HRZE, contraception_told=True)
    assert result.level is Level.RED_FLAG


@pytest.mark.parametrize(
    ("symptom", "drugs"),
    [("vision", HRZE), ("numbness", BPALM), ("heart_rhythm", BPALM), ("flu_like", ["rifapentine"])],
)
def test_drug_specific_danger_signs_are_red_flags(symptom: str, drugs: list[str]) -> None:
    assert rules().triage([(symptom, MILD)], drugs, contraception_told=True).level is Level.RED_FLAG


def test_red_flags_are_offered_whatever_the_regimen_and_come_first() -> None:
    offered = rules().offered(["isoniazid"])
    ids = [s.id for s in offered]
    red = {s.id for s in rules().symptoms.values() if s.level is Level.RED_FLAG}
    assert red <= set(ids)
    assert ids[: len(red)] == [i for i in ids if i in red]
    assert "joint_aches" not in ids  # pyrazinamide only
    assert "orange_fluids" not in ids  # rifamycins only
    assert "joint_aches" in [s.id for s in rules().offered(HRZE)]


def test_unknown_symptom_and_empty_report_are_refused_with_codes() -> None:
    with pytest.raises(TreatmentError) as caught:
        rules().triage([("made_up", MILD)], HRZE, contraception_told=True)
    assert caught.value.code == "unknown_symptom"
    with pytest.raises(TreatmentError) as caught:
        rules().triage([], HRZE, contraception_told=True)
    assert caught.value.code == "no_symptom"


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(rules().symptoms)), st.sampled_from(list(Severity))),
        min_size=1,
        max_size=5,
    )
)
def test_a_report_is_never_less_urgent_than_its_most_urgent_symptom(
    report: list[tuple[str, Severity]],
) -> None:
    result = rules().triage(report, HRZE, contraception_told=True)
    assert result.level >= max(rules().symptoms[s].level for s, _ in report)
    assert result.stop_medicine == (result.level is Level.RED_FLAG) == result.alert_helper
