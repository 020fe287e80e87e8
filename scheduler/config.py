"""How the reminder engine plans and works (`EngineConfig`), and what one of its ticks did
(`TickReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from scheduler.ladder import DEFAULT_NUDGES, DEFAULT_WINDOW


@dataclass(frozen=True)
class EngineConfig:
    """How the engine plans and works.

    - `horizon`: how far ahead dose slots are materialised; `replan_margin`: an enrolment is
      planned again once less than this much of its horizon is left (so each one is re-planned
      about once per ``horizon - replan_margin``, not every hour);
    - `window`, `nudges`: the default dose window and nudge offsets (patients choose fewer
      nudges and quiet hours in their preferences);
    - `lookahead`: a first reminder is written this long before its due instant, with the
      dispatcher told not to send it before then, so that a burst of reminders due at the
      same instant is already queued when it comes; a dose answered meanwhile cancels its
      waiting reminder (`OutboxRepository.cancel_waiting`). Nudges and closes are never
      early. When more first reminders are due soon than the engine can queue in that time,
      it writes them further ahead, up to `lookahead_most` (`scheduler.lead`);
    - `lease`: how long a claim holds a slot; a worker that dies holding it delays those
      slots by at most this much. Must outlast processing one batch;
    - `batch_size`: slots per claim (and per transaction); `plan_chunk`: patients planned
      per transaction by the horizon job (`replan_batch` per query);
    - `replan_every`: the periodic horizon job; `sweep_every`: clearing of expired leases;
      `max_idle`: the longest sleep without looking at the database, which bounds how late a
      timer created by another process (that could not `poke` this one) is noticed.
    """

    horizon: timedelta = timedelta(hours=48)
    replan_margin: timedelta = timedelta(hours=24)
    window: timedelta = DEFAULT_WINDOW
    nudges: tuple[timedelta, ...] = DEFAULT_NUDGES
    lookahead: timedelta = timedelta(seconds=10)
    lookahead_most: timedelta = timedelta(minutes=5)
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 200
    replan_every: timedelta = timedelta(hours=1)
    replan_batch: int = 500
    plan_chunk: int = 500
    sweep_every: timedelta = timedelta(minutes=5)
    max_idle: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if min(self.batch_size, self.replan_batch, self.plan_chunk) < 1:
            raise ValueError("batch sizes must be at least 1")
        if not timedelta(0) < self.replan_margin < self.horizon:
            raise ValueError("replan_margin must be between zero and the horizon")
        if self.lease <= timedelta(0) or self.window <= timedelta(0):
            raise ValueError("lease and window must be positive")
        if not timedelta(0) <= self.lookahead <= self.lookahead_most < self.window:
            raise ValueError(
                "lookahead must be at least zero, at most lookahead_most, which is shorter "
                "than the window"
            )


@dataclass
class TickReport:
    """What one `tick` did."""

    claimed: int = 0
    reminded: int = 0
    nudged: int = 0
    closed: int = 0
    closed_unreminded: int = 0
    """Closed as missed without any reminder: the window passed while the engine was down."""
    alerts: int = 0
    """Helper incidents opened by closes."""
    escalated: int = 0
    summaries: int = 0
    lost: int = 0
    """Claimed, but the patient answered or another worker took over first: left alone."""
    failed: int = 0
    """Raised while being processed: left leased, so it comes back when the lease ends."""
    latencies: list[float] = field(default_factory=list, repr=False)
    """Seconds from each reminder's due instant to its outbox row (for the benchmark)."""
