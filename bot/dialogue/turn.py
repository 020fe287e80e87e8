"""What every handler of the patient's side gets: the turn context, and the turn a flow returns.

A `TurnContext` is one event from one known patient, with what the router read for it (their
active enrolment, the open conversation and its version) and the parts of the program
(`Services`). Handlers take it and return replies; they store the conversation through it
(`save` in their own transaction, `begin` for a flow's next question), so the version check
and the remembered update id are written in one place.

Flows answer with a `bot.dialogue.conversation.FlowTurn`: replies, the conversation to keep,
and, once the flow has gathered everything, its `outcome` for the feature to act on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.dialogue.choices import Picked
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import Translator, translator
from scheduler.channels import ChannelRegistry, ChannelSpec
from scheduler.clock import Clock
from scheduler.compose import Composer
from scheduler.retention import RetentionPolicy
from storage.records import EnrolmentRecord, Patient
from storage.store import Repositories, Store

PARTY = "patient"


class EnginePort(Protocol):
    """What the dialogue needs from the reminder engine."""

    async def enrolled(self, tx: Repositories, patient_id: str, now: datetime) -> None: ...

    async def snooze(
        self, tx: Repositories, patient_id: str, slot_id: str, until: datetime, now: datetime
    ) -> bool: ...

    def poke(self) -> None: ...


@dataclass(frozen=True)
class Services:
    """The parts of the program a handler may use."""

    store: Store
    engine: EnginePort
    clock: Clock
    composer: Composer
    channels: ChannelRegistry
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """The retention rule in force, which the privacy text states."""


@dataclass
class TurnContext:
    app: Services
    event: Inbound
    patient: Patient
    enrolment: EnrolmentRecord | None
    conversation: Conversation | None
    version: int | None
    now: datetime

    @property
    def t(self) -> Translator:
        return translator(self.patient.language)

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def channel(self) -> ChannelSpec:
        """What the channel this event came from can do."""
        return self.app.channels[self.event.channel]

    @property
    def enrolled(self) -> EnrolmentRecord:
        """The active enrolment; the router calls handlers that need one only when there is."""
        if self.enrolment is None:
            raise LookupError("this handler needs an active enrolment")
        return self.enrolment

    @property
    def asked(self) -> Conversation:
        """The open conversation; the router calls flow handlers only when there is one."""
        if self.conversation is None:
            raise LookupError("this handler continues an open conversation")
        return self.conversation

    @property
    def picked(self) -> Picked:
        """The choice pressed; the router calls verb handlers only for picks."""
        if self.event.pick is None:
            raise LookupError("this handler answers a pick")
        return self.event.pick

    async def save(self, tx: Repositories, conversation: Conversation | None = None) -> None:
        """Store the conversation (an empty state when none is open) in `tx`, remembering the
        update id so a second delivery of the same update is recognised, and only if nobody
        changed it since this turn read it."""
        await save_conversation(tx, self.patient.id, conversation, self.version, self.event)

    async def close(self, conversation: Conversation | None = None) -> None:
        """`save` in a transaction of its own."""
        async with self.store.transaction() as tx:
            await self.save(tx, conversation)

    async def begin(self, turn: FlowTurn[Any]) -> list[Reply]:
        """Store a flow's next state (starting or continuing it) and return its replies."""
        await self.close(turn.conversation)
        return list(turn.replies)

    async def active_enrolment(self) -> EnrolmentRecord | None:
        """The patient's active enrolment as stored now (after this turn's own writes)."""
        return await active_enrolment(self.store, self.patient.id)


async def active_enrolment(store: Store, patient_id: str) -> EnrolmentRecord | None:
    active = await store.enrolments.active(patient_id)
    return active[-1] if active else None


async def save_conversation(
    tx: Repositories,
    patient_id: str,
    conversation: Conversation | None,
    version: int | None,
    event: Inbound,
) -> None:
    state: dict[str, Any] = {}
    if conversation is not None:
        state = conversation.to_dict()
        state["data"] = {**state["data"], "update": event.update_ref}
    elif event.update_ref:
        state = Conversation("idle", "idle", {"update": event.update_ref}).to_dict()
    await tx.conversations.save(patient_id, state, party=PARTY, expected_version=version)


Handler = Callable[[TurnContext], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Route:
    """A command, button verb or flow and who may use it: `enrolled` handlers are called only
    for a patient with an active enrolment (the others hear that they are not set up)."""

    handler: Handler
    enrolled: bool = True
