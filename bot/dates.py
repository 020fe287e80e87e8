"""A day ahead, as people type it in English, Korean and Chinese: for visits and tests.

Accepted: `2026-12-03`, `2026.12.3`, `2026/12/3`, `2026년 12월 3일`, `2026年12月3日`; without the
year `12/3`, `12-3`, `12.3`, `12월 3일`, `12月3日`, `12月3号`, `Dec 3`, `3 December`; and
today, tomorrow, the day after (`오늘`, `내일`, `모레`, `今天`, `明天`, `后天`). A number pair is
month then day, as all three languages write it in the short form the bot shows (`12/3` is
3 December). A date without a year is the next one to come, unless it passed within the last
month (then it is the past, not next year). A day in the past or more than a year ahead is
refused with a code the dialogue turns into a question back. `parse_when` also reads a time
after the day (`12/3 10:30`, `내일 오후 3시`, `明天下午3点`).
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from bot.parsing import ParseError, normalise, parse_time
from treatment.regimen import Duration

RECENTLY_PASSED = timedelta(days=31)
FURTHEST = Duration(months=12)

_RELATIVE = {
    "today": 0,
    "오늘": 0,
    "今天": 0,
    "今日": 0,
    "tomorrow": 1,
    "내일": 1,
    "明天": 1,
    "明日": 1,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "모레": 2,
    "后天": 2,
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_YEAR_FIRST = re.compile(
    r"^(?P<y>\d{4})\s*[-./년年]\s*(?P<m>\d{1,2})\s*[-./월月]\s*(?P<d>\d{1,2})\s*[일日号號]?$"
)
_MONTH_DAY = re.compile(r"^(?P<m>\d{1,2})\s*(?:[-./]|월|月)\s*(?P<d>\d{1,2})\s*[일日号號]?$")
_NAMED = re.compile(
    r"^(?:(?P<m1>[a-z]+)\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m2>[a-z]+)\.?)"
    r"(?:,?\s+(?P<y>\d{4}))?$"
)


def parse_day(text: str, today: date) -> date:
    """A day from `today` (local) to a year ahead; `ParseError` with `date_format`,
    `date_range` (no such day), `date_past` or `date_far` otherwise."""
    value = normalise(text)
    if value in _RELATIVE:
        return today + timedelta(days=_RELATIVE[value])
    year, month, day = _parts(value)
    try:
        found = date(year or today.year, month, day)
    except ValueError:
        raise ParseError("date_range") from None
    if year is None and found < today - RECENTLY_PASSED:
        try:
            found = date(today.year + 1, month, day)
        except ValueError:  # 29 February
            raise ParseError("date_range") from None
    if found < today:
        raise ParseError("date_past")
    if found > FURTHEST.after(today):
        raise ParseError("date_far")
    return found


def parse_when(text: str, today: date) -> tuple[date, time | None]:
    """A day, optionally followed by a time of day (split at a space, or where a Chinese or
    Korean time begins without one)."""
    value = normalise(text)
    try:
        return parse_day(value, today), None
    except ParseError as whole:
        if whole.code in ("date_past", "date_far", "date_range"):
            raise
        problem = whole
    for cut in _cuts(value):
        head, tail = value[:cut].strip(), value[cut:].strip()
        if not head or not tail:
            continue
        try:
            at = parse_time(tail)
            return parse_day(head, today), at
        except ParseError as error:
            if error.code in ("date_past", "date_far", "date_range"):
                raise
    raise problem


def _cuts(value: str) -> list[int]:
    """Where a day may end and a time begin: every space, after 日/号/일 and before
    上午/下午/오전/오후/早上/晚上."""
    spaces = [i for i, ch in enumerate(value) if ch == " "]
    after_day = [i + 1 for i, ch in enumerate(value) if ch in "日号號일"]
    markers = [m.start() for m in re.finditer(r"上午|下午|早上|晚上|오전|오후", value)]
    return sorted(set(spaces + after_day + markers), reverse=True)


def _parts(value: str) -> tuple[int | None, int, int]:
    match = _YEAR_FIRST.match(value)
    if match:
        return int(match["y"]), int(match["m"]), int(match["d"])
    match = _MONTH_DAY.match(value)
    if match:
        return None, int(match["m"]), int(match["d"])
    match = _NAMED.match(value)
    if match:
        name = match["m1"] or match["m2"]
        number = _MONTHS.get(name)
        if number is not None:
            year = int(match["y"]) if match["y"] else None
            return year, number, int(match["d1"] or match["d2"])
    raise ParseError("date_format")
