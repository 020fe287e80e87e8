"""A channel is a spec and an adapter: a throwaway one, declared here, carries onboarding, a
reminder, Taken and a helper alert through the real dialogue, engine, outbox and dispatcher,
with nothing in the product changed; and a patient and their helper on different channels
each hear on their own."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.channels.replies import send_replies
from bot.dialogue.choices import parse_payload
from bot.dialogue.messages import Inbound, Kind
from bot.dialogue.service import Dialogue
from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from scheduler.channels import ChannelSpec, ChoiceStyle, Invitation, Length
from scheduler.clock import FakeClock
from scheduler.outbox import Action, Button, FailureReason, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Permanent, SendResult, Sent
from storage.keyring import Keyring
from storage.store import Store
from tests.bot.world import START, World, make_world
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi import fake_bot_api as fake_bot_api

pytestmark = pytest.mark.asyncio

# A channel the product has never heard of: numbered answers, nothing can be edited or
# deleted, no files, short messages, invitations as a code to type.
PIGEON = ChannelSpec(
    name="pigeon",
    choices=ChoiceStyle.NUMBERED,
    edits=False,
    deletes=False,
    length=Length(1200),
    invitation=Invitation.CODE,
    limits=Limits(per_chat_interval=0.0, global_rate=None),
)
CODE = re.compile(r"/join ([0-9A-Z]{4}(?:-[0-9A-Z]{2,4}){6})")
# Mina's 20:00 Seoul dose is 11:00 UTC; its window closes six hours later.
DUE = START + timedelta(hours=11)


class Loft:
    """The pigeon channel's sender: it keeps what each address was sent. It can only send
    new messages, as its spec says."""

    def __init__(self) -> None:
        self.sent: dict[str, list[Payload]] = defaultdict(list)

    async def send(self, address: str, payload: Payload) -> SendResult:
        if payload.action is not Action.SEND:
            return Permanent(FailureReason.BAD_REQUEST)
        self.sent[address].append(payload)
        return Sent(len(self.sent[address]))


@dataclass
class Perch:
    """Someone on the pigeon channel: types lines, reads what arrived, answers choices by
    their number (the adapter's inbound side, as small as it can be)."""

    world: World
    loft: Loft
    address: str
    read: int = 0
    shown: list[Button] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    async def say(self, line: str) -> None:
        self._look()
        self.seen = []
        typed = line.strip()
        if typed.isdigit() and 1 <= int(typed) <= len(self.shown):
            pick = parse_payload(self.shown[int(typed) - 1].callback_data, Dialogue.verbs)
            event = Inbound(PIGEON.name, self.address, self.address, Kind.PICK, pick=pick)
        else:
            event = Inbound.from_text(PIGEON.name, self.address, self.address, line)
        dialogue = self.world.dialogue
        replies = await dialogue.handle(event)
        lane = self.world.runtime.lane(PIGEON.name)
        await send_replies(lane, self.world.clock, event, replies, dialogue.sent)
        self._look()

    async def choose(self, label_part: str) -> None:
        self._look()
        for number, button in enumerate(self.shown, 1):
            if label_part in button.label:
                await self.say(str(number))
                return
        raise AssertionError(f"no choice {label_part!r} in {[b.label for b in self.shown]}")

    def text(self) -> str:
        self._look()
        return "\n".join(self.seen)

    def _look(self) -> None:
        for payload in self.loft.sent[self.address][self.read :]:
            self.seen.append(payload.text)
            offered = [b for row in payload.buttons for b in row]
            if offered:
                self.shown = offered
        self.read = len(self.loft.sent[self.address])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest_asyncio.fixture
async def store(database: TestDatabase, keyring: Keyring, clock: FakeClock) -> AsyncIterator[Store]:
    opened = await Store.open(database.url, keyring, clock=clock.now)
    try:
        yield opened
    finally:
        await opened.close()


async def deliver(world: World) -> None:
    while (await world.runtime.dispatcher.run_once()).claimed:
        pass


async def onboard(mina: Perch) -> None:
    await mina.say("/start")
    if any("English" in b.label for b in mina.shown):
        await mina.choose("English")
    await mina.choose("I agree")
    await mina.say("Mina")
    await mina.choose("Seoul")
    await mina.choose("Standard TB treatment, 6 months, every")
    await mina.choose("Today")
    await mina.say("20:00")
    if "weight" in mina.text():
        await mina.say("52")
    for step in ("vitamins", "Start"):
        await mina.choose(step)
    assert "All set" in mina.text(), mina.text()


async def invite(mina: Perch) -> str:
    await mina.say("/helper")
    if "Invite a helper" in " ".join(b.label for b in mina.shown):
        await mina.choose("Invite a helper")
    await mina.say("Jisoo")
    await mina.choose("Mina")  # the name Jisoo will see: Mina's own nickname
    found = CODE.search(mina.text())
    assert found, mina.text()
    return found.group(1)


async def test_a_channel_declared_in_a_test_carries_the_whole_story(
    store: Store, clock: FakeClock
) -> None:
    loft = Loft()
    world = make_world(store, clock, {PIGEON.name: loft}, [PIGEON])
    mina, jisoo = Perch(world, loft, "mina-loft"), Perch(world, loft, "jisoo-loft")

    await onboard(mina)
    identity = await store.identities.find(PIGEON.name, "mina-loft")
    assert identity is not None

    await world.travel(DUE - START)
    await deliver(world)
    assert "vitamins" in mina.text()  # the discreet reminder, with its choices numbered
    await mina.choose("Taken")
    assert "taken ✓" in mina.text()  # a new message: this channel cannot edit

    code = await invite(mina)
    assert "https://" not in mina.text()  # a code to type: the channel has no links
    await jisoo.say(f"/join {code}")
    assert "treatment helper" in jisoo.text()
    await jisoo.choose("I accept")
    await deliver(world)
    assert "accepted your invitation for Jisoo" in mina.text()
    await mina.choose("The words match")
    assert "Jisoo is now your helper" in mina.text()
    await deliver(world)
    assert "you are now their helper" in jisoo.text()

    # The next evening's dose goes unanswered until its window closes: Jisoo is told.
    await world.travel(timedelta(days=1, hours=6, minutes=1))
    await deliver(world)
    assert "has not answered today's check-in" in jisoo.text()
    await jisoo.choose("I'll reach out")
    assert "Thank you for reaching out to Mina" in jisoo.text()
    assert set(loft.sent) == {"mina-loft", "jisoo-loft"}


async def test_a_helper_on_another_channel_is_alerted_on_their_own(
    store: Store, clock: FakeClock, fake_bot_api: FakeBotApi
) -> None:
    """Mina is on the pigeon channel, her helper Jisoo on Telegram: Mina's reminders fly by
    pigeon, Jisoo's alert goes through the Telegram Bot API, and neither crosses over."""
    loft = Loft()
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
    unpaced = Limits(per_chat_interval=0.0, global_rate=None)
    telegram = replace(TELEGRAM, limits=unpaced)
    world = make_world(
        store,
        clock,
        {PIGEON.name: loft, TELEGRAM.name: TelegramSender(bot)},
        [PIGEON, telegram],
    )
    mina = Perch(world, loft, "mina-loft")
    jisoo = world.person("8001")  # a Telegram account
    async with bot:
        await onboard(mina)
        code = await invite(mina)
        await jisoo.say(f"/join {code}")
        await jisoo.choose("I accept")
        await deliver(world)
        await mina.choose("The words match")
        await deliver(world)
        assert "you are now their helper" in fake_bot_api.delivered_texts(8001)[-1]

        await world.travel(DUE - world.clock.now())
        await deliver(world)
        assert "vitamins" in mina.text()  # the reminder, by pigeon
        await world.travel(timedelta(hours=6, minutes=1))  # unanswered until its window closes
        await deliver(world)

    [alert] = [t for t in fake_bot_api.delivered_texts(8001) if "check-in" in t]
    assert "has not answered today's check-in" in alert
    [sent] = [m for m in fake_bot_api.messages_in(8001) if m.text == alert]
    assert any("I'll reach out" in label for row in sent.buttons for label, _ in row)
    assert set(loft.sent) == {"mina-loft"}  # nothing for Jisoo by pigeon
    assert all(
        call.chat_id == 8001 for call in fake_bot_api.calls("sendMessage")
    )  # nothing for Mina over Telegram
