"""A dispatcher wired to the real Telegram sender and the fake Bot API, on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from telegram import Bot

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender
from scheduler.clock import FakeClock
from scheduler.dispatcher import (
    Backoff,
    Dispatcher,
    DispatcherConfig,
    Unreachable,
    UnreachableHandler,
)
from scheduler.outbox import Button, Kind, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Lane
from tests.fakebotapi import FakeBotApi
from tests.scheduler.memory_outbox import MemoryOutbox

# The people in these tests. Chat ids are what Telegram would use for their private chats.
MINA = 1001  # patient
WEI = 1002  # patient
ANA = 2001  # Mina's helper

TAKEN = ((Button("Taken", "dose:taken:1"), Button("Later", "dose:later:1")),)


@dataclass
class Harness:
    api: FakeBotApi
    bot: Bot
    clock: FakeClock
    outbox: MemoryOutbox = field(default_factory=MemoryOutbox)
    unreachable: list[Unreachable] = field(default_factory=list)

    def dispatcher(
        self,
        *,
        global_rate: float | None = 25.0,
        max_in_flight: int = 16,
        batch_size: int = 50,
        max_attempts: int = 8,
        random_fraction: float = 0.0,
        on_unreachable: UnreachableHandler | None = None,
    ) -> Dispatcher:
        async def record(event: Unreachable) -> None:
            self.unreachable.append(event)

        telegram = replace(TELEGRAM, limits=Limits(global_rate=global_rate))
        return Dispatcher(
            self.outbox,
            [Lane(telegram, TelegramSender(self.bot))],
            self.clock,
            on_unreachable=on_unreachable or record,
            config=DispatcherConfig(
                batch_size=batch_size,
                max_in_flight=max_in_flight,
                max_attempts=max_attempts,
                backoff=Backoff(base=2.0, cap=60.0, jitter=0.5),
            ),
            random=lambda: random_fraction,
        )

    def enqueue(
        self,
        chat_id: int,
        text: str,
        kind: Kind = Kind.REMINDER,
        *,
        due_in: float = 0.0,
        window: float | None = None,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> str:
        """Queue a message due `due_in` seconds from now, expiring `window` seconds after that."""
        due = self.clock.now() + timedelta(seconds=due_in)
        expires = None if window is None else due + timedelta(seconds=window)
        message_id = self.outbox.enqueue(
            f"recipient-{chat_id}",
            chat_id,
            kind,
            Payload.message(text, buttons),
            not_before=due,
            expires_at=expires,
        )
        assert message_id is not None
        return message_id

    async def drain(self, dispatcher: Dispatcher, max_cycles: int = 200) -> None:
        """Run cycles, jumping the clock to the next due message or the end of a pause, until
        nothing is pending."""
        for _ in range(max_cycles):
            report = await dispatcher.run_once()
            due = self.outbox.next_due()
            if due is None:
                return
            wake = max(due, report.paused_until or due)
            if wake > self.clock.now():
                self.clock.advance(wake - self.clock.now())
        raise AssertionError(f"outbox not drained after {max_cycles} cycles")
