"""The day of a visit, as typed in English, Korean and Chinese: read back exactly, or refused
with a reason (passed, too far, no such day, unreadable), never anything else."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dates import parse_day, parse_when
from bot.parsing import ParseError

TODAY = date(2026, 12, 1)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/3", date(2026, 12, 3)),
        ("3월 12일", date(2027, 3, 12)),
        ("12月3日", date(2026, 12, 3)),
        ("12月3号", date(2026, 12, 3)),
        ("2026-12-03", date(2026, 12, 3)),
        ("2026년 12월 3일", date(2026, 12, 3)),
        ("2026年12月3日", date(2026, 12, 3)),
        ("２０２６－１２－０３", date(2026, 12, 3)),
        ("tomorrow", date(2026, 12, 2)),
        ("Tomorrow", date(2026, 12, 2)),
        ("내일", date(2026, 12, 2)),
        ("明天", date(2026, 12, 2)),
        ("모레", date(2026, 12, 3)),
        ("后天", date(2026, 12, 3)),
        ("today", TODAY),
        ("Dec 3", date(2026, 12, 3)),
        ("3 December 2026", date(2026, 12, 3)),
        ("1/15", date(2027, 1, 15)),
    ],
)
def test_days_typed_in_each_language_are_read(typed: str, expected: date) -> None:
    assert parse_day(typed, TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("11/20", "date_past"),  # passed this month: not next year
        ("2026-11-30", "date_past"),
        ("2028-01-05", "date_far"),
        ("2/30", "date_range"),
        ("13/40", "date_range"),
        ("soon", "date_format"),
        ("", "empty"),
        ("x" * 500, "too_long"),
    ],
)
def test_bad_days_get_a_reason(typed: str, code: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_day(typed, TODAY)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/3 10:30", (date(2026, 12, 3), time(10, 30))),
        ("내일 오후 3시", (date(2026, 12, 2), time(15, 0))),
        ("12월 3일 오전 9시 30분", (date(2026, 12, 3), time(9, 30))),
        ("明天下午3点", (date(2026, 12, 2), time(15, 0))),
        ("12月3日10点", (date(2026, 12, 3), time(10, 0))),
        ("tomorrow 2pm", (date(2026, 12, 2), time(14, 0))),
        ("12/3", (date(2026, 12, 3), None)),
    ],
)
def test_a_day_and_a_time_together_are_read(typed: str, expected: tuple[date, time]) -> None:
    assert parse_when(typed, TODAY) == expected


def _forms(day: date) -> list[str]:
    m, d, y = day.month, day.day, day.year
    return [
        day.isoformat(),
        f"{y}.{m}.{d}",
        f"{y}/{m}/{d}",
        f"{y}년 {m}월 {d}일",
        f"{y}年{m}月{d}日",
        f"{MONTHS[m - 1]} {d}, {y}",
        f"{d} {MONTHS[m - 1]} {y}",
    ]


@given(
    today=st.dates(date(2025, 1, 1), date(2030, 12, 31)),
    ahead=st.integers(0, 364),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_any_day_within_a_year_reads_back_in_every_form(today: date, ahead: int, at: time) -> None:
    day = today + timedelta(days=ahead)
    for typed in _forms(day):
        assert parse_day(typed, today) == day, typed
        assert parse_when(f"{typed} {at:%H:%M}", today) == (day, at), typed


@given(today=st.dates(date(2025, 1, 1), date(2030, 12, 31)), ahead=st.integers(0, 330))
def test_a_day_without_its_year_is_the_next_one_to_come(today: date, ahead: int) -> None:
    day = today + timedelta(days=ahead)
    if (day.month, day.day) == (2, 29):
        return
    for typed in (
        f"{day.month}/{day.day}",
        f"{day.month}월 {day.day}일",
        f"{day.month}月{day.day}日",
    ):
        assert parse_day(typed, today) == day


@given(today=st.dates(date(2025, 1, 1), date(2030, 12, 31)), back=st.integers(1, 3000))
def test_a_day_in_the_past_is_never_accepted(today: date, back: int) -> None:
    day = today - timedelta(days=back)
    with pytest.raises(ParseError) as raised:
        parse_day(day.isoformat(), today)
    assert raised.value.code == "date_past"


@given(text=st.text(max_size=80))
def test_any_text_gives_a_day_ahead_or_a_parse_error(text: str) -> None:
    try:
        day, _ = parse_when(text, TODAY)
    except ParseError:
        return
    assert TODAY <= day <= date(2027, 12, 1)
