"""`/regimen`: record that a clinician changed the regimen or made the current phase longer.

The flow asks what changed, the new regimen (or how many weeks longer), the dose times when the
new regimen has another number of doses a day, and whether the helpers may hear of it; then it
repeats the change back in plain words and returns it only once the patient confirms. It never
suggests a regimen: the list is what a clinician may have prescribed, and nothing is preselected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from bot.dialogue.choices import CANCEL, OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import Translator, translator
from bot.parsing import ParseError, parse_count, parse_times
from bot.texts import PHASE_NAMES, REGIMEN_NAMES
from treatment.catalogue import load_catalogue
from treatment.enrolment import format_time
from treatment.regimen import Regimen
from treatment.switching import MAX_EXTENSION_WEEKS, SegmentCount

FLOW = "regimen"
WEEK_CHOICES = ("4", "8", "12")


@dataclass(frozen=True, slots=True)
class SwitchRegimen:
    regimen_id: str
    times: tuple[time, ...] | None  # None: the dose times stay
    tell_helpers: bool


@dataclass(frozen=True, slots=True)
class ExtendPhase:
    weeks: int
    tell_helpers: bool


Change = SwitchRegimen | ExtendPhase
Turn = FlowTurn[Change]


def regimen_name(t: Translator, regimen: Regimen) -> str:
    return t._(REGIMEN_NAMES[regimen.id]) if regimen.id in REGIMEN_NAMES else regimen.name


def _slug(regimen_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in regimen_id)


def _choices(current: str) -> dict[str, Regimen]:
    return {_slug(r.id): r for r in load_catalogue() if r.id != current}


def begin(
    now: datetime,
    language: str,
    *,
    current: str,
    doses_per_day: int,
    effective: date,
    phase: str | None,
    helpers: bool,
) -> Turn:
    """Start with the question of what changed. `phase` is the phase in force (None: the
    phase cannot be made longer), `helpers` whether there is a helper who could be told."""
    data: dict[str, Any] = {
        "language": language,
        "current": current,
        "doses": doses_per_day,
        "effective": effective.isoformat(),
        "phase": phase,
        "helpers": helpers,
    }
    conversation = Conversation(FLOW, "what", data, now)
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    asked = _ask(conversation)
    option = event.option(asked)
    text = event.text if event.kind is Kind.TEXT else None
    if option == "no" or (event.pick is not None and event.pick.verb == CANCEL):
        return Turn([Reply(t._("Nothing changed; reminders continue as before."))], None)
    step, data = conversation.step, conversation.data
    problem: str | None = None
    moved: Conversation | None = None
    if step == "what" and option == "switch":
        moved = conversation.at("regimen", now)
    elif step == "what" and option == "extend":
        moved = conversation.at("weeks", now)
    elif step == "regimen" and option in _choices(data["current"]):
        regimen = _choices(data["current"])[option]
        moved = conversation.at("times", now, regimen=regimen.id)
        if regimen.doses_per_day == data["doses"]:
            moved = _after_plan(moved, now)
    elif step == "times" and text is not None:
        moved, problem = _times(conversation, text, now, t)
    elif step == "weeks" and (option or text):
        try:
            weeks = parse_count(option or text or "", 1, MAX_EXTENSION_WEEKS)
            moved = _after_plan(conversation.at("weeks", now, weeks=weeks), now)
        except ParseError:
            problem = t._(
                "Please type a number of weeks from 1 to {most}.", most=MAX_EXTENSION_WEEKS
            )
    elif step == "tell" and option in ("tell", "quiet"):
        moved = conversation.at("confirm", now, tell=option == "tell")
    elif step == "confirm" and option == "yes":
        return Turn([], None, _outcome(data))
    if moved is not None:
        return Turn([_ask(moved)], moved)
    replies = [Reply(problem or t._("Please choose one of the options."))]
    return Turn([*replies, asked], conversation.at(step, now))


def _times(
    conversation: Conversation, text: str, now: datetime, t: Translator
) -> tuple[Conversation | None, str | None]:
    regimen = load_catalogue().get(conversation.data["regimen"])
    try:
        times = parse_times(text)
    except ParseError:
        return None, t._("Please type the times like 08:00, 20:00.")
    if len(times) != regimen.doses_per_day:
        return None, t.ngettext(
            "This treatment has {n} dose a day: please type {n} time.",
            "This treatment has {n} doses a day: please type {n} times.",
            regimen.doses_per_day,
        )
    chosen = [format_time(at) for at in times]
    return _after_plan(conversation.at("times", now, times=chosen), now), None


def _after_plan(conversation: Conversation, now: datetime) -> Conversation:
    """Ask about the helpers only when there is one to tell."""
    if conversation.data["helpers"]:
        return conversation.at("tell", now)
    return conversation.at("confirm", now, tell=False)


def _outcome(data: dict[str, Any]) -> Change:
    tell = bool(data.get("tell"))
    if "weeks" in data and "regimen" not in data:
        return ExtendPhase(int(data["weeks"]), tell)
    times = data.get("times")
    parsed = None if times is None else parse_times(", ".join(times))
    return SwitchRegimen(str(data["regimen"]), parsed, tell)


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    data = conversation.data
    cancel = (Choice(t._("Cancel"), CANCEL),)
    step = conversation.step
    if step == "what":
        rows = [(Choice(t._("My clinician changed my treatment"), OPT, "switch"),)]
        if data["phase"]:
            rows.append((Choice(t._("My clinician made this phase longer"), OPT, "extend"),))
        return Reply(
            t._(
                "What did your clinician change? Record only what a clinician told you; "
                "the doses you took so far stay in your record."
            ),
            (*rows, cancel),
            sensitive=True,
        )
    if step == "regimen":
        rows = [
            (Choice(regimen_name(t, regimen), OPT, slug),)
            for slug, regimen in _choices(data["current"]).items()
        ]
        return Reply(
            t._(
                "Which treatment did your clinician give you now? If it is not in this list, "
                "please ask your clinician which one it is."
            ),
            (*rows, cancel),
            sensitive=True,
        )
    if step == "times":
        regimen = load_catalogue().get(data["regimen"])
        return Reply(
            t.ngettext(
                "This treatment has {n} dose a day. At what time? Type it like 08:00.",
                "This treatment has {n} doses a day. At what times? Type them like 08:00, 20:00.",
                regimen.doses_per_day,
            ),
            (cancel,),
        )
    if step == "weeks":
        weeks = tuple(
            Choice(t.ngettext("{n} week", "{n} weeks", int(w)), OPT, w) for w in WEEK_CHOICES
        )
        return Reply(
            t._("How many weeks longer, as your clinician said? Type a number or choose one."),
            (weeks, cancel),
        )
    if step == "tell":
        rows = [
            (Choice(t._("Yes, tell my helpers"), OPT, "tell"),),
            (Choice(t._("No, don't tell them"), OPT, "quiet"),),
        ]
        return Reply(
            t._(
                "Shall I tell your helpers that your treatment plan changed? They are not told "
                "which medicines."
            ),
            (*rows, cancel),
        )
    return Reply(
        _summary(t, data),
        ((Choice(t._("Yes, save it"), OPT, "yes"), Choice(t._("No, cancel"), OPT, "no")),),
        sensitive=True,
    )


def _summary(t: Translator, data: dict[str, Any]) -> str:
    """The change repeated back in plain words before anything is saved."""
    effective = t.date(date.fromisoformat(data["effective"]))
    lines = []
    if "regimen" in data:
        regimen = load_catalogue().get(data["regimen"])
        lines.append(
            t._(
                "From {date}, you follow: {name}. Doses are counted by its rules from its "
                "first dose.",
                date=effective,
                name=regimen_name(t, regimen),
            )
        )
        if data.get("times"):
            lines.append(t._("Dose times: {times}", times=", ".join(data["times"])))
    else:
        phase = t._(PHASE_NAMES.get(data["phase"], data["phase"]))
        lines.append(
            t.ngettext(
                "From {date}, {phase} is {n} week longer, as your clinician said.",
                "From {date}, {phase} is {n} weeks longer, as your clinician said.",
                int(data["weeks"]),
                date=effective,
                phase=phase,
            )
        )
    lines.append(t._("The doses you took so far stay in your record. Save this?"))
    return "\n".join(lines)


def history_lines(t: Translator, counts: Sequence[SegmentCount], today: date) -> list[str]:
    """Each regimen followed, oldest first, for `/progress` and the report; nothing when the
    regimen never changed. A switch recorded for a later day shows as still to come."""
    if len(counts) < 2:
        return []
    lines = [t._("Your treatment so far:")]
    for count in counts:
        name = t._(REGIMEN_NAMES.get(count.regimen_id, count.regimen_name))
        start = t.date(count.start)
        if count.start > today:
            lines.append(t._("• from {start}: {name} (to come)", start=start, name=name))
        elif count.end is None or count.end >= today:
            lines.append(t._("• from {start}: {name} (now)", start=start, name=name))
        else:
            lines.append(
                t._(
                    "• {start} to {end}: {name}: {taken} of {required} doses taken",
                    start=start,
                    end=t.date(count.end),
                    name=name,
                    taken=count.doses_taken,
                    required=count.doses_required,
                )
            )
    return lines
