"""The reminder engine: dose slots as timers in the database, woken by APScheduler (or, in the
demo and in tests, by the injected clock: `scheduler.wakeup`).

Each planned dose is a row of ``dose_slots`` (materialised over a rolling horizon) whose
plaintext ``next_check_at`` is the instant of its next timer: the reminder at the due instant,
the nudges of its ladder, the close of its window (see `scheduler.ladder`). A wake-up claims
the rows whose ``next_check_at`` has come, through the ``(state, next_check_at)`` index and a
lease, so its cost grows with what is due, not with how many patients exist; each claimed slot
moves on in the same transaction as the outbox row it causes. The dispatcher sends from there.

Guarantees:

- a reminder is written to the outbox at most once (dedupe key ``remind:<slot id>``), in the
  transaction that marks the slot reminded; the dispatcher sends it at least once, so a crash
  between the send and its record causes at most one duplicate per crash;
- after downtime, a slot whose reminder came due while down is reminded on start if its window
  is still open; if it has closed, the dose is recorded missed (no reply) without a reminder;
- a first reminder is written `EngineConfig.lookahead` (10 s) before it is due, to be sent
  from its due instant, so a crowd of patients due at 08:00 is queued by 08:00 rather than
  worked off after it; further ahead (up to `lookahead_most`) when the crowd is larger than
  the engine can queue in 10 s (`scheduler.lead`); nudges and closes are never early;
- several workers (processes) can tick at once: claims skip rows another worker holds and
  every change is conditional on the claim token and the slot's version.

The dialogue uses `enrolled` (in its own transaction) after storing or changing an enrolment or
the patient's reminder preferences, `snooze` for the snooze button, and `poke` after committing
something that creates a timer sooner than the engine may know. Recording an answer needs no
hook: `DoseRepository.record` sets ``next_check_at`` to None, which stops the slot's timers.

The engine coordinates its parts and runs the loop that wakes them: planning over the horizon
(`scheduler.horizon`), the dose slots' timers (`scheduler.timers`) and the close of a window
(`scheduler.closing`), the helpers' timers (`scheduler.helper_timers`); its configuration is
`scheduler.config`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from scheduler.clock import Clock
from scheduler.closing import WindowClose
from scheduler.compose import Composer
from scheduler.config import EngineConfig, TickReport
from scheduler.dispatcher import Unreachable
from scheduler.helper_timers import HelperTimers
from scheduler.horizon import Planner
from scheduler.lead import Lead
from scheduler.metrics import Metrics
from scheduler.timers import DoseTimers
from scheduler.visits import VisitTimers, VisitWords
from scheduler.wakeup import ClockWakeup, Wakeup
from storage.store import Repositories, Store

log = logging.getLogger(__name__)


class Engine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        composer: Composer,
        *,
        config: EngineConfig | None = None,
        worker_id: str,
        reporting: frozenset[str] = frozenset(),
        wakeup: Wakeup | None = None,
        metrics: Metrics | None = None,
        visits: VisitWords | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config or EngineConfig()
        self.metrics = metrics or Metrics()
        self.wakeup = wakeup or ClockWakeup(clock)
        self.worker_id = worker_id[:48]
        self._wake = asyncio.Event()
        self._sooner: datetime | None = None
        self.armed = asyncio.Event()
        """Set once `run_forever` has finished its first round and armed its first wake-up."""
        self.lead = Lead(self.config.lookahead, self.config.lookahead_most)
        self._early = self.config.lookahead
        self.planner = Planner(store, clock, self.config, self.metrics)
        self.helper_timers = HelperTimers(
            store, clock, composer, self.config, self.poke, self.worker_id
        )
        self.dose_timers = DoseTimers(
            store,
            composer,
            self.config,
            self.worker_id,
            self.metrics,
            WindowClose(composer, reporting, self.planner),
        )
        # Visit and test reminders (`scheduler.visits`), where the program gives their words.
        self.visit_timers = None if visits is None else VisitTimers(store, visits)

    # -- planning (`scheduler.horizon`) ---------------------------------------------------

    async def enrolled(self, tx: Repositories, patient_id: str, now: datetime) -> None:
        """See `Planner.enrolled`: the patient's slots planned, in the caller's transaction."""
        await self.planner.enrolled(tx, patient_id, now)

    async def extend_horizon(self, limit: int | None = None) -> int:
        """See `Planner.extend_horizon`: the periodic planning job."""
        return await self.planner.extend_horizon(limit)

    # -- the dialogue's and the outbox's hooks --------------------------------------------

    async def snooze(
        self, tx: Repositories, patient_id: str, slot_id: str, until: datetime, now: datetime
    ) -> bool:
        """See `DoseTimers.snooze`: remind again at ``until``."""
        return await self.dose_timers.snooze(tx, patient_id, slot_id, until, now)

    def poke(self, at: datetime | None = None) -> None:
        """Say that a timer may now be due sooner than the engine knows (call it after the
        commit, from the event loop's thread). With ``at``, the engine wakes by then without
        asking the database first."""
        if at is not None and (self._sooner is None or at < self._sooner):
            self._sooner = at
        self._wake.set()

    async def on_unreachable(self, event: Unreachable) -> None:
        """See `HelperTimers.on_unreachable`: the outbox's ``then`` for a recipient that can
        no longer be reached."""
        await self.helper_timers.on_unreachable(event)

    # -- timers ---------------------------------------------------------------------------

    async def next_due(self) -> datetime | None:
        """The earliest instant at which a timer needs this engine: a dose slot, a helper
        incident's escalation, a weekly summary (None: nothing is waiting)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            found = [
                await tx.dose_timers.next_check(now, early=self._early),
                await tx.timers.next_due(now),
            ]
        if self.visit_timers is not None:
            found.append(await self.visit_timers.next_due())
        return min((at for at in found if at is not None), default=None)

    async def refresh_lead(self) -> timedelta:
        """How far ahead of their instant first reminders are claimed from now on, from the
        count of those due within `EngineConfig.lookahead_most` (`scheduler.lead`);
        `run_forever` asks before every sleep."""
        now = self.clock.now()
        coming = await self.store.dose_timers.count_first_due(now, now + self.config.lookahead_most)
        self._early = self.lead.ahead(coming)
        return self._early

    async def tick(self) -> TickReport:
        """Claim due timers and process them; one bounded batch: first the helper timers that
        came due (`HelperTimers.run_due`), then the dose slots' (`DoseTimers.tick`)."""
        report = TickReport()
        now = self.clock.now()
        await self.helper_timers.run_due(now, report)
        began = self.clock.monotonic()
        await self.dose_timers.tick(now, report, early=self._early)
        self.lead.observe(report.reminded, self.clock.monotonic() - began)
        if self.visit_timers is not None:
            await self.visit_timers.run_due(now)
        return report

    async def sweep(self) -> int:
        """Clear expired slot leases (housekeeping: claims take expired leases anyway),
        forget tries at helper codes older than the hourly limit needs, and blur the exact
        instants of doses closed long enough ago (`storage.repositories.history`) and of
        invitations expired a day ago (`HelperRepository.blur_invites`)."""
        await self.store.helpers.prune_code_tries(self.clock.now())
        await self.store.helpers.blur_invites(self.clock.now())
        await self.store.history.blur(self.clock.now())
        return await self.store.dose_timers.sweep_leases(self.clock.now())

    # -- running --------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Tick whenever a timer comes due, until `stop` is set.

        Each round:
        1. Tick until a batch comes back short (a backlog is worked off at once).
        2. Run the periodic jobs that have come due (the horizon, every `replan_every`; the
           lease sweep, every `sweep_every`; both at start), planning one chunk of patients
           per round while more are due for it.
        3. Ask the database for the next due instant (also sooner instants given to `poke`,
           and the next periodic job); wait for it through the `Wakeup`, but no later than
           `max_idle` from now (timers written by other processes cannot poke this one).
        4. Wait until then, until `poke` is called, or until `stop` is set.
        """
        due_jobs: set[str] = set()
        every = {"replan": self.config.replan_every, "sweep": self.config.sweep_every}
        next_job = dict.fromkeys(every, self.clock.now())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                self._wake.clear()
                now = self.clock.now()
                for job, at in next_job.items():
                    if at <= now:
                        due_jobs.add(job)
                        next_job[job] = now + every[job]
                try:
                    await self._round(due_jobs)
                except Exception as exc:
                    # The database may be briefly unavailable: try again shortly.
                    log.error("engine round failed: %s", type(exc).__name__)
                    self._sooner = self.clock.now() + timedelta(seconds=1)
                wake_at = min(await self._wake_at(), *next_job.values())
                if not self.armed.is_set():
                    self.armed.set()
                    log.info("reminder engine armed")
                waiter = asyncio.ensure_future(self.wakeup.until(wake_at, self._wake))
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
        finally:
            stopper.cancel()
            self.wakeup.close()

    async def _round(self, due_jobs: set[str]) -> None:
        while True:
            report = await self.tick()
            if report.claimed < self.config.batch_size:
                break
        if "sweep" in due_jobs:
            due_jobs.discard("sweep")
            await self.sweep()
        if "replan" in due_jobs:
            # A chunk at a time, ticking in between: planning many patients (the first start
            # of a large deployment) must not hold up reminders that come due meanwhile.
            due_jobs.discard("replan")
            chunk = self.config.plan_chunk
            if await self.extend_horizon(limit=chunk) >= chunk:
                due_jobs.add("replan")
                self._sooner = self.clock.now()

    async def _wake_at(self) -> datetime:
        now = self.clock.now()
        candidates = [now + self.config.max_idle]
        try:
            await self.refresh_lead()
            due = await self.next_due()
        except Exception as exc:
            log.error("engine could not read the next due instant: %s", type(exc).__name__)
            due = now + timedelta(seconds=1)
        if due is not None:
            candidates.append(due)
        if self._sooner is not None:
            candidates.append(self._sooner)
            self._sooner = None
        # Never ask to be woken before now: a past instant is now.
        return max(now, min(candidates))
