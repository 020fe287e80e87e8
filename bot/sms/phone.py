"""Phone numbers as identifiers: one spelling (E.164), checked with `phonenumbers`.

A number is an identifier as sensitive as a name: callers pass it to the blind index and seal it,
and nothing here logs it or puts it in an exception message.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

# `phonenumbers` and its metadata load on the first number read, in each function: every
# process holds the SMS channel's registry entry, and most never read a number.

MAX_INPUT = 40  # a formatted number with spaces and a leading 00 is far shorter


class InvalidPhone(ValueError):
    """Not a phone number a person can be reached at. The message never quotes the input."""


def to_e164(text: str, default_region: str | None = None) -> str:
    """`text` as E.164 (``+`` and digits), or `InvalidPhone`.

    Steps:
    1. Refuse anything too long to be a number, before parsing it.
    2. Parse it: an international number (``+``, or ``00`` then the country code) needs no
       region; a national one (``010-1234-5678``) is read in `default_region`.
    3. Keep it only if `phonenumbers` finds it valid for its country and of a kind a person
       texts from (not a short code or a premium line).
    """
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat

    candidate = text.strip()
    if not candidate or len(candidate) > MAX_INPUT:
        raise InvalidPhone("not a phone number")
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(
            candidate, None if candidate.startswith("+") else default_region
        )
    except NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid number for its country")
    if phonenumbers.number_type(number) not in _personal_types():
        raise InvalidPhone("not a number a person texts from")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """The ISO country of an E.164 number (``"CN"``, ``"KR"``), None if unknown."""
    import phonenumbers
    from phonenumbers import NumberParseException

    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    return phonenumbers.region_code_for_number(number)


def zones_of(e164: str) -> tuple[str, ...]:
    """The time zones a number's prefix belongs to (one for most numbers; several for a
    mobile in a country that spans many), only those this machine's tz database knows."""
    import phonenumbers
    from phonenumbers import NumberParseException
    from phonenumbers import timezone as number_zones

    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return ()
    return tuple(z for z in number_zones.time_zones_for_number(number) if z in _known_zones())


@cache
def _personal_types() -> frozenset[int]:
    """Kinds of number a person texts from; short codes, premium and shared-cost numbers are
    not."""
    from phonenumbers import PhoneNumberType

    return frozenset(
        {
            PhoneNumberType.MOBILE,
            PhoneNumberType.FIXED_LINE_OR_MOBILE,
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.PERSONAL_NUMBER,
            PhoneNumberType.VOIP,
            PhoneNumberType.UNKNOWN,
        }
    )


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())
