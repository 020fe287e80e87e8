"""Where the SMS channel's answers go: the dialogue's replies through the SMS lane (the same
sender, pace and caps as scheduled messages), and the channel's own notices."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.replies import send_replies
from bot.dialogue.messages import Inbound, Reply
from bot.sms.sender import SmsSender
from scheduler.clock import Clock
from scheduler.outbox import Payload
from scheduler.sending import Lane


class SmsReplies:
    """`bot.sms.inbound.SmsOut`: the dialogue's replies through the SMS lane (same sender,
    pace and caps as scheduled messages), and the channel's own notices."""

    def __init__(self, lane: Lane, sender: SmsSender, clock: Clock) -> None:
        self.lane = lane
        self.sender = sender
        self.clock = clock

    async def replies(self, event: Inbound, replies: Sequence[Reply]) -> None:
        await send_replies(self.lane, self.clock, event, replies)

    async def notice(self, number: str, text: str, *, essential: bool = False) -> None:
        await self.sender.send(number, Payload.message(text), essential=essential)
