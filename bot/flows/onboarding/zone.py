"""The time-zone question of set-up, and reading a typed city, zone name or UTC offset."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

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


MAX_GUESSES = 6


def _guesses(data: dict[str, object]) -> list[str]:
    zones = data.get("zones")
    return [str(z) for z in zones][:MAX_GUESSES] if isinstance(zones, list) else []


def zone_label(t: Translator, zone: str, at: datetime) -> str:
    """A zone as a person recognises it: its main city and the local time then
    ("Shanghai, 8:05 PM")."""
    return t._(
        "{city}, {time}", city=_city(zone), time=t.time(at.astimezone(ZoneInfo(zone)).time())
    )


def _city(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def ask_guess(t: Translator, data: dict[str, object]) -> Reply:
    """The time zone of the person's address, to confirm (one), or to pick from (a few)."""
    at = datetime.fromisoformat(str(data["zones_at"]))
    guesses = _guesses(data)
    if len(guesses) == 1:
        rows = [
            (Choice(t._("Yes"), OPT, "yes"),),
            (Choice(t._("No, another place"), OPT, "other"),),
        ]
        zone = guesses[0]
        return Reply(
            t._(
                "I remind you at your local time. Is it {time} where you are ({city} time)?",
                time=t.time(at.astimezone(ZoneInfo(zone)).time()),
                city=_city(zone),
            ),
            with_cancel(t, rows),
        )
    rows = [(Choice(zone_label(t, zone, at), OPT, zone.replace("/", ".")),) for zone in guesses]
    rows.append((Choice(t._("Another place"), OPT, "other"),))
    return Reply(
        t._("I remind you at your local time. Which time is it where you are?"),
        with_cancel(t, rows),
    )


def accept_guess(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    guesses = _guesses(c.data)
    if a.option == "other":
        return c.at("zone", now)
    if a.option == "yes" and len(guesses) == 1:
        return c.at("regimen", now, zone=guesses[0])
    if a.option is not None and a.option.replace(".", "/") in guesses:
        return c.at("regimen", now, zone=a.option.replace(".", "/"))
    if a.text is not None:
        # A typed place is as good an answer as on the question that asks for one.
        return accept_zone(c, a, now)
    return None


def ask_zone(t: Translator, data: dict[str, object]) -> Reply:
    rows = [
        tuple(
            Choice(zone.split("/")[-1].replace("_", " "), OPT, zone.replace("/", "."))
            for zone in pair
        )
        for pair in zip(ZONES[::2], ZONES[1::2], strict=True)
    ]
    return Reply(
        # Short: with the cities listed it must still fit one SMS, not be cut.
        t._("Where are you, for your local time? Pick a city, or type one or UTC+9."),
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
