"""Custom regimens from prescription words: accepted shapes, impossible ones, TOML files."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.treatment.dosing_fixtures import TODAY
from treatment.catalogue import regimen_from_dict
from treatment.custom import PATTERNS, build_custom, load_custom_toml
from treatment.enrolment import Enrolment, enrol
from treatment.errors import RegimenFileError
from treatment.plan import iter_slots
from treatment.regimen import PatternKind
from treatment.regimen_dict import regimen_to_dict

START = date(2026, 3, 2)  # a Monday


def _one(pattern: dict[str, Any] | None = None, **phase: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"duration": {"weeks": 4}, "drugs": [{"name": "Lfx", "tablets": 2}]}
    body.update(phase)
    if pattern is not None:
        body["pattern"] = pattern
    return {"phases": [body]}


def _enrol(regimen: Any, times: tuple[str, ...] = ("08:00",)) -> Enrolment:
    return enrol(regimen=regimen, start=START, times=list(times), zone="UTC", today=TODAY)


def test_drug_ids_become_catalogue_names_and_tablets_need_no_mg() -> None:
    regimen = build_custom(_one(), "t")
    (drug,) = regimen.phases[0].drugs
    assert drug.name == "levofloxacin"
    assert drug.steps[0].tablets == 2 and drug.steps[0].mg is None
    first = next(iter(iter_slots(_enrol(regimen))))
    assert [(p.name, p.tablets) for p in first.products] == [("levofloxacin", 2)]


@pytest.mark.parametrize(
    ("pattern", "weekdays", "doses"),
    [
        ({"kind": "daily"}, {0, 1, 2, 3, 4, 5, 6}, 28),
        ({"kind": "five_of_seven"}, {0, 1, 2, 3, 4}, 20),
        ({"kind": "three_times_weekly"}, {0, 2, 4}, 12),
        ({"kind": "three_times_weekly", "weekdays": ["tue", "thu", "sat"]}, {1, 3, 5}, 12),
        ({"kind": "weekly"}, {0}, 4),
    ],
)
def test_patterns_give_their_days_and_counts(
    pattern: dict[str, Any], weekdays: set[int], doses: int
) -> None:
    regimen = build_custom(_one(pattern), "t")
    assert regimen.phases[0].doses_required == doses
    slots = list(iter_slots(_enrol(regimen)))
    assert len(slots) == doses
    assert {s.local_date.weekday() for s in slots} == weekdays
    assert slots[-1].local_date < START + timedelta(weeks=4)


def test_three_times_a_week_keeps_48_hours_between_doses() -> None:
    regimen = build_custom(_one({"kind": "three_times_weekly"}), "t")
    assert regimen.phases[0].pattern.min_gap_hours == 48
    slots = list(iter_slots(_enrol(regimen)))
    gaps = [(b.utc - a.utc).total_seconds() / 3600 for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 48


def test_twice_a_day_doubles_the_doses_per_day() -> None:
    regimen = build_custom(_one({"kind": "twice_daily"}), "t")
    assert regimen.doses_per_day == 2
    assert regimen.phases[0].pattern.kind is PatternKind.DAILY
    slots = list(iter_slots(_enrol(regimen, ("08:00", "20:00"))))
    assert len(slots) == 56
    assert slots[-1].local_date == START + timedelta(days=27)


def test_loading_period_comes_first_then_the_maintenance_dose() -> None:
    data = _one(
        duration={"weeks": 24},
        drugs=[
            {
                "name": "bedaquiline",
                "loading": {"days": 14, "tablets": 4, "mg": 400},
                "tablets": 2,
                "mg": 200,
                "weekdays": ["mon", "wed", "fri"],
                "min_gap_hours": 48,
            }
        ],
    )
    slots = list(iter_slots(_enrol(build_custom(data, "t"))))
    daily = [s for s in slots if s.local_date < START + timedelta(days=14)]
    assert [d.mg for s in daily for d in s.drugs] == [400] * 14
    later = [s for s in slots if s.local_date >= START + timedelta(days=14) and s.drugs]
    assert {s.local_date.weekday() for s in later} == {0, 2, 4}


def test_months_are_calendar_months_from_the_start() -> None:
    data = _one(duration={"months": 6}, drugs=[{"name": "Rx"}])
    regimen = build_custom(data, "t", start=START)
    assert regimen.phases[0].doses_required == (date(2026, 9, 2) - START).days
    slots = list(iter_slots(_enrol(regimen)))
    assert slots[-1].local_date == date(2026, 9, 1)


def test_months_twice_a_day_count_two_doses_a_day() -> None:
    data = _one({"kind": "twice_daily"}, duration={"months": 1}, drugs=[{"name": "Rx"}])
    regimen = build_custom(data, "t", start=START)
    assert regimen.phases[0].doses_required == 2 * 31
    slots = list(iter_slots(_enrol(regimen, ("08:00", "20:00"))))
    assert slots[-1].local_date == date(2026, 4, 1)


def test_months_in_a_second_phase_count_from_where_the_first_ends() -> None:
    data = {
        "phases": [
            {"duration": {"weeks": 2}, "drugs": [{"name": "H"}]},
            {"duration": {"months": 1}, "drugs": [{"name": "R"}]},
        ]
    }
    regimen = build_custom(data, "t", start=START)
    assert regimen.phases[1].doses_required == (date(2026, 4, 16) - date(2026, 3, 16)).days


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"phases": []}, "phases", "at least one phase"),
        (_one(drugs=[]), "phases[0].drugs", "at least one medicine"),
        (_one(drugs=[{"name": "aspirin"}]), "phases[0].drugs[0].name", "not in the drug catalogue"),
        (_one(drugs=[{"name": "H"}, {"name": "isoniazid"}]), "phases[0].drugs", "listed twice"),
        (_one(duration={"weeks": 0}), "phases[0].duration.weeks", "1 or more"),
        (_one(duration={"weeks": 400}), "phases", "400 weeks"),
        (
            {"phases": [{"doses_required": 0, "drugs": [{"name": "H"}]}]},
            "phases[0].doses_required",
            "from 1",
        ),
        (
            _one({"kind": "three_times_weekly", "weekdays": ["mon", "tue", "thu"]}),
            "phases[0].pattern.min_gap_hours",
            "less than 48 h apart",
        ),
        (
            _one({"kind": "three_times_weekly", "weekdays": ["mon"]}),
            "phases[0].pattern.weekdays",
            "exactly 3",
        ),
        (_one({"kind": "fortnightly"}), "phases[0].pattern.kind", "must be one of"),
        (_one(duration={"months": 6}), "phases[0].duration.months", "start date"),
        (
            _one(duration={"days": 10}, pattern={"kind": "weekly"}),
            "phases[0].duration.days",
            "weeks",
        ),
        (_one(duration={"weeks": 2, "days": 3}), "phases[0].duration", "one of"),
        (_one(doses_required=10), "phases[0].doses_required", "either"),
        (
            _one(drugs=[{"name": "H", "tablets": "a few"}]),
            "phases[0].drugs[0].tablets",
            "as prescribed",
        ),
        (_one(drugs=[{"name": "H", "tablets": 0}]), "phases[0].drugs[0].tablets", "above 0"),
        (
            _one(drugs=[{"name": "H", "loading": {"tablets": 4}}]),
            "phases[0].drugs[0].loading.days",
            "how many days",
        ),
        ({**_one(), "dose_per_day": 2}, "dose_per_day", "unknown key"),
        (
            {
                "phases": [
                    _one({"kind": "three_times_weekly", "weekdays": ["tue", "thu", "sun"]})[
                        "phases"
                    ][0],
                    _one({"kind": "three_times_weekly"})["phases"][0],
                ]
            },
            "phases[1].pattern.weekdays",
            "previous phase's days",
        ),
        (
            {"phases": [_one({"kind": "weekly"})["phases"][0]] * 2},
            "phases[1].pattern.weekdays",
            "same weekday",
        ),
        ({**_one(), "id": "BPaLM"}, "id", "must start with 'custom'"),
        (
            {"phases": [_one({"kind": "twice_daily"})["phases"][0], _one()["phases"][0]]},
            "phases",
            "every phase",
        ),
    ],
)
def test_impossible_regimens_say_which_field_and_why(
    data: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(RegimenFileError) as caught:
        build_custom(data, "my.toml")
    assert caught.value.field == field
    assert words in caught.value.message
    assert caught.value.message.startswith("my.toml: ")


def test_toml_file_in_the_packaged_shape_loads() -> None:
    text = """
