"""Parsers of the prescription words typed in set-up: examples in three languages, and
properties over any input (Hypothesis): a value in range or ParseError, never anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import ParseError
from bot.prescription import (
    MAX_DRUGS,
    parse_length,
    parse_loading,
    parse_picks,
    parse_tablets,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1, 3, 9", (0, 2, 8)), ("9 10", (8, 9)), ("１、３", (0, 2)), ("3，1", (2, 0))],
)
def test_picks(text: str, expected: tuple[int, ...]) -> None:
    assert parse_picks(text, 23) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("0", "picks_range"), ("24", "picks_range"), ("1, 1", "picks_twice"), ("abc", "picks_format")],
)
def test_bad_picks(text: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_picks(text, 23)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        ("1.5", 1.5),
        ("1,5", 1.5),
        ("½", 0.5),
        ("1½", 1.5),
        ("2 tablets", 2),
        ("2알", 2),
        ("3정", 3),
        ("2片", 2),
        ("２粒", 2),
        ("0.25", 0.25),
    ],
)
def test_tablets(text: str, expected: float) -> None:
    assert parse_tablets(text) == expected


@pytest.mark.parametrize("text", ["0", "21", "0.3", "two", "-1", ""])
def test_bad_tablets(text: str) -> None:
    with pytest.raises(ParseError):
        parse_tablets(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 x 14", (4, 14)),
        ("4×14", (4, 14)),
        ("4 for 14 days", (4, 14)),
        ("4알씩 14일", (4, 14)),
        ("4片×14天", (4, 14)),
        ("4 tablets x 14", (4, 14)),
    ],
)
def test_loading(text: str, expected: tuple[int, int]) -> None:
    assert parse_loading(text) == expected


@pytest.mark.parametrize("text", ["4", "0 x 14", "4 x 0", "4 x 91", "x 14"])
def test_bad_loading(text: str) -> None:
    with pytest.raises(ParseError):
        parse_loading(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24 weeks", ("weeks", 24)),
        ("24w", ("weeks", 24)),
        ("6 months", ("months", 6)),
        ("6 Months", ("months", 6)),
        ("180 doses", ("doses", 180)),
        ("56 days", ("days", 56)),
        ("24주", ("weeks", 24)),
        ("6개월", ("months", 6)),
        ("180회", ("doses", 180)),
        ("24周", ("weeks", 24)),
        ("6个月", ("months", 6)),
        ("180次", ("doses", 180)),
        ("２４ 周", ("weeks", 24)),
    ],
)
def test_length(text: str, expected: tuple[str, int]) -> None:
    assert parse_length(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("24", "length_format"),
        ("24 fortnights", "length_unit"),
        ("0 weeks", "length_range"),
        ("1000 weeks", "length_range"),
    ],
)
def test_bad_length(text: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_length(text)
    assert caught.value.code == code


@given(st.text(max_size=300))
def test_every_parser_answers_any_text_with_a_value_or_parse_error(text: str) -> None:
    for parse in (
        lambda: parse_picks(text, 23),
        lambda: parse_tablets(text),
        lambda: parse_loading(text),
        lambda: parse_length(text),
    ):
        try:
            value = parse()
        except ParseError:
            continue
        assert value is not None


@given(
    st.lists(st.integers(1, 23), min_size=1, max_size=MAX_DRUGS, unique=True),
    st.sampled_from([", ", " ", "、", "，", ";"]),
)
def test_picks_read_back_what_was_typed(numbers: list[int], separator: str) -> None:
    assert parse_picks(separator.join(map(str, numbers)), 23) == tuple(n - 1 for n in numbers)


@given(st.integers(1, 80).map(lambda q: q / 4))
def test_quarter_tablets_read_back(tablets: float) -> None:
    assert parse_tablets(f"{tablets:g}") == tablets


@given(st.integers(1, 999), st.sampled_from(["weeks", "주", "周", "months", "개월", "个月"]))
def test_lengths_read_back(amount: int, unit: str) -> None:
    kind, n = parse_length(f"{amount} {unit}")
    assert n == amount and kind in ("weeks", "months")
