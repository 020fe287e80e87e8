"""`/regimen`: record that a clinician changed the regimen or made the current phase longer.

The flow asks what changed, the new regimen (or how many weeks longer), the dose times when the
new regimen has another number of doses a day, and whether the helpers may hear of it; then it
repeats the change back in plain words and returns it only once the patient confirms. It never
suggests a regimen: the list is what a clinician may have prescribed, and nothing is preselected.

"My treatment is not in this list" asks the set-up's own custom-regimen questions
(`bot.flows.onboarding.custom.QUESTIONS`, months counted from the switch's day), with their
repeat-back in plain words, before the same confirmation as any other switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from bot.dialogue.choices import CANCEL, OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.onboarding import custom
from bot.flows.onboarding.setup import CUSTOM, regimen_of
from bot.flows.onboarding.step import read_answer
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
    custom: dict[str, Any] | None = None
    """A regimen not in the list, in the words of `treatment.custom` (regimen_id "custom")."""


@dataclass(frozen=True, slots=True)
class ExtendPhase:
    weeks: int
    tell_helpers: bool


Change = SwitchRegimen | ExtendPhase
Turn = FlowTurn[Change]


def regimen_name(t: Translator, regimen: Regimen) -> str:
    if regimen.custom:
        return t._("your own, as your prescription says")
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
    zone: str = "UTC",
    discreet_only: bool = False,
) -> Turn:
    """Start with the question of what changed. `phase` is the phase in force (None: the
    phase cannot be made longer), `helpers` whether there is a helper who could be told;
    `zone` and `discreet_only` (no medicine named) are for a custom regimen's questions."""
    data: dict[str, Any] = {
        "language": language,
        "zone": zone,
        "discreet_only": discreet_only,
        "custom_start": effective.isoformat(),
        "current": current,
        "doses": doses_per_day,
        "effective": effective.isoformat(),
        "phase": phase,
        "helpers": helpers,
    }
    conversation = Conversation(FLOW, "what", data, now)
    return Turn([_ask(conversation)], conversation)


def entered(
    now: datetime,
    language: str,
    *,
    current: str,
    doses_per_day: int,
    effective: date,
    zone: str,
    discreet_only: bool,
    words: dict[str, Any],
    helper: str,
) -> Turn:
    """A custom regimen a helper entered and the patient said is right: the dose times are
    asked only when it has another number of doses a day, else it is the outcome at once.
    The helper who entered it hears the outcome, so the other helpers are not asked about."""
    data: dict[str, Any] = {
        "language": language,
        "current": current,
        "doses": doses_per_day,
        "effective": effective.isoformat(),
        "phase": None,
        "helpers": False,
        "zone": zone,
        "discreet_only": discreet_only,
        "regimen": CUSTOM,
        CUSTOM: words,
        "entered_by": helper,
    }
    conversation = _after_regimen(Conversation(FLOW, "times", data, now), now)
    if conversation.step == "confirm":
        return Turn([], None, _outcome(conversation.data))
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    asked = _ask(conversation)
    option = event.option(asked)
    text = event.text if event.kind is Kind.TEXT else None
    if option == "no" or (event.pick is not None and event.pick.verb == CANCEL):
        return Turn([Reply(t._("Nothing changed; reminders continue as before."))], None)
    step, data = conversation.step, conversation.data
    if step in custom.QUESTIONS:
        return _custom_answer(conversation, event, now, t)
    problem: str | None = None
    moved: Conversation | None = None
    if step == "what" and option == "switch":
        moved = conversation.at("regimen", now)
    elif step == "what" and option == "extend":
        moved = conversation.at("weeks", now)
    elif step == "regimen" and option == CUSTOM:
        moved = custom.start_custom(conversation, now)
    elif step == "regimen" and option in _choices(data["current"]):
        regimen = _choices(data["current"])[option]
        moved = _after_regimen(conversation.at("times", now, regimen=regimen.id, custom=None), now)
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


def _custom_answer(
    conversation: Conversation, event: Inbound, now: datetime, t: Translator
) -> Turn:
    """One answer to a custom-regimen question; once its repeat-back is confirmed, on to the
    dose times (when the number a day changes), the helpers and the confirmation."""
    asked = _ask(conversation)
    answer = read_answer(event, asked)
    outcome = (
        custom.QUESTIONS[conversation.step].accept(conversation, answer, now) if answer else None
    )
    if isinstance(outcome, Conversation):
        if outcome.step == custom.CONFIRMED:
            outcome = _after_regimen(outcome.at("times", now), now)
        return Turn([_ask(outcome)], outcome)
    problem = outcome if isinstance(outcome, str) else t._("Please choose one of the options.")
    return Turn([Reply(problem), asked], conversation.at(conversation.step, now))


def _regimen(data: dict[str, Any]) -> Regimen:
    """The regimen chosen: from the catalogue, or the custom one counted from the switch."""
    return regimen_of(data, date.fromisoformat(data["effective"]))


def _after_regimen(conversation: Conversation, now: datetime) -> Conversation:
    """Ask the dose times only when the new regimen has another number of doses a day."""
    if _regimen(conversation.data).doses_per_day == conversation.data["doses"]:
        return _after_plan(conversation, now)
    return conversation


def _times(
    conversation: Conversation, text: str, now: datetime, t: Translator
) -> tuple[Conversation | None, str | None]:
    regimen = _regimen(conversation.data)
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
    words = data.get(CUSTOM) if data["regimen"] == CUSTOM else None
    return SwitchRegimen(str(data["regimen"]), parsed, tell, dict(words) if words else None)


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    data = conversation.data
    cancel = (Choice(t._("Cancel"), CANCEL),)
    step = conversation.step
    if step in custom.QUESTIONS:
        return custom.QUESTIONS[step].ask(t, data)
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
        rows.append((Choice(t._("My treatment is not in this list"), OPT, CUSTOM),))
        return Reply(
            t._(
                "Which treatment did your clinician give you now? If it is not in this list, "
                "you can tell me what your prescription says."
            ),
            (*rows, cancel),
            sensitive=True,
        )
    if step == "times":
        regimen = _regimen(data)
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
        regimen = _regimen(data)
        lines.append(
            t._(
                "From {date}, you follow: {name}. Doses are counted by its rules from its "
                "first dose.",
                date=effective,
                name=regimen_name(t, regimen),
            )
        )
        if regimen.custom:
            start = date.fromisoformat(data["effective"])
            hide = bool(data.get("discreet_only"))
            lines.extend(custom.describe(t, data[CUSTOM], start, hide_names=hide))
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
        name = (
            t._("your own, as your prescription says")
            if count.regimen_id == CUSTOM
            else t._(REGIMEN_NAMES.get(count.regimen_id, count.regimen_name))
        )
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
