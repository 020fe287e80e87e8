"""One lane per channel: a channel that is throttled or down holds up its own messages only."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender
from scheduler.channels import ChannelSpec, ChoiceStyle, Invitation, Length
from scheduler.dispatcher import Dispatcher, Unreachable
from scheduler.outbox import Kind, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Lane, SendResult, Sent
from tests.fakebotapi import Fault
from tests.scheduler.harness import MINA, WEI, Harness

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

SMS_LIKE = ChannelSpec(
    name="pager",
    choices=ChoiceStyle.NUMBERED,
    edits=False,
    deletes=False,
    length=Length(160),
    invitation=Invitation.CODE,
    limits=Limits(per_chat_interval=0.0, global_rate=None),
)


class Pager:
    """A second channel's sender; `stuck` makes every send hang, as a dead gateway would."""

    def __init__(self, stuck: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.stuck = asyncio.Event() if stuck else None

    async def send(self, address: str, payload: Payload) -> SendResult:
        if self.stuck is not None:
            await self.stuck.wait()
        self.sent.append((address, payload.text))
        return Sent(len(self.sent))


async def ignore(event: Unreachable) -> None:
    return None


def two_channels(harness: Harness, pager: Pager) -> Dispatcher:
    telegram = replace(TELEGRAM, limits=Limits(per_chat_interval=0.0, global_rate=None))
    return Dispatcher(
        harness.outbox,
        [Lane(telegram, TelegramSender(harness.bot)), Lane(SMS_LIKE, pager)],
        harness.clock,
        on_unreachable=ignore,
    )


def queue(harness: Harness, channel: str, chat: int, text: str) -> str:
    message_id = harness.outbox.enqueue(
        f"r-{chat}",
        chat,
        Kind.REMINDER,
        Payload.message(text),
        not_before=harness.clock.now(),
        channel=channel,
    )
    assert message_id is not None
    return message_id


async def test_a_throttled_channel_does_not_hold_back_another(harness: Harness) -> None:
    queue(harness, "telegram", MINA, "Mina's dose")
    queue(harness, "pager", WEI, "Wei's dose")
    harness.api.add_fault(Fault.too_many_requests(retry_after=30), method="sendMessage")
    pager = Pager()

    report = await two_channels(harness, pager).run_once()

    assert pager.sent == [(str(WEI), "Wei's dose")]
    assert harness.api.delivered_texts() == []
    assert report.paused_until is not None  # Telegram's lane waits out its 30 seconds
    assert (report.sent, report.deferred) == (1, 1)


async def test_a_channel_that_is_down_does_not_stall_another(harness: Harness) -> None:
    stuck = queue(harness, "pager", WEI, "Wei's dose")
    queue(harness, "telegram", MINA, "Mina's dose")
    pager = Pager(stuck=True)
    dispatcher = two_channels(harness, pager)
    stop = asyncio.Event()

    running = asyncio.create_task(dispatcher.run_forever(stop))
    await harness.api.wait_for(lambda: harness.api.delivered_texts() == ["Mina's dose"])
    assert pager.sent == [] and harness.outbox.state(stuck) == "pending"

    assert pager.stuck is not None
    pager.stuck.set()  # the gateway comes back
    stop.set()
    await asyncio.wait_for(running, 5.0)
    assert pager.sent == [(str(WEI), "Wei's dose")]


async def test_each_lane_claims_only_its_own_channel(harness: Harness) -> None:
    queue(harness, "pager", WEI, "Wei's dose")
    telegram_only = Dispatcher(
        harness.outbox,
        [Lane(TELEGRAM, TelegramSender(harness.bot))],
        harness.clock,
        on_unreachable=ignore,
    )

    report = await telegram_only.run_once()

    assert report.claimed == 0 and harness.api.delivered_texts() == []
