"""The time-zone question of set-up, and reading a typed city, zone name or UTC offset."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import available_timezones

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.step import Answer, with_cancel
from bot.i18n import Translator, translator
from bot.parsing import ParseError, offset_zone, parse_utc_offset

# Cities offered as buttons; anything else is typed (a city, an IANA name or a UTC offset).
ZONES = (
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Manila",
    "Asia/Ho_Chi_Minh",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
)
CITY_ALIASES = {
    "서울": "Asia/Seoul",
    "부산": "Asia/Seoul",
    "上海": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "广州": "Asia/Shanghai",
    "深圳": "Asia/Shanghai",
    "香港": "Asia/Hong_Kong",
    "台北": "Asia/Taipei",
    "东京": "Asia/Tokyo",
    "도쿄": "Asia/Tokyo",
    "beijing": "Asia/Shanghai",
}


def ask_zone(t: Translator, data: dict[str, object]) -> Reply:
    rows = [
        tuple(
            Choice(zone.split("/")[-1].replace("_", " "), OPT, zone.replace("/", "."))
            for zone in pair
        )
        for pair in zip(ZONES[::2], ZONES[1::2], strict=True)
    ]
    return Reply(
        t._(
            "Where are you? I use this to remind you at your local time. Pick a city, or type "
            "another city, a time zone such as Europe/Paris, or a UTC offset such as UTC+9."
        ),
        with_cancel(t, rows),
    )


def accept_zone(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option is not None:
        return c.at("regimen", now, zone=a.option.replace(".", "/"))
    zone = find_zone(a.text or "")
    if zone is None:
        return t._(
            "I don't know that place. Try a bigger city nearby, or a UTC offset such as UTC+9."
        )
    return c.at("regimen", now, zone=zone)


def find_zone(text: str) -> str | None:
    """An IANA zone for a typed city, zone name or UTC offset; None when nothing fits."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if not typed or len(typed) > 64:
        return None
    if typed in CITY_ALIASES or typed.lower() in CITY_ALIASES:
        return CITY_ALIASES.get(typed) or CITY_ALIASES[typed.lower()]
    try:
        return offset_zone(parse_utc_offset(typed))
    except ParseError:
        pass
    wanted = typed.lower().replace(" ", "_")
    by_name = {zone.lower(): zone for zone in _zones()}
    if wanted in by_name:
        return by_name[wanted]
    cities = [zone for zone in _zones() if zone.lower().rsplit("/", 1)[-1] == wanted]
    return cities[0] if len(cities) == 1 else None


def _zones() -> set[str]:
    return {zone for zone in available_timezones() if "/" in zone and not zone.startswith("Etc/")}
