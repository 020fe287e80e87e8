"""Monitoring suggestions per regimen: which apply, each with a source and words to say it."""

from __future__ import annotations

from bot.flows.visits import SUGGESTIONS
from treatment.catalogue import load_catalogue
from treatment.monitoring import load_monitoring


def _ids(*regimens: str) -> list[str]:
    catalogue = load_catalogue()
    found = load_monitoring().for_regimens(catalogue.get(r) for r in regimens)
    return [s.id for s in found]


def test_drug_susceptible_treatment_suggests_sputum_at_months_2_5_and_6() -> None:
    monitoring = load_monitoring()
    assert _ids("2HRZE/4HR") == ["sputum_ds"]
    sputum = next(s for s in monitoring.suggestions if s.id == "sputum_ds")
    assert sputum.months == (2, 5, 6) and "ATS/CDC/IDSA 2016" in sputum.source


def test_drug_resistant_treatment_with_qt_drugs_suggests_cultures_and_ecgs() -> None:
    assert _ids("BPaLM") == ["culture_dr", "ecg_qt"]


def test_preventive_treatment_suggests_nothing() -> None:
    for regimen in ("3HP", "1HP", "3HR", "4R", "6H", "9H"):
        assert _ids(regimen) == []


def test_a_switch_adds_the_new_regimens_tests_and_each_comes_once() -> None:
    assert _ids("2HRZE/4HR", "BPaLM", "BPaLM") == ["sputum_ds", "culture_dr", "ecg_qt"]


def test_every_suggestion_has_a_source_and_words() -> None:
    for suggestion in load_monitoring().suggestions:
        assert suggestion.source and suggestion.regimens
        assert suggestion.id in SUGGESTIONS
