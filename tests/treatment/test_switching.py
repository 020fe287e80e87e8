"""Switching regimen and extending a phase, in the domain: from when, and what is left."""

from __future__ import annotations

from datetime import date

import pytest

from treatment.catalogue import load_catalogue
from treatment.enrolment import enrol
from treatment.errors import TreatmentError
from treatment.switching import effective_day, extended_phase, switched


def test_effective_day_is_never_a_day_already_started_or_before_an_earlier_switch() -> None:
    plan = enrol(
        regimen="2HRZE/4HR",
        start=date(2026, 3, 2),
        times=["20:00"],
        zone="Asia/Seoul",
        today=date(2026, 3, 2),
        weight_kg=52,
    )
    assert effective_day(plan, date(2026, 3, 10), set()) == date(2026, 3, 10)
    assert effective_day(plan, date(2026, 3, 10), {date(2026, 3, 10)}) == date(2026, 3, 11)
    assert effective_day(plan, date(2026, 3, 2), set()) == date(2026, 3, 3)
    later = switched(plan, load_catalogue().get("BPaLM"), date(2026, 3, 12))
    assert effective_day(later, date(2026, 3, 10), set()) == date(2026, 3, 13)


def test_an_extension_adds_the_phase_s_own_doses_a_week() -> None:
    daily = extended_phase(load_catalogue().get("2HRZE/4HR"), 1, 100, 2)
    assert [p.doses_required for p in daily.phases] == [26 + 14]
    five = extended_phase(load_catalogue().get("2HRZE/4HR-5d"), 1, 80, 2)
    assert [p.doses_required for p in five.phases] == [10 + 10]
    longer = daily
    assert longer.custom and longer.id.startswith("custom")
    with pytest.raises(TreatmentError):
        extended_phase(load_catalogue().get("BPaLM"), 0, 10, 4)  # a loading period
    with pytest.raises(TreatmentError):
        extended_phase(load_catalogue().get("2HRZE/4HR"), 0, 10, 53)
