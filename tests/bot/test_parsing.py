"""What patients type, in three languages and full-width, is parsed or politely refused."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    ParseError,
    offset_zone,
    parse_count,
    parse_date,
    parse_missed,
    parse_time,
    parse_times,
    parse_utc_offset,
    parse_weight,
)

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("08:30", time(8, 30)),
        ("8:30", time(8, 30)),
        ("8.30", time(8, 30)),
        ("0830", time(8, 30)),
        ("20", time(20, 0)),
        ("8pm", time(20, 0)),
        ("8:15 p.m.", time(20, 15)),
        ("12am", time(0, 0)),
        ("12 pm", time(12, 0)),
        ("０８：３０", time(8, 30)),
        ("오후 8시 30분", time(20, 30)),
        ("오전 7시", time(7, 0)),
        ("下午8点", time(20, 0)),
        ("上午9点30", time(9, 30)),
        ("  23:59 ", time(23, 59)),
        ("0:00", time(0, 0)),
    ],
)
def test_times_typed_in_any_language_are_understood(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("25:00", "time_range"),
        ("12:60", "time_range"),
        ("13pm", "time_range"),
        ("noon-ish", "time_format"),
        ("", "empty"),
        ("   ", "empty"),
        ("8" * 300, "too_long"),
    ],
)
def test_impossible_times_are_refused_with_a_reason(typed: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_time(typed)
    assert caught.value.code == code


def test_several_times_are_sorted_and_spaces_inside_one_time_are_kept() -> None:
    assert parse_times("20:00, 08:00") == (time(8), time(20))
    assert parse_times("8am 8pm") == (time(8), time(20))
    assert parse_times("오전 8시, 오후 8시") == (time(8), time(20))
    assert parse_times("08:00、20:00") == (time(8), time(20))


def test_the_same_time_twice_is_refused() -> None:
    with pytest.raises(ParseError, match="duplicate_time"):
        parse_times("08:00, 8am")


@given(st.times())
def test_any_clock_time_round_trips_through_its_usual_spelling(t: time) -> None:
    assert parse_time(t.strftime("%H:%M")) == t.replace(second=0, microsecond=0)


@given(st.lists(st.times().map(lambda t: t.replace(second=0, microsecond=0)), max_size=4))
def test_lists_of_distinct_times_round_trip(times: list[time]) -> None:
    text = ", ".join(t.strftime("%H:%M") for t in times)
    if not times:
        with pytest.raises(ParseError):
            parse_times(text)
    elif len(set(times)) < len(times):
        with pytest.raises(ParseError, match="duplicate_time"):
            parse_times(text)
    else:
        assert parse_times(text) == tuple(sorted(times))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-03-01", date(2026, 3, 1)),
        ("2026.3.1", date(2026, 3, 1)),
        ("2026/03/01", date(2026, 3, 1)),
        ("2026년 3월 1일", date(2026, 3, 1)),
        ("2026年3月1日", date(2026, 3, 1)),
        ("today", TODAY),
        ("오늘", TODAY),
        ("昨天", TODAY - timedelta(days=1)),
    ],
)
def test_dates_typed_in_any_language_are_understood(typed: str, expected: date) -> None:
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "code"), [("2026-02-30", "date_range"), ("1/3/26", "date_format")]
)
def test_impossible_or_ambiguous_dates_are_refused(typed: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_date(typed, TODAY)
    assert caught.value.code == code


@given(st.dates(min_value=date(1000, 1, 1)))
def test_any_iso_date_round_trips(day: date) -> None:
    assert parse_date(day.isoformat(), TODAY) == day


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("55", 55.0), ("55.5", 55.5), ("55,5 kg", 55.5), ("60킬로", 60.0), ("48公斤", 48.0)],
)
def test_weights_are_read_in_kilograms(typed: str, expected: float) -> None:
    assert parse_weight(typed) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("2.9", "weight_range"),
        ("251", "weight_range"),
        ("-5", "weight_format"),
        ("heavy", "weight_format"),
    ],
)
def test_weights_outside_3_to_250_kg_are_refused(typed: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_weight(typed)
    assert caught.value.code == code


def test_counts_refuse_negative_and_absurd_numbers() -> None:
    assert parse_count("28") == 28
    for typed, code in [
        ("-5", "count_range"),
        ("10000000", "count_range"),
        ("ten", "count_format"),
    ]:
        with pytest.raises(ParseError) as caught:
            parse_count(typed)
        assert caught.value.code == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("UTC+9", timedelta(hours=9)),
        ("+09:00", timedelta(hours=9)),
        ("gmt-3:30", -timedelta(hours=3, minutes=30)),
        ("+0545", timedelta(hours=5, minutes=45)),
        ("utc+14", timedelta(hours=14)),
    ],
)
def test_utc_offsets_are_understood(typed: str, expected: timedelta) -> None:
    assert parse_utc_offset(typed) == expected


@pytest.mark.parametrize("typed", ["+15", "-13", "+09:20", "nine"])
def test_offsets_that_do_not_exist_are_refused(typed: str) -> None:
    with pytest.raises(ParseError):
        parse_utc_offset(typed)


def test_whole_hour_offsets_map_to_etc_zones_with_posix_signs() -> None:
    assert offset_zone(timedelta(hours=9)) == "Etc/GMT-9"
    assert offset_zone(-timedelta(hours=5)) == "Etc/GMT+5"
    assert offset_zone(timedelta(0)) == "Etc/UTC"
    with pytest.raises(ParseError, match="offset_needs_city"):
        offset_zone(timedelta(hours=5, minutes=30))


PARSERS = [
    parse_time,
    parse_times,
    lambda s: parse_date(s, TODAY),
    parse_weight,
    parse_count,
    parse_utc_offset,
    lambda s: parse_missed(s, TODAY - timedelta(days=10), TODAY, 10),
]


@given(st.text(max_size=400), st.sampled_from(PARSERS))
def test_no_input_makes_a_parser_raise_anything_but_a_parse_error(
    text: str, parser: Callable[[str], object]
) -> None:
    with contextlib.suppress(ParseError):
        parser(text)


FIRST = TODAY - timedelta(days=10)


def test_missed_doses_are_a_count_or_the_days() -> None:
    assert parse_missed("３", FIRST, TODAY, 10) == 3
    assert parse_missed("2026-11-20, 2026年11月21日、2026.11.20", FIRST, TODAY, 10) == (
        date(2026, 11, 20),
        date(2026, 11, 21),
    )
    assert parse_missed("yesterday; today", FIRST, TODAY, 10) == (
        TODAY - timedelta(days=1),
        TODAY,
    )


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("0", "count_range"),
        ("11", "count_range"),
        ("2026-11-18", "date_range"),  # before the first dose
        ("2026-11-30", "date_range"),  # tomorrow
        ("some", "date_format"),
        (", ,", "empty"),
    ],
)
def test_impossible_missed_doses_are_refused(typed: str, code: str) -> None:
    with pytest.raises(ParseError, match=code):
        parse_missed(typed, FIRST, TODAY, 10)


@given(st.sets(st.integers(min_value=0, max_value=10), min_size=1, max_size=11))
def test_any_set_of_days_in_the_period_round_trips(offsets: set[int]) -> None:
    days = sorted(FIRST + timedelta(days=n) for n in offsets)
    typed = ", ".join(d.isoformat() for d in days)
    assert parse_missed(typed, FIRST, TODAY, 10) == tuple(days)
