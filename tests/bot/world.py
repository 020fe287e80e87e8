"""A small world for dialogue tests: a real store and engine, a fake clock, named people.

Patients talk to the real `Dialogue` with the same events the Telegram adapter produces;
the engine's reminders are read back from the real outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.channels import CHANNELS
from bot.dialogue.choices import parse_payload
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.dialogue.service import Dialogue
from bot.runtime import Runtime, build_runtime
from scheduler.channels import ChannelSpec
from scheduler.clock import FakeClock
from scheduler.engine import Engine
from scheduler.sending import Sender
from storage.keyring import Keyring
from storage.records import OutboxEntry
from storage.store import Store
from tests.conftest import TestDatabase

# Monday 2 March 2026, 09:00 in Seoul.
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@dataclass
class Person:
    """Someone at a Telegram client: their ids, language, and the buttons on their screen."""

    world: World
    user: str
    language: str = "en"
    last: list[Reply] = field(default_factory=list)
    updates: int = 0

    def _event(self, kind: Kind, **fields: object) -> Inbound:
        self.updates += 1
        return Inbound(
            "telegram",
            self.user,
            self.user,
            kind,
            language=self.language,
            update_ref=f"{self.user}-{self.updates}",
            **fields,  # type: ignore[arg-type]
        )

    async def say(self, text: str) -> list[Reply]:
        self.updates += 1
        event = Inbound.from_text(
            "telegram",
            self.user,
            self.user,
            text,
            language=self.language,
            update_ref=f"{self.user}-{self.updates}",
        )
        self.last = await self.world.dialogue.handle(event)
        return self.last

    async def press(self, payload: str, message_ref: str | None = "1") -> list[Reply]:
        pick = parse_payload(payload, Dialogue.verbs)
        self.last = await self.world.dialogue.handle(
            self._event(Kind.PICK, pick=pick, message_ref=message_ref)
        )
        return self.last

    async def choose(self, label_part: str) -> list[Reply]:
        """Press the button whose label contains `label_part` among the last replies."""
        for reply in reversed(self.last):
            for choice in reply.all_choices():
                if label_part in choice.label:
                    return await self.press(choice.payload)
        raise AssertionError(f"no button {label_part!r} in {[r.text[:40] for r in self.last]}")

    def offered(self, label_part: str) -> bool:
        """Whether a button whose label contains `label_part` is among the last replies."""
        return any(label_part in c.label for reply in self.last for c in reply.all_choices())

    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)


@dataclass
class World:
    store: Store
    clock: FakeClock
    engine: Engine
    dialogue: Dialogue
    runtime: Runtime

    def person(self, user: str, language: str = "en") -> Person:
        return Person(self, user, language)

    async def travel(self, delta: timedelta) -> None:
        """Move time forward, letting the engine do what came due on the way, minute by
        minute where it matters (so reminders fire at their instant, not at the end)."""
        end = self.clock.now() + delta
        while True:
            # The engine's hourly job keeps 48 hours planned; here it runs at every step.
            await self.engine.extend_horizon()
            due = await self.engine.next_due()
            if due is None or due > end:
                break
            if due > self.clock.now():
                self.clock.advance(due - self.clock.now())
            await self.engine.tick()
        if end > self.clock.now():
            self.clock.advance(end - self.clock.now())

    async def outbox(self, patient_id: str) -> list[OutboxEntry]:
        return await self.store.outbox.for_patient(patient_id)

    async def patient_id(self, user: str) -> str:
        identity = await self.store.identities.find("telegram", user)
        assert identity is not None
        return identity.patient_id


@pytest_asyncio.fixture
async def world(database: TestDatabase, keyring: Keyring) -> AsyncIterator[World]:
    clock = FakeClock(START)
    store = await Store.open(database.url, keyring, clock=clock.now)
    try:
        yield make_world(store, clock)
    finally:
        await store.close()


def make_world(
    store: Store,
    clock: FakeClock,
    senders: Mapping[str, Sender] | None = None,
    channels: Sequence[ChannelSpec] = (),
) -> World:
    """The program as `bot.runtime` wires it; with `senders`, the dispatcher delivers on those
    channels (the dialogue tests read the outbox instead). `channels` are registered over the
    product's own (a test channel, or one with another pace)."""
    specs = {spec.name: spec for spec in (*CHANNELS, *channels)}
    runtime = build_runtime(
        store, clock, worker_id="test", senders=senders, channels=specs.values()
    )
    return World(store, clock, runtime.engine, runtime.dialogue, runtime)


async def onboard(
    person: Person, *, regimen: str = "Standard TB treatment, 6 months, every"
) -> str:
    """Take `person` through onboarding in English with sensible answers; their patient id.
    The language question comes only for a client language we do not speak, the weight only
    for a regimen whose tablets depend on it."""
    await person.say("/start")
    if person.offered("English"):
        await person.choose("English")
    await person.choose("I agree")
    await person.say("Mina")
    await person.choose("Seoul")
    await person.choose(regimen)
    await person.choose("Today")
    await person.say("20:00")
    if "weight" in person.text():
        await person.say("52")
    await person.choose("Discreet, call it “vitamins”")
    await person.choose("Start")
    assert "All set" in person.text(), person.text()
    return await person.world.patient_id(person.user)
