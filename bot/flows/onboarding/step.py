"""What one question of the set-up flow is: how it asks, how it reads the answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dialogue.choices import CANCEL, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.onboarding.setup import Setup
from bot.i18n import Translator

FLOW = "onboarding"


# --- reading answers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    option: str | None = None
    text: str | None = None


def read_answer(event: Inbound, offered: Reply) -> Answer | None:
    if event.kind is Kind.PICK:
        option = event.option(offered)
        return None if option is None else Answer(option=option)
    if event.kind is Kind.TEXT and event.text.strip():
        return Answer(text=event.text)
    return None


# --- the questions ---------------------------------------------------------------------------

Accept = Callable[[Conversation, Answer, datetime], "Conversation | Setup | str | None"]
Ask = Callable[[Translator, dict[str, object]], Reply]


@dataclass(frozen=True, slots=True)
class Step:
    ask: Ask
    accept: Accept


def with_cancel(
    t: Translator, rows: Sequence[tuple[Choice, ...]]
) -> tuple[tuple[Choice, ...], ...]:
    return (*rows, (Choice(t._("Cancel"), CANCEL),))
