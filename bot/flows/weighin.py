"""The weight question: a typed weight (or "same as last time"), and, when the new weight may
change the dose, what the clinician said, confirmed before any tablet count changes.

Steps: ``kg`` (the weight, typed or picked) -> outcome `Weighed`; the caller stores it and, if
the change asks for a clinician (`treatment.weight.WeightChange`), moves on with `clinician`
-> outcome `ClinicianSaid`; for "my clinician changed my dose" the caller shows the weight
table's new count with `confirm` -> outcome `Confirmed`. Every question can be left: skipping
the weight stores nothing, and "not asked yet" keeps the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import Translator, translator
from bot.parsing import ParseError, parse_weight
from treatment.weight import MAX_WEIGHT_KG, MIN_WEIGHT_KG

FLOW = "weight"


@dataclass(frozen=True, slots=True)
class Weighed:
    kg: float | None  # None: skipped


class Said(StrEnum):
    CHANGED = "changed"
    KEPT = "kept"
    NOT_YET = "later"


@dataclass(frozen=True, slots=True)
class ClinicianSaid:
    said: Said
    kg: float


@dataclass(frozen=True, slots=True)
class Confirmed:
    kg: float
    same_as_table: bool  # the table's count is what the clinician gave


Outcome = Weighed | ClinicianSaid | Confirmed
Turn = FlowTurn[Outcome]


def _kg(value: float) -> str:
    return format(value, "g")


def begin(
    now: datetime, language: str, last_kg: float | None, *, discreet: bool, source: str
) -> Turn:
    conversation = Conversation(
        FLOW,
        "kg",
        {"language": language, "last": last_kg, "discreet": discreet, "source": source},
        now,
    )
    return Turn([_ask(conversation)], conversation)


def ask_clinician(conversation: Conversation, now: datetime, kg: float) -> Conversation:
    """The conversation moved on to "what did your clinician say?" about `kg`."""
    return conversation.at("clinician", now, kg=kg)


def ask_confirm(conversation: Conversation, now: datetime, kg: float, lines: Sequence[str]) -> Turn:
    """Show the table's count for `kg` (`lines`, worded by the caller) and ask for a yes."""
    moved = conversation.at("confirm", now, kg=kg, lines=list(lines))
    return Turn([_ask(moved)], moved)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    option = event.option(_ask(conversation))
    step = conversation.step
    data = conversation.data
    if step == "kg":
        if option == "skip":
            return Turn([], None, Weighed(None))
        if option == "same" and data.get("last") is not None:
            return Turn([], conversation, Weighed(float(data["last"])))
        if event.kind is Kind.TEXT and event.text:
            try:
                return Turn([], conversation, Weighed(parse_weight(event.text)))
            except ParseError:
                problem = t._(
                    "Please type your weight in kg as a number from {low} to {high}.",
                    low=_kg(MIN_WEIGHT_KG),
                    high=_kg(MAX_WEIGHT_KG),
                )
                return _again(t, conversation, now, problem)
        return _again(t, conversation, now, None)
    kg = float(data["kg"])
    if step == "clinician" and option in {s.value for s in Said}:
        return Turn([], conversation, ClinicianSaid(Said(option), kg))
    if step == "confirm" and option in ("yes", "no"):
        return Turn([], None, Confirmed(kg, option == "yes"))
    return _again(t, conversation, now, None)


def _again(t: Translator, conversation: Conversation, now: datetime, problem: str | None) -> Turn:
    moved = conversation.at(conversation.step, now)
    return Turn([Reply(problem or t._("Please choose one of the options.")), _ask(moved)], moved)


def question(conversation: Conversation) -> Reply:
    """The question the conversation is at (for the caller that moves it on)."""
    return _ask(conversation)


def _ask(conversation: Conversation) -> Reply:
    data = conversation.data
    t = translator(data["language"])
    step = conversation.step
    if step == "clinician":
        return Reply(
            t._("What did your clinician say?"),
            (
                (Choice(t._("My clinician changed my dose"), OPT, Said.CHANGED),),
                (Choice(t._("My clinician said no change"), OPT, Said.KEPT),),
                (Choice(t._("I have not asked yet"), OPT, Said.NOT_YET),),
            ),
        )
    if step == "confirm":
        lines = "\n".join(str(line) for line in data.get("lines", []))
        return Reply(
            t._(
                "With {kg} kg, the weight table gives, for each dose:\n{lines}\n"
                "Is this exactly what your clinician told you?",
                kg=_kg(float(data["kg"])),
                lines=lines,
            ),
            (
                (Choice(t._("Yes, use this count"), OPT, "yes"),),
                (Choice(t._("No, it is different"), OPT, "no"),),
            ),
            sensitive=True,
        )
    rows: list[tuple[Choice, ...]] = []
    last = data.get("last")
    if last is not None:
        rows.append((Choice(t._("Same as last time ({kg} kg)", kg=_kg(float(last))), OPT, "same"),))
    rows.append((Choice(t._("Skip this time"), OPT, "skip"),))
    if data.get("discreet"):
        text = t._("What is your weight now, in kg? Type it, like 52.5.")
    else:
        text = t._(
            "What is your weight now, in kg? Your weight can change how many tablets you "
            "need. Type it, like 52.5."
        )
    return Reply(text, tuple(rows))
