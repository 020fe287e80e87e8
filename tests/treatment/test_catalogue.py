"""The regimen catalogue: every row of clinical.md, validated files, and round trips."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.treatment.dosing_fixtures import CLINICAL_DOSES, twice_daily_custom
from treatment.catalogue import (
    custom_regimen,
    load_catalogue,
    parse_regimen_toml,
    regimen_from_dict,
)
from treatment.codes import ErrorCode
from treatment.errors import RegimenFileError, TreatmentError
from treatment.regimen import WEEKDAY_NAMES, Duration
from treatment.regimen_dict import regimen_to_dict


def test_catalogue_holds_every_regimen_of_the_clinical_table() -> None:
    catalogue = load_catalogue()
    assert [r.id for r in catalogue] == list(CLINICAL_DOSES)


@pytest.mark.parametrize(("regimen_id", "doses"), CLINICAL_DOSES.items())
def test_phase_doses_match_the_clinical_table(regimen_id: str, doses: tuple[int, ...]) -> None:
    regimen = load_catalogue().get(regimen_id)
    assert tuple(p.doses_required for p in regimen.phases) == doses
    assert regimen.doses_required == sum(doses)


def test_every_regimen_names_a_source_and_flags_unverified_windows() -> None:
    for regimen in load_catalogue():
        assert regimen.source.strip()
        assert regimen.window is not None, regimen.id
        if regimen.window.duration is None:
            assert not regimen.window.verified
            assert regimen.window.note


def test_windows_follow_the_clinical_table() -> None:
    catalogue = load_catalogue()
    standard = catalogue.get("2HRZE/4HR")
    assert standard.window is not None and standard.window.duration == Duration(months=9)
    assert standard.window.verified
    assert standard.phases[0].window is not None
    assert standard.phases[0].window.duration == Duration(months=3)
    bpalm = catalogue.get("BPaLM").window
    assert bpalm is not None and bpalm.duration == Duration(months=7)
    three_hp = catalogue.get("3HP").window
    assert three_hp is not None and three_hp.duration == Duration(weeks=16)
    assert not three_hp.verified


def test_bpalm_doses_match_who() -> None:
    phase = load_catalogue().get("BPaLM").phases[0]
    drugs = {drug.name: drug for drug in phase.drugs}
    loading, maintenance = drugs["bedaquiline"].steps
    assert (loading.mg, loading.for_days, loading.weekdays) == (400, 14, ())
    assert (maintenance.mg, maintenance.for_days) == (200, None)
    assert [WEEKDAY_NAMES[d] for d in maintenance.weekdays] == ["mon", "wed", "fri"]
    assert maintenance.min_gap_hours == 48
    assert drugs["pretomanid"].steps[0].mg == 200
    assert drugs["linezolid"].steps[0].mg == 600
    assert drugs["moxifloxacin"].steps[0].mg == 400


def test_unknown_regimen_lists_the_allowed_ids() -> None:
    with pytest.raises(TreatmentError) as caught:
        load_catalogue().get("2HRZE/5HR")
    assert caught.value.code == ErrorCode.UNKNOWN_REGIMEN
    assert "2HRZE/5HR" in caught.value.message
    assert "BPaLM" in caught.value.message


def _valid() -> dict[str, Any]:
    return {
        "id": "test",
        "name": "Test regimen",
        "source": "a test",
        "phases": [
            {
                "name": "intensive",
                "kind": "intensive",
                "doses_required": 10,
                "drugs": [{"name": "isoniazid", "mg": 300, "tablets": 1}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("source"), "source"),
        (lambda d: d["phases"][0].update(doses_required=0), "phases[0].doses_required"),
        (lambda d: d["phases"][0].update(dose_required=5), "phases[0].dose_required"),
        (lambda d: d["phases"][0]["drugs"][0].update(mg=-1), "phases[0].drugs[0].mg"),
        (lambda d: d["phases"][0].update(kind="maintenance"), "phases[0].kind"),
        (
            lambda d: d["phases"][0].update(
                pattern={"kind": "weekdays", "weekdays": ["mon", "xyz"]}
            ),
            "phases[0].pattern.weekdays",
        ),
        (lambda d: d.update(doses_per_day=0), "doses_per_day"),
        (lambda d: d.update(window={"months": 3, "verified": False}), "window.note"),
        (
            lambda d: d["phases"][0]["drugs"][0].update(mg_per_tablet=75),
            "phases[0].drugs[0].mg_per_tablet",
        ),
    ],
)
def test_bad_regimen_names_the_file_and_field(change: Any, field: str) -> None:
    data = _valid()
    change(data)
    with pytest.raises(RegimenFileError) as caught:
        regimen_from_dict(data, "treatment/regimens/99-test.toml")
    assert caught.value.field == field
    assert caught.value.source == "treatment/regimens/99-test.toml"
    assert caught.value.code == ErrorCode.INVALID_REGIMEN
    assert str(caught.value).startswith(f"treatment/regimens/99-test.toml: {field}:")


def test_broken_packaged_file_names_the_file_and_field() -> None:
    from importlib import resources

    name = "06-BPaLM.toml"
    text = resources.files("treatment").joinpath(f"regimens/{name}").read_text("utf-8")
    broken = text.replace("{ mg = 200, tablets = 2,", "{ mg = 200, tablets = -2,")
    assert broken != text
    with pytest.raises(RegimenFileError) as caught:
        parse_regimen_toml(broken, f"treatment/regimens/{name}")
    assert str(caught.value).startswith(
        "treatment/regimens/06-BPaLM.toml: phases[0].drugs[0].steps[1].tablets:"
    )


def test_bad_toml_syntax_names_the_file() -> None:
    with pytest.raises(RegimenFileError) as caught:
        parse_regimen_toml("id = ", "treatment/regimens/broken.toml")
    assert caught.value.source == "treatment/regimens/broken.toml"


def test_bedaquiline_days_closer_than_48_hours_are_refused() -> None:
    data = _valid()
    data["phases"][0]["drugs"][0].update(weekdays=["mon", "tue", "thu"], min_gap_hours=48)
    with pytest.raises(RegimenFileError) as caught:
        regimen_from_dict(data, "custom")
    assert caught.value.field == "phases[0].drugs[0].min_gap_hours"


def test_loading_step_must_end_before_the_maintenance_step() -> None:
    data = _valid()
    data["phases"][0]["drugs"][0] = {
        "name": "bedaquiline",
        "steps": [{"mg": 400}, {"mg": 200, "weekdays": ["mon", "wed", "fri"]}],
    }
    with pytest.raises(RegimenFileError) as caught:
        regimen_from_dict(data, "custom")
    assert caught.value.field == "phases[0].drugs[0].steps[0].for_days"


def test_custom_regimen_goes_through_the_same_validation() -> None:
    regimen = custom_regimen(twice_daily_custom())
    assert regimen.custom and regimen.doses_per_day == 2
    assert regimen.source == "the prescription"
    broken = twice_daily_custom()
    broken["phases"][0]["drugs"][0]["tablets"] = 0
    with pytest.raises(RegimenFileError) as caught:
        custom_regimen(broken)
    assert caught.value.field == "phases[0].drugs[0].tablets"


def test_custom_regimen_cannot_take_a_catalogue_id() -> None:
    data = twice_daily_custom()
    data["id"] = "BPaLM"
    with pytest.raises(RegimenFileError) as caught:
        custom_regimen(data)
    assert caught.value.field == "id"


@pytest.mark.parametrize("regimen", list(load_catalogue()), ids=lambda r: r.id)
def test_catalogue_regimen_round_trips_through_toml(regimen: Any) -> None:
    text = tomli_w.dumps(regimen_to_dict(regimen))
    assert parse_regimen_toml(text, "round-trip") == regimen


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_weekdays = st.lists(st.sampled_from(WEEKDAY_NAMES), min_size=1, max_size=7, unique=True)


@st.composite
def _step(draw: st.DrawFn, last: bool, pattern_days: list[str] | None) -> dict[str, Any]:
    step: dict[str, Any] = {}
    form = draw(st.sampled_from(["fixed", "banded", "prescribed"]))
    if form == "fixed":
        step["mg"] = draw(st.integers(1, 2000) | st.floats(0.5, 2000, allow_nan=False))
        if draw(st.booleans()):
            step["tablets"] = draw(st.integers(1, 8) | st.sampled_from([0.5, 1.5]))
    elif form == "banded":
        step["mg_per_tablet"] = draw(st.sampled_from([75, 150, 275, 400]))
    if pattern_days is not None and draw(st.booleans()):
        step["weekdays"] = draw(st.lists(st.sampled_from(pattern_days), min_size=1, unique=True))
    if not last:
        step["for_days"] = draw(st.integers(1, 60))
    return step


@st.composite
def _regimens(draw: st.DrawFn) -> dict[str, Any]:
    phases = []
    for number in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["daily", "weekdays", "weekly"]))
        pattern: dict[str, Any] = {"kind": kind}
        pattern_days: list[str] | None = list(WEEKDAY_NAMES)
        if kind == "weekdays":
            pattern["weekdays"] = draw(_weekdays)
            pattern_days = pattern["weekdays"]
        elif kind == "weekly":
            pattern_days = None
            if draw(st.booleans()):
                pattern["weekdays"] = [draw(st.sampled_from(WEEKDAY_NAMES))]
        drugs = []
        for _ in range(draw(st.integers(1, 4))):
            count = draw(st.integers(1, 3))
            steps = [draw(_step(i == count - 1, pattern_days)) for i in range(count)]
            drug: dict[str, Any] = {"name": draw(_names)}
            if count == 1:
                drug.update(steps[0])
            else:
                drug["steps"] = steps
            drugs.append(drug)
        phase: dict[str, Any] = {
            "name": f"phase-{number}",
            "kind": draw(st.sampled_from(["intensive", "continuation", "single"])),
            "doses_required": draw(st.integers(1, 400)),
            "pattern": pattern,
            "drugs": drugs,
        }
        if draw(st.booleans()):
            phase["window"] = {"months": draw(st.integers(1, 12))}
        phases.append(phase)
    regimen: dict[str, Any] = {
        "id": draw(_names),
        "name": draw(st.text(min_size=1, max_size=20).filter(str.strip)),
        "source": "hypothesis",
        "doses_per_day": draw(st.integers(1, 4)),
        "phases": phases,
    }
    if draw(st.booleans()):
        regimen["window"] = {
            "weeks": draw(st.integers(1, 60)),
            "verified": False,
            "note": "generated",
        }
    return regimen


@settings(max_examples=150, deadline=None)
@given(_regimens())
def test_any_valid_regimen_file_round_trips(data: dict[str, Any]) -> None:
    regimen = regimen_from_dict(data, "generated")
    text = tomli_w.dumps(regimen_to_dict(regimen))
    again = regimen_from_dict(tomllib.loads(text), "generated")
    assert again == regimen
    assert regimen_to_dict(again) == regimen_to_dict(regimen)
