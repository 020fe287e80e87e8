"""How far ahead of their instant first reminders are written: `EngineConfig.lookahead` at
least, longer when more are due soon than this engine could queue in that time, so that a
burst of any size is in the outbox before its instant (at most `EngineConfig.lookahead_most`).

1. Each tick that queued first reminders tells `Lead.observe` how many and how long the tick
   took (the clock's monotonic seconds, so a busy machine counts against the rate); the rate
   follows a moving average, `FIRST_RATE` until a first measure.
2. Before the engine sleeps, it counts the first reminders due within `lookahead_most` (one
   indexed count), and `Lead.ahead` turns the count into the lead: the time to queue them at
   that rate, `MARGIN` times over (the machine may be busier when the burst comes), within
   [`lookahead`, `lookahead_most`].
3. Claims take first reminders that far ahead (each sent from its own instant, and cancelled
   if the dose is answered meanwhile), and the engine wakes that far before the next one.

With several workers each one counts the whole burst and reckons with its own rate alone, so
the lead is longer than needed: reminders are written earlier, never sent earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

FIRST_RATE = 100.0
"""Reminders queued per second before any is measured: below what one engine manages on a
busy two-core machine, so a first burst after a start is not underestimated."""
MARGIN = 2.0
SMOOTHING = 0.3
"""Weight of the newest measure in the moving average."""
MIN_SAMPLE = 20
"""Ticks that queued fewer reminders say little about the rate (fixed costs dominate)."""


@dataclass
class Lead:
    least: timedelta
    most: timedelta
    rate: float = FIRST_RATE

    def observe(self, queued: int, seconds: float) -> None:
        """A tick queued `queued` first reminders in `seconds`."""
        if queued < MIN_SAMPLE or seconds <= 0:
            return
        self.rate += SMOOTHING * (queued / seconds - self.rate)

    def ahead(self, due_soon: int) -> timedelta:
        """The lead for `due_soon` first reminders due within `most`."""
        needed = timedelta(seconds=MARGIN * due_soon / self.rate)
        return min(self.most, max(self.least, needed))
