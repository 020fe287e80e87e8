"""Phone numbers to one spelling, and what their country says about the time zone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sms.phone import InvalidPhone, region_of, to_e164

CHINA_MOBILE = "+8613800138000"
KOREA_MOBILE = "+821012345678"


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("+86 138 0013 8000", None, CHINA_MOBILE),
        ("138-0013-8000", "CN", CHINA_MOBILE),
        ("008613800138000", None, CHINA_MOBILE),
        ("010-1234-5678", "KR", KOREA_MOBILE),
        ("+82 (10) 1234 5678", "CN", KOREA_MOBILE),
        ("＋８２１０１２３４５６７８", None, KOREA_MOBILE),
    ],
)
def test_every_spelling_of_a_number_becomes_the_same_e164(
    typed: str, region: str | None, expected: str
) -> None:
    assert to_e164(typed, region) == expected


@pytest.mark.parametrize(
    "typed", ["", "hello", "+1", "10086", "+86 138", "1" * 200, "+86 138 0013 8000 ext"]
)
def test_what_is_not_a_personal_number_is_refused_without_quoting_it(typed: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        to_e164(typed, "CN")
    if typed:
        assert typed not in str(caught.value)


def test_a_national_number_needs_a_region() -> None:
    with pytest.raises(InvalidPhone):
        to_e164("010-1234-5678")


def test_the_country_of_a_number_is_known() -> None:
    assert region_of(CHINA_MOBILE) == "CN"
    assert region_of(KOREA_MOBILE) == "KR"
    assert region_of("not a number") is None


@given(st.text(max_size=60), st.sampled_from([None, "CN", "KR", "US"]))
def test_any_input_gives_e164_or_invalid_phone(text: str, region: str | None) -> None:
    try:
        number = to_e164(text, region)
    except InvalidPhone:
        return
    assert number.startswith("+") and number[1:].isdigit()
    assert to_e164(number) == number
