"""`/report`: which language the clinician reads, then who gets the report.

The patient picks the report's language (the clinician may not read theirs), then, when a
helper may receive it, whether it goes to them or to a helper. Helpers are offered only when
the patient switched "my treatment report" on for them (off by default, in `/helper`); their
ids travel in button arguments, and the caller checks each against the patient's own helpers
before sending anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import LOCALES, translator
from bot.texts import LANGUAGE_NAMES

FLOW = "report"
ME = "me"


@dataclass(frozen=True, slots=True)
class Request:
    """Make the report in `language` and send it to the patient (`to` is `ME`) or to the
    helper with that id."""

    language: str
    to: str


Turn = FlowTurn[Request]


def begin(now: datetime, language: str, helpers: Sequence[tuple[str, str]]) -> Turn:
    """`helpers` are (id, name) of the helpers allowed to receive the report."""
    conversation = Conversation(
        FLOW, "language", {"language": language, "helpers": [list(h) for h in helpers]}, now
    )
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """1. `language`: one of the shipped languages, the patient's own first.
    2. `to`: the patient or an allowed helper; skipped when no helper is allowed."""
    t = translator(conversation.data["language"])
    option = event.option(_ask(conversation))
    if option == "cancel":
        return Turn([Reply(t._("Cancelled."), edit=True)], None)
    step = conversation.step
    if step == "language" and option in LOCALES:
        if not conversation.data["helpers"]:
            return Turn([], None, Request(option, ME))
        moved = conversation.at("to", now, report_language=option)
        return Turn([_ask(moved)], moved)
    if step == "to" and option is not None:
        return Turn([], None, Request(conversation.data["report_language"], option))
    return Turn([Reply(t._("Please choose one of the options.")), _ask(conversation)], conversation)


def _ask(conversation: Conversation) -> Reply:
    data = conversation.data
    t = translator(data["language"])
    cancel = (Choice(t._("Cancel"), OPT, "cancel"),)
    if conversation.step == "to":
        rows = [(Choice(t._("Send it to me"), OPT, ME),)]
        rows += [
            (Choice(t._("Send it to {name}", name=name), OPT, helper_id),)
            for helper_id, name in data["helpers"]
        ]
        return Reply(t._("Who should get the report?"), (*rows, cancel))
    own = data["language"]
    ordered = [own, *(code for code in LOCALES if code != own)]
    rows = [(Choice(LANGUAGE_NAMES[code], OPT, code),) for code in ordered]
    return Reply(
        t._(
            "A report for a clinician: your doses, side effects, mood check-ins and tablets, "
            "as a PDF of one or two pages. In which language should it be?"
        ),
        (*rows, cancel),
    )
