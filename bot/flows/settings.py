"""`/settings`: change one thing at a time, each checked like at onboarding.

The flow returns a `Change`, one of the `Set...` values below (a tagged union: the type says
which setting, the fields its new value); the caller applies it in one transaction and replies
only after it is stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.onboarding.discreet import MAX_COVER
from bot.flows.onboarding.tablets import product_choices, products_question
from bot.flows.onboarding.zone import find_zone
from bot.i18n import LOCALES, Translator, translator
from bot.parsing import ParseError, parse_time, parse_times, parse_weight
from bot.texts import LANGUAGE_NAMES, N_
from scheduler.preferences import Nudges
from treatment.catalogue import load_catalogue
from treatment.regimen import COMBINATION

FLOW = "settings"
ITEMS = {
    "times": N_("Dose times"),
    "zone": N_("Time zone"),
    "language": N_("Language"),
    "discreet": N_("Discreet mode"),
    "nudges": N_("Follow-up reminders"),
    "quiet": N_("Quiet hours"),
    "weight": N_("Weight"),
    "products": N_("Which tablets I have"),
    "delete_after": N_("Delete health messages from the chat"),
    "mood": N_("Mood check-ins"),
    "refill": N_("Reminder to buy more tablets"),
    "regimen": N_("Record a change your clinician made to your treatment"),
}
NUDGE_CHOICES = {
    "two": N_("Two (after 30 min and 2 h)"),
    "one": N_("One (after 30 min)"),
    "none": N_("None"),
}
REFILL_CHOICES = {
    "3": N_("3 days before they run out"),
    "7": N_("7 days before they run out"),
    "14": N_("14 days before they run out"),
}
REFILL_HELPER_CHOICES = {"yes": N_("Tell my helper too"), "no": N_("Only me")}
MOOD_CHOICES = {"14": N_("Every 2 weeks"), "7": N_("Every week"), "0": N_("Never")}
DELETE_CHOICES = {"0": N_("Never"), "60": N_("After 1 hour"), "1440": N_("After 1 day")}


@dataclass(frozen=True, slots=True)
class SetLanguage:
    locale: str


@dataclass(frozen=True, slots=True)
class SetNudges:
    nudges: Nudges


@dataclass(frozen=True, slots=True)
class SetQuietHours:
    span: tuple[time, time] | None  # local start and end; None: no quiet hours


@dataclass(frozen=True, slots=True)
class SetDeleteAfter:
    minutes: int  # 0: never


@dataclass(frozen=True, slots=True)
class SetMoodEvery:
    days: int  # 0: never


@dataclass(frozen=True, slots=True)
class SetRefill:
    warn_days: int
    to_helper: bool | None = None  # None: as before


@dataclass(frozen=True, slots=True)
class SetDiscreet:
    on: bool
    cover_word: str | None = None


@dataclass(frozen=True, slots=True)
class SetZone:
    zone: str


@dataclass(frozen=True, slots=True)
class SetTimes:
    times: tuple[time, ...]


@dataclass(frozen=True, slots=True)
class SetWeight:
    kg: float


@dataclass(frozen=True, slots=True)
class SetProducts:
    product_set: str | None  # None: the combination tablets


@dataclass(frozen=True, slots=True)
class ChangeRegimen:
    """Not a setting: the way to `/regimen` from the menu (a clinician's change)."""


Change = (
    SetLanguage
    | SetNudges
    | SetQuietHours
    | SetDeleteAfter
    | SetMoodEvery
    | SetRefill
    | SetDiscreet
    | SetZone
    | SetTimes
    | SetWeight
    | SetProducts
)
CHANGES = (
    SetLanguage,
    SetNudges,
    SetQuietHours,
    SetDeleteAfter,
    SetMoodEvery,
    SetRefill,
    SetDiscreet,
    SetZone,
    SetTimes,
    SetWeight,
    SetProducts,
)


Turn = FlowTurn[Change | ChangeRegimen]


def begin(
    now: datetime,
    language: str,
    doses_per_day: int,
    regimen_id: str | None = None,
    *,
    discreet_only: bool = False,
    deletes: bool = True,
) -> Turn:
    """The menu; "Which tablets I have" only for a regimen that comes more than one way.

    Where others read every message on the way (`discreet_only`), plain wording is never
    offered: "Discreet mode" only changes the cover word, and tablets are not named. Deleting
    messages is offered only where the channel `deletes` them.
    """
    data = {"language": language, "doses": doses_per_day, "regimen": regimen_id}
    if discreet_only:
        data["discreet_only"] = True
    if not deletes:
        data["no_deletes"] = True
    conversation = Conversation(FLOW, "menu", data, now)
    return Turn([_ask(conversation)], conversation)


def _items(data: dict[str, Any]) -> dict[str, str]:
    # A custom regimen is not in the catalogue and comes one way only.
    regimen = load_catalogue().regimens.get(str(data.get("regimen")))
    offered = regimen is not None and bool(regimen.product_sets)
    hidden = {"products"} if not offered else set()
    if data.get("no_deletes"):
        hidden.add("delete_after")
    return {key: label for key, label in ITEMS.items() if key not in hidden}


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """Menu, then one question for the chosen setting; a bad answer repeats it with a reason."""
    t = translator(conversation.data["language"])
    option = event.option(_ask(conversation))
    text = event.text if event.kind is Kind.TEXT else None
    if option == "close":
        return Turn([Reply(t._("Settings closed."))], None)
    step = conversation.step
    if step == "menu":
        if option == "regimen":
            return Turn([], None, ChangeRegimen())
        if option in _items(conversation.data):
            # Where discreet wording is the only wording, only its cover word can change.
            step = (
                "cover"
                if option == "discreet" and conversation.data.get("discreet_only")
                else option
            )
            moved = conversation.at(step, now)
            return Turn([_ask(moved)], moved)
        return _again(t, conversation, now, None)
    result = _read(step, option, text, conversation.data, t)
    if isinstance(result, CHANGES):
        if step == "discreet" and isinstance(result, SetDiscreet) and result.on:
            moved = conversation.at("cover", now)
            return Turn([_ask(moved)], moved)
        if step == "refill" and isinstance(result, SetRefill):
            moved = conversation.at("refill_helper", now, refill_days=result.warn_days)
            return Turn([_ask(moved)], moved)
        return Turn([], None, result)
    return _again(t, conversation, now, result)


def _again(t: Translator, conversation: Conversation, now: datetime, problem: str | None) -> Turn:
    replies = [Reply(problem or t._("Please choose one of the options."))]
    return Turn([*replies, _ask(conversation)], conversation.at(conversation.step, now))


def _read(
    step: str, option: str | None, text: str | None, data: dict[str, Any], t: Translator
) -> Change | str | None:
    typed = text or ""
    if step == "language" and option in LOCALES:
        return SetLanguage(option)
    if step == "products" and option is not None:
        return SetProducts(None if option == COMBINATION else option)
    if step == "nudges" and option in NUDGE_CHOICES:
        return SetNudges(Nudges(option))
    if step == "refill" and option in REFILL_CHOICES:
        return SetRefill(int(option))
    if step == "refill_helper" and option in REFILL_HELPER_CHOICES:
        days = int(data["refill_days"])
        return SetRefill(days, to_helper=option == "yes")
    if step == "mood" and option in MOOD_CHOICES:
        return SetMoodEvery(int(option))
    if step == "delete_after" and option in DELETE_CHOICES:
        return SetDeleteAfter(int(option))
    if step == "discreet" and option in ("on", "off"):
        return SetDiscreet(option == "on")
    if step == "cover":
        if option == "none":
            return SetDiscreet(True)
        cover = " ".join(unicodedata.normalize("NFKC", typed).split())
        if cover and len(cover) <= MAX_COVER:
            return SetDiscreet(True, cover)
        return (
            t._("Please type a short word, at most {max} characters.", max=MAX_COVER)
            if typed
            else None
        )
    if step == "quiet":
        if option == "off":
            return SetQuietHours(None)
        return _quiet(typed, t) if typed else None
    if step == "weight" and typed:
        try:
            return SetWeight(parse_weight(typed))
        except ParseError:
            return t._("Please type your weight in kg as a number from 3 to 250.")
    if step == "zone" and typed:
        zone = find_zone(typed)
        return (
            SetZone(zone)
            if zone
            else t._(
                "I don't know that place. Try a bigger city nearby, or a UTC offset such as UTC+9."
            )
        )
    if step == "times" and typed:
        try:
            times = parse_times(typed)
        except ParseError:
            return t._("Please type a time like 08:30.")
        if len(times) != data["doses"]:
            return t.ngettext(
                "Please give exactly one time.", "Please give exactly {n} times.", data["doses"]
            )
        return SetTimes(tuple(times))
    return None


def _quiet(typed: str, t: Translator) -> Change | str:
    parts = unicodedata.normalize("NFKC", typed).replace("~", "-").split("-")
    try:
        if len(parts) != 2:
            raise ParseError("quiet_format")
        start, end = parse_time(parts[0]), parse_time(parts[1])
    except ParseError:
        return t._("Please type quiet hours like 22:00-07:00.")
    if start == end:
        return t._("Quiet hours need a different start and end.")
    return SetQuietHours((start, end))


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    close = (Choice(t._("Close"), OPT, "close"),)
    step = conversation.step
    if step == "menu":
        items = _items(conversation.data).items()
        rows = [(Choice(t._(label), OPT, key),) for key, label in items]
        return Reply(t._("What would you like to change?"), (*rows, close))
    if step == "products":
        regimen = load_catalogue().get(str(conversation.data["regimen"]))
        choices = product_choices(t, regimen, discreet=bool(conversation.data.get("discreet_only")))
        return Reply(products_question(t), (*choices, close))
    if step == "language":
        rows = [(Choice(LANGUAGE_NAMES[code], OPT, code),) for code in LOCALES]
        return Reply(t._("Which language should I use?"), (*rows, close))
    if step == "nudges":
        rows = [(Choice(t._(label), OPT, key),) for key, label in NUDGE_CHOICES.items()]
        return Reply(
            t._("If you don't answer a reminder, how many times should I ask again?"),
            (*rows, close),
        )
    if step == "refill":
        rows = [(Choice(t._(label), OPT, key),) for key, label in REFILL_CHOICES.items()]
        return Reply(t._("When should I remind you to buy more tablets?"), (*rows, close))
    if step == "refill_helper":
        rows = [(Choice(t._(label), OPT, key),) for key, label in REFILL_HELPER_CHOICES.items()]
        return Reply(t._("Should your helper hear about it too?"), (*rows, close))
    if step == "mood":
        rows = [(Choice(t._(label), OPT, key),) for key, label in MOOD_CHOICES.items()]
        return Reply(t._("How often may I ask how you are feeling?"), (*rows, close))
    if step == "delete_after":
        rows = [(Choice(t._(label), OPT, key),) for key, label in DELETE_CHOICES.items()]
        return Reply(
            t._(
                "In discreet mode I can delete messages about symptoms and progress from this chat."
            ),
            (*rows, close),
        )
    if step == "discreet":
        rows = [
            (Choice(t._("Discreet (recommended)"), OPT, "on"),),
            (Choice(t._("Plain wording"), OPT, "off"),),
        ]
        return Reply(t._("How should my reminders be worded?"), (*rows, close))
    if step == "cover":
        return Reply(
            t._("What should I call your medicine in reminders? Type a word, or choose none."),
            ((Choice(t._("No other name"), OPT, "none"),), close),
        )
    if step == "quiet":
        return Reply(
            t._("During quiet hours I send no follow-up reminders. Type them like 22:00-07:00."),
            ((Choice(t._("No quiet hours"), OPT, "off"),), close),
        )
    if step == "weight":
        return Reply(t._("What is your weight in kg now?"), (close,))
    if step == "zone":
        return Reply(
            t._(
                "Where are you now? Type a city, a time zone such as Europe/Paris, or a UTC offset."
            ),
            (close,),
        )
    count = conversation.data["doses"]
    return Reply(
        t.ngettext(
            "At what time will you take your medicine from now on? Type it, like 08:30.",
            "At what times will you take your {n} doses from now on? Type them, like 08:00, 20:00.",
            count,
        ),
        (close,),
    )