id = "custom-mine"
name = "What my clinic gave me"
[[phases]]
name = "first"
doses_required = 30
pattern = { kind = "weekdays", weekdays = ["mon", "wed", "fri"], min_gap_hours = 48 }
[[phases.drugs]]
name = "Bdq"
mg = 200
tablets = 2
[[phases]]
name = "second"
duration = { weeks = 10 }
pattern = { kind = "five_of_seven" }
[[phases.drugs]]
name = "Lzd"
tablets = "as prescribed"
"""
    regimen = load_custom_toml(text, "mine.toml")
    assert regimen.id == "custom-mine"
    assert [p.doses_required for p in regimen.phases] == [30, 50]
    assert regimen.phases[1].drugs[0].steps[0].tablets is None


def test_broken_toml_names_the_file() -> None:
    with pytest.raises(RegimenFileError) as caught:
        load_custom_toml("phases = [", "mine.toml")
    assert caught.value.source == "mine.toml"


def test_custom_regimen_survives_the_sealed_enrolment_form() -> None:
    regimen = build_custom(_one({"kind": "three_times_weekly"}), "t")
    enrolment = _enrol(regimen)
    stored = enrolment.to_dict()
    assert stored["regimen"] == "custom"
    back = Enrolment.from_dict(stored)
    assert back.regimen() == regimen
    assert regimen_from_dict(regimen_to_dict(regimen), "again") == regimen


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 3000)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_phase_like = st.fixed_dictionaries(
    {},
    optional={
        "name": _values,
        "doses_required": _values,
        "duration": st.dictionaries(
            st.sampled_from(["weeks", "months", "days", "x"]), _values, max_size=2
        ),
        "pattern": st.fixed_dictionaries(
            {}, optional={"kind": _values | st.sampled_from(list(PATTERNS)), "weekdays": _values}
        ),
        "drugs": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": _values | st.sampled_from(["H", "Bdq", "Rx", "linezolid"]),
                    "tablets": _values,
                    "mg": _values,
                    "loading": _values,
                    "weekdays": _values,
                },
            ),
            max_size=3,
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={"phases": st.lists(_phase_like, max_size=3) | _values, "doses_per_day": _values},
    ),
    start=st.none() | st.dates(date(2000, 1, 1), date(2035, 1, 1)),
)
def test_any_input_is_a_regimen_or_a_clear_error(data: dict[str, Any], start: date | None) -> None:
    try:
        regimen = build_custom(data, "fuzz.toml", start)
    except RegimenFileError as exc:
        assert exc.message.startswith("fuzz.toml: ")
        return
    assert regimen.phases and all(p.drugs and p.doses_required > 0 for p in regimen.phases)
