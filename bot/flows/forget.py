"""`/forget`: two confirmations, then everything about the patient is erased for good.

Two steps because erasing months of treatment history cannot be undone, and a single tap on a
shared or borrowed phone should not be enough.
"""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import translator

FLOW = "forget"


Turn = FlowTurn[bool]


def begin(now: datetime, language: str) -> Turn:
    conversation = Conversation(FLOW, "first", {"language": language}, now)
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    picked = event.option(_ask(conversation))
    if picked == "erase" and conversation.step == "first":
        moved = conversation.at("second", now)
        return Turn([_ask(moved)], moved)
    if picked == "erase_now" and conversation.step == "second":
        return Turn([], None, outcome=True)
    if picked == "keep":
        return Turn([Reply(t._("Nothing was erased."), edit=True)], None)
    return Turn([_ask(conversation)], conversation.at(conversation.step, now))


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    keep = Choice(t._("Keep my data"), OPT, "keep")
    if conversation.step == "first":
        return Reply(
            t._(
                "This erases everything I know about you: your plan, your doses, how you felt, "
                "and your helpers' links. It cannot be undone, and your helpers will no longer "
                "hear from me about you. Continue?"
            ),
            ((Choice(t._("Yes, erase"), OPT, "erase"),), (keep,)),
        )
    return Reply(
        t._("Last check: erase everything now?"),
        ((Choice(t._("Erase everything now"), OPT, "erase_now"),), (keep,)),
        edit=True,
    )


def erased_reply(language: str) -> Reply:
    t = translator(language)
    return Reply(t._("Everything is erased. Take care of yourself. Send /start to begin again."))
