"""A channel's send limits, kept on the injected clock: a least interval between two messages to
one address and a global rate for the whole channel. The defaults are Telegram's: one message per
second to a chat, and about 30 per second for the whole bot (we default to 25). Each channel
declares its own (`scheduler.channels.ChannelSpec.limits`) and gets a limiter of its own, so one
channel's pace or pause never holds back another.

Both limits are kept by spacing, not by a bucket that refills: a bucket of 25 would let 25
messages out in the same millisecond and then 25 more a second later, which is 50 in one second
as Telegram counts. Spacing sends at least `1/rate` apart guarantees that no window of one second,
wherever it starts, holds more than `rate` sends, and it spreads load on the Bot API evenly.

Instants are kept as integer nanoseconds so that the guarantee is exact, not approximately true
after a few thousand additions of 0.04.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

NS_PER_SECOND = 1_000_000_000

# Dropping chats whose spacing has elapsed keeps memory proportional to recent recipients,
# not to every chat ever served; doing it every so many reservations keeps the cost amortised.
_PRUNE_EVERY = 1024


def _to_ns(seconds: float) -> int:
    return round(seconds * NS_PER_SECOND)


@dataclass(frozen=True)
class Limits:
    """`global_rate` is messages per second for the whole bot, or None for no global limit."""

    per_chat_interval: float = 1.0
    global_rate: float | None = 25.0

    def __post_init__(self) -> None:
        if self.per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        if self.global_rate is not None and self.global_rate <= 0:
            raise ValueError("global_rate must be positive, or None for no global limit")


class RateLimiter:
    """Hands out send instants that respect the per-chat and global limits.

    All instants are seconds on the clock's monotonic scale. The limiter only books slots; the
    caller waits until the instant it was given and then sends.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._chat_interval_ns = _to_ns(self.limits.per_chat_interval)
        rate = self.limits.global_rate
        # Rounded up so that `rate` intervals always cover a whole second.
        self._global_interval_ns = 0 if rate is None else math.ceil(NS_PER_SECOND / rate)
        self._next_global_ns: int | None = None
        self._paused_until_ns: int | None = None
        self._next_for_chat: dict[Hashable, int] = {}
        self._reservations = 0

    def chat_ready_at(self, chat: Hashable, now: float) -> float:
        """The earliest instant `chat` may receive its next message."""
        return max(_to_ns(now), self._next_for_chat.get(chat, 0)) / NS_PER_SECOND

    def global_ready_at(self, now: float) -> float:
        """The earliest instant any chat may receive a message (pauses included)."""
        return self._global_ready_ns(_to_ns(now)) / NS_PER_SECOND

    def paused_until(self, now: float) -> float | None:
        """The end of a pause ordered by the Bot API, if it is still in force at `now`."""
        if self._paused_until_ns is None or self._paused_until_ns <= _to_ns(now):
            return None
        return self._paused_until_ns / NS_PER_SECOND

    def pause(self, until: float) -> None:
        """Send nothing to anyone before `until` (a 429 `retry_after`); pauses never shorten."""
        until_ns = _to_ns(until)
        if self._paused_until_ns is None or until_ns > self._paused_until_ns:
            self._paused_until_ns = until_ns

    def reserve(self, chat: Hashable, now: float) -> float:
        """Book the earliest instant at which `chat` may be sent a message, and return it.

        Steps:
        1. The instant is the latest of: now, the chat's next free instant, the next global
           slot, and the end of any pause.
        2. The chat's next free instant becomes the instant plus the per-chat interval.
        3. The next global slot becomes the instant plus `1/rate` (with no global rate, only
           pauses hold sends back).
        """
        now_ns = _to_ns(now)
        at_ns = max(self._global_ready_ns(now_ns), self._next_for_chat.get(chat, 0))
        self._next_for_chat[chat] = at_ns + self._chat_interval_ns
        self._next_global_ns = at_ns + self._global_interval_ns
        self._reservations += 1
        if self._reservations % _PRUNE_EVERY == 0:
            self._prune(now_ns)
        return at_ns / NS_PER_SECOND

    def book_reply(self, chat: Hashable, now: float) -> float:
        """Book the earliest instant for an immediate answer to `chat`, and return it.

        A reply keeps the global pace and any pause, but not the per-chat interval: a person
        who just pressed a button waits for no one, and two or three replies in a row are what
        a chat client expects. The chat's next free instant still moves past the reply, so a
        scheduled message that follows keeps its distance.
        """
        now_ns = _to_ns(now)
        at_ns = self._global_ready_ns(now_ns)
        self._next_for_chat[chat] = max(
            self._next_for_chat.get(chat, 0), at_ns + self._chat_interval_ns
        )
        self._next_global_ns = at_ns + self._global_interval_ns
        return at_ns / NS_PER_SECOND

    def _global_ready_ns(self, now_ns: int) -> int:
        ready = now_ns
        if self._next_global_ns is not None:
            ready = max(ready, self._next_global_ns)
        if self._paused_until_ns is not None:
            ready = max(ready, self._paused_until_ns)
        return ready

    def _prune(self, now_ns: int) -> None:
        self._next_for_chat = {c: t for c, t in self._next_for_chat.items() if t > now_ns}
