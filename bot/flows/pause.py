"""`/pause` with a reason, and the reply to `/resume`.

While paused, doses are not expected and do not count as missed; treatment still ends only
when all doses are taken, so the projected end moves later. The reason is kept for the
clinician conversation, never shown to helpers beyond "paused".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import translator
from bot.texts import N_

FLOW = "pause"
REASONS = {
    "clinician": N_("A clinician told me to stop for now"),
    "side_effect": N_("A side effect"),
    "no_medicine": N_("I have no medicine right now"),
    "hospital": N_("I am in hospital"),
    "other": N_("Another reason"),
}


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    conversation: Conversation | None
    reason: str | None = None


def begin(now: datetime, language: str) -> Turn:
    conversation = Conversation(FLOW, "reason", {"language": language}, now)
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    picked = event.option(_ask(conversation))
    if picked == "cancel":
        return Turn([Reply(t._("Nothing changed; reminders continue."))], None)
    if picked in REASONS:
        return Turn([], None, reason=picked)
    return Turn([_ask(conversation)], conversation.at("reason", now))


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    rows = [(Choice(t._(label), OPT, key),) for key, label in REASONS.items()]
    rows.append((Choice(t._("Cancel"), OPT, "cancel"),))
    return Reply(t._("Why are you pausing? Reminders stop until you send /resume."), tuple(rows))


def paused_reply(language: str, reason: str, *, discreet: bool = False) -> Reply:
    t = translator(language)
    lines = [
        t._(
            "Paused. I won't send reminders, and doses while paused don't count as missed. "
            "Your treatment end moves later by the days you pause. Send /resume to continue."
        )
    ]
    if reason == "side_effect":
        lines.append(t._("If the side effect is serious, please get medical care today. /symptom"))
    elif reason == "no_medicine":
        lines.append(
            t._("Missing doses can make treatment work less well. Please try to get more soon.")
            if discreet
            else t._(
                "Missing doses can make TB harder to cure. Please try to get your medicine soon."
            )
        )
    return Reply("\n\n".join(lines))


def resumed_reply(language: str) -> Reply:
    t = translator(language)
    return Reply(t._("Welcome back. Reminders are on again from your next dose."))
