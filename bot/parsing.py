"""Parsers for what a patient types: times, dates, weights, UTC offsets, counts.

Patients type on phones in Korean, Chinese and English input modes, so every parser first folds
full-width digits and punctuation (`０８：３０`) to ASCII with NFKC, and accepts the common
spellings of each language. Each parser returns a value or raises `ParseError` whose `code`
the dialogue translates; nothing here raises anything else on any input.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta

MAX_INPUT = 64  # longer text is never a time, date or number; refusing it early bounds the work


class ParseError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalise(text: str) -> str:
    """NFKC-folded, trimmed, lower-case text; empty or overlong input is refused."""
    if len(text) > MAX_INPUT * 4:
        raise ParseError("too_long")
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    if not folded:
        raise ParseError("empty")
    if len(folded) > MAX_INPUT:
        raise ParseError("too_long")
    return folded


_TIME = re.compile(
    r"^(?P<pm_prefix>오전|오후|上午|下午|早上|晚上)?\s*"
    r"(?P<h>\d{1,2})(?:(?:[:.h시点點]\s*)(?P<m>\d{2})?)?\s*(?:분|分)?\s*"
    r"(?P<suffix>am|pm|a\.m\.|p\.m\.)?$"
)
_COMPACT_TIME = re.compile(r"^(?P<h>\d{2})(?P<m>\d{2})$")
_PM = {"오후", "下午", "晚上", "pm", "p.m."}
_AM = {"오전", "上午", "早上", "am", "a.m."}


def parse_time(text: str) -> time:
    """A local clock time: `08:30`, `8.30`, `0830`, `8pm`, `오후 8시 30분`, `下午8点`."""
    value = normalise(text)
    compact = _COMPACT_TIME.match(value)
    match = compact or _TIME.match(value)
    if match is None:
        raise ParseError("time_format")
    hour = int(match["h"])
    minute = int(match["m"] or 0)
    marker = None if compact else (match["pm_prefix"] or match["suffix"])
    if marker is not None:
        if not 1 <= hour <= 12:
            raise ParseError("time_range")
        if marker in _PM and hour != 12:
            hour += 12
        elif marker in _AM and hour == 12:
            hour = 0
    if hour > 23 or minute > 59:
        raise ParseError("time_range")
    return time(hour, minute)


def parse_times(text: str, max_count: int = 4) -> tuple[time, ...]:
    """One or more distinct times, in order: `08:00, 20:00`, `8am 8pm`, `오전 8시, 오후 8시`.

    Commas and the like always separate; spaces separate only when every piece they make is a
    time by itself, since `8 pm` and `오후 8시` are single times with a space inside.
    """
    parts: list[time] = []
    for chunk in re.split(r"[,;、，/]+", normalise(text)):
        if not chunk.strip():
            continue
        try:
            parts.append(parse_time(chunk))
        except ParseError:
            parts.extend(parse_time(word) for word in chunk.split())
        if len(parts) > max_count:
            raise ParseError("too_many_times")
    if not parts:
        raise ParseError("empty")
    times = sorted(set(parts))
    if len(times) != len(parts):
        raise ParseError("duplicate_time")
    return tuple(times)


_DATE = re.compile(
    r"^(?P<y>\d{4})\s*[-./년年]\s*(?P<m>\d{1,2})\s*[-./월月]\s*(?P<d>\d{1,2})\s*[일日]?$"
)
_RELATIVE = {"today": 0, "오늘": 0, "今天": 0, "yesterday": 1, "어제": 1, "昨天": 1}


def parse_date(text: str, today: date) -> date:
    """A date: `2026-03-01`, `2026.3.1`, `2026년 3월 1일`, `2026年3月1日`, today or yesterday."""
    value = normalise(text)
    if value in _RELATIVE:
        return today - timedelta(days=_RELATIVE[value])
    match = _DATE.match(value)
    if match is None:
        raise ParseError("date_format")
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise ParseError("date_range") from None


_NUMBER = re.compile(r"^(?P<n>\d{1,6}(?:[.,]\d{1,3})?)\s*(?P<unit>kg|킬로|킬로그램|公斤|千克)?$")


def parse_weight(text: str, low: float = 3.0, high: float = 250.0) -> float:
    """A body weight in kilograms within [low, high]: `55`, `55,5 kg`, `55킬로`, `55公斤`."""
    match = _NUMBER.match(normalise(text))
    if match is None:
        raise ParseError("weight_format")
    weight = float(match["n"].replace(",", "."))
    if not low <= weight <= high:
        raise ParseError("weight_range")
    return weight


def parse_count(text: str, low: int = 0, high: int = 10_000) -> int:
    """A whole number of things (tablets, days) within [low, high]."""
    value = normalise(text)
    if not re.fullmatch(r"[-+]?\d{1,12}", value):
        raise ParseError("count_format")
    number = int(value)
    if not low <= number <= high:
        raise ParseError("count_range")
    return number


MAX_MISSED_DAYS = 31
_LIST_SEPARATORS = re.compile(r"[,;、，；\n]+")


def parse_missed(text: str, first: date, today: date, due: int) -> int | tuple[date, ...]:
    """Doses missed since `first`: a number of doses from 1 to `due`, or the days, one date
    per item separated by commas (`2026-03-03, 2026-03-05`), each from `first` to `today`."""
    if len(text) > MAX_INPUT * 8:
        raise ParseError("too_long")
    folded = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"[-+]?\d{1,12}", folded):
        return parse_count(folded, low=1, high=due)
    parts = [part for part in _LIST_SEPARATORS.split(folded) if part.strip()]
    if not parts:
        raise ParseError("empty")
    if len(parts) > MAX_MISSED_DAYS:
        raise ParseError("too_many")
    days = {parse_date(part, today) for part in parts}
    if any(not first <= day <= today for day in days):
        raise ParseError("date_range")
    return tuple(sorted(days))


_OFFSET = re.compile(r"^(?:utc|gmt)?\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$")


def parse_utc_offset(text: str) -> timedelta:
    """A fixed UTC offset: `UTC+9`, `+09:00`, `GMT-3:30`, `+0545`, between -12:00 and +14:00."""
    match = _OFFSET.match(normalise(text))
    if match is None:
        raise ParseError("offset_format")
    minutes = int(match["m"] or 0)
    if minutes not in (0, 30, 45):
        raise ParseError("offset_range")
    offset = timedelta(hours=int(match["h"]), minutes=minutes)
    if match["sign"] == "-":
        offset = -offset
    if not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        raise ParseError("offset_range")
    return offset


def offset_zone(offset: timedelta) -> str:
    """The IANA zone name for a whole-hour offset (`Etc/GMT-9` is UTC+9: POSIX inverts the sign).

    Offsets with minutes have no `Etc/` zone; the caller asks for a city instead.
    """
    total = int(offset.total_seconds())
    if total % 3600:
        raise ParseError("offset_needs_city")
    hours = total // 3600
    if hours == 0:
        return "Etc/UTC"
    return f"Etc/GMT{-hours:+d}"
