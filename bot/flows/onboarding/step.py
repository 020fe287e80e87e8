"""What one question of the set-up flow is: how it asks, how it reads the answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.dialogue.choices import CANCEL, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.onboarding.setup import Setup
from bot.i18n import Translator

FLOW = "onboarding"
# What the channel told set-up at its start, kept when the patient starts over.
CHANNEL_KEYS = ("discreet_only", "zones", "zones_at")


def channel_data(discreet_only: bool, zones: Sequence[str], now: datetime) -> dict[str, Any]:
    """What set-up keeps about the channel it runs on (see `bot.flows.onboarding.begin`)."""
    data: dict[str, Any] = {}
    if discreet_only:
        data["discreet_only"] = True
    if zones:
        data["zones"] = list(zones)
        data["zones_at"] = now.isoformat()
    return data


def discreet_only(data: dict[str, object]) -> bool:
    return bool(data.get("discreet_only"))


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
