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
  worked off after it; nudges and closes are never early;
- several workers (processes) can tick at once: claims skip rows another worker holds and
  every change is conditional on the claim token and the slot's version.

The dialogue uses `enrolled` (in its own transaction) after storing or changing an enrolment or
the patient's reminder preferences, `snooze` for the snooze button, and `poke` after committing
something that creates a timer sooner than the engine may know. Recording an answer needs no
hook: `DoseRepository.record` sets ``next_check_at`` to None, which stops the slot's timers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.alerts import (
    SUMMARY_EVERY,
    AlertKind,
    HelperPrefs,
    after_close,
    escalate,
    last_answer,
    pass_on,
    raise_alert,
)
from scheduler.clock import Clock
from scheduler.compose import Composer
from scheduler.dispatcher import Unreachable
from scheduler.doses import NOT_TAKEN_OUTCOMES, DoseSnapshot, day_counts, treatment_events
from scheduler.ladder import (
    DEFAULT_NUDGES,
    DEFAULT_WINDOW,
    Step,
    Timer,
)
from scheduler.metrics import Metrics
from scheduler.outbox import Kind, Payload
from scheduler.planning import PlanChange, plan_changes
from scheduler.preferences import Preferences
from scheduler.sql_outbox import parse_recipient
from scheduler.wakeup import ClockWakeup, Wakeup
from storage.errors import NotFound
from storage.records import (
    HELPER_PREFIX,
    PATIENT,
    DoseOutcome,
    DoseSlot,
    EnrolmentRecord,
    Helper,
    IncidentState,
    OutboxMessage,
    Patient,
    ReportedVia,
    SlotState,
    helper_recipient,
    reminder_key,
)
from storage.repositories.planning import PlanningInput, SlotPlan
from storage.store import Repositories, Store
from treatment.adherence import summarise
from treatment.codes import Severity

log = logging.getLogger(__name__)

OPEN = (SlotState.PENDING, SlotState.REMINDED)


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
      early;
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
        if not timedelta(0) <= self.lookahead < self.window:
            raise ValueError("lookahead must be at least zero and shorter than the window")


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
    ) -> None:
        self.store = store
        self.clock = clock
        self.composer = composer
        self.config = config or EngineConfig()
        # Channels that report what became of a message after accepting it (SMS).
        self.reporting = reporting
        self.metrics = metrics or Metrics()
        self.wakeup = wakeup or ClockWakeup(clock)
        self.worker_id = worker_id[:48]
        self._wake = asyncio.Event()
        self._sooner: datetime | None = None
        self.armed = asyncio.Event()
        """Set once `run_forever` has finished its first round and armed its first wake-up."""

    # -- planning -------------------------------------------------------------------------

    async def enrolled(self, tx: Repositories, patient_id: str, now: datetime) -> None:
        """Materialise the patient's dose slots up to ``now + horizon``, in the caller's
        transaction. Idempotent; also the way to apply any change to the plan. Raises
        `NotFound` for a patient who does not exist.

        The same path as the horizon job's, with a chunk of one patient (see `_plan_chunk`).
        """
        found = await tx.planning.inputs([patient_id], now, NOT_TAKEN_OUTCOMES)
        if not found:
            raise NotFound("patients", patient_id)
        change = self._changes(found[0], now)
        await tx.planning.apply(change.remove, change.add, change.planned)

    def _changes(self, found: PlanningInput, now: datetime) -> PlanChange:
        settings = Preferences.from_dict(found.preferences).ladder(
            self.config.nudges, self.config.window
        )
        return plan_changes(found, now, now + self.config.horizon, settings)

    async def _plan_chunk(
        self, tx: Repositories, due: Mapping[str, Sequence[str]], now: datetime
    ) -> None:
        """Plan a chunk of patients in the caller's transaction: ``due`` maps each patient to
        the enrolments the horizon job found for them.

        1. Read the chunk's patients, keys, enrolments, future slots and answers in a few
           queries (`PlanningRepository.inputs`); patients forgotten meanwhile are not there.
        2. Plan each patient in Python (`plan_changes`). A patient whose plan raises is left
           out and noted planned until the next run, so it is tried again then, not in a
           loop now.
        3. Write every change in one savepoint: one DELETE, one INSERT, one UPDATE.
        4. Only if 1 or 3 fails (another worker planned one of these patients meanwhile, and
           the unique (enrolment, due instant) pair refused a slot; one bad row), roll the
           savepoint back and plan each patient alone in a savepoint of its own, reading
           again, so that one patient cannot stop everyone else's reminders.
        """
        retry_at = now + self.config.horizon - self.config.replan_margin
        retry_at += self.config.replan_every
        try:
            async with tx.savepoint():
                inputs = await tx.planning.inputs(list(due), now, NOT_TAKEN_OUTCOMES)
                remove: list[DoseSlot] = []
                add: list[SlotPlan] = []
                planned: dict[str, datetime] = {}
                for found in inputs:
                    try:
                        change = self._changes(found, now)
                    except Exception as exc:
                        log.error("planning failed for one patient: %s", type(exc).__name__)
                        planned.update(dict.fromkeys(due[found.patient_id], retry_at))
                        continue
                    remove.extend(change.remove)
                    add.extend(change.add)
                    planned.update(change.planned)
                await tx.planning.apply(remove, add, planned)
            return
        except Exception as exc:
            log.warning("planning a chunk failed (%s): one by one", type(exc).__name__)
        for patient_id, enrolment_ids in due.items():
            try:
                async with tx.savepoint():
                    await self.enrolled(tx, patient_id, now)
            except NotFound:
                continue  # forgotten meanwhile
            except Exception as exc:
                log.error("planning failed for one patient: %s", type(exc).__name__)
                async with tx.savepoint():
                    await tx.planning.apply([], [], dict.fromkeys(enrolment_ids, retry_at))

    async def extend_horizon(self, limit: int | None = None) -> int:
        """The periodic planning job: plan the enrolments whose horizon runs short.

        1. Ask the index for active enrolments planned only up to less than
           ``now + horizon - replan_margin`` (plaintext; nothing is decrypted to find them).
        2. Plan their patients, `plan_chunk` per transaction (see `_plan_chunk`), until none
           is left or `limit` patients were planned.
        Returns the number of patients planned (``== limit``: there may be more).
        """
        now = self.clock.now()
        before = now + self.config.horizon - self.config.replan_margin
        seen: set[str] = set()
        while True:
            due = await self.store.enrolments.due_for_planning(before, self.config.replan_batch)
            fresh: dict[str, list[str]] = {}
            for patient_id, enrolment_id in due:
                if patient_id not in seen:
                    fresh.setdefault(patient_id, []).append(enrolment_id)
            patients = list(fresh)
            if limit is not None:
                patients = patients[: max(0, limit - len(seen))]
            if not patients:
                return len(seen)
            seen.update(patients)
            # Many patients per transaction: one commit (one fsync) and a few statements per
            # chunk, not per patient.
            for first in range(0, len(patients), self.config.plan_chunk):
                chunk = patients[first : first + self.config.plan_chunk]
                with self.metrics.planning.time():
                    async with self.store.transaction() as tx:
                        await self._plan_chunk(tx, {pid: fresh[pid] for pid in chunk}, now)
                self.metrics.patients_planned.inc(len(chunk))

    # -- the dialogue's hooks -------------------------------------------------------------

    async def snooze(
        self, tx: Repositories, patient_id: str, slot_id: str, until: datetime, now: datetime
    ) -> bool:
        """Remind again at ``until``. False (nothing changed) unless the slot is the
        patient's, still open, and ``now < until < end of its window``.

        The timers become: a reminder at ``until`` (a reminder, not a nudge), the nudges that
        were still to come after it, and the close. Call `poke` after the commit.
        """
        try:
            slot = await tx.doses.slot(patient_id, slot_id)
        except NotFound:
            return False
        if slot.state not in OPEN or not now < until < slot.window_ends_at:
            return False
        snapshot = DoseSnapshot.of(slot)
        timers = snapshot.timers
        rest = [t for t in timers[:-1] if t.step is Step.NUDGE and t.at > until]
        dose = snapshot.snoozed([Timer(Step.REMIND, until), *rest, timers[-1]]).to_dict()
        return await tx.doses.reschedule(
            patient_id,
            slot_id,
            expected_version=slot.version,
            state=slot.state,
            next_check_at=until,
            dose=dose,
        )

    def poke(self, at: datetime | None = None) -> None:
        """Say that a timer may now be due sooner than the engine knows (call it after the
        commit, from the event loop's thread). With ``at``, the engine wakes by then without
        asking the database first."""
        if at is not None and (self._sooner is None or at < self._sooner):
            self._sooner = at
        self._wake.set()

    # -- timers ---------------------------------------------------------------------------

    async def next_due(self) -> datetime | None:
        """The earliest instant at which a timer needs this engine: a dose slot, a helper
        incident's escalation or a weekly summary (None: nothing is waiting)."""
        async with self.store.transaction() as tx:
            found = [
                await tx.doses.next_check(self.clock.now(), early=self.config.lookahead),
                await tx.incidents.next_due(),
                await tx.helpers.next_summary(),
            ]
        return min((at for at in found if at is not None), default=None)

    async def tick(self) -> TickReport:
        """Claim due timers and process them; one bounded batch.

        1. Claim up to `batch_size` slots whose ``next_check_at`` has come, under a lease with
           a fresh claim token (so a later claim of the same rows by anyone is a new owner).
        2. In one transaction, read their patients; for each slot whose window is still open,
           decide its step (`_decide`) and compose its message.
        3. Move all of them on in one conditional statement (claim token and version per
           row); write the outbox rows of those that moved, in one flush. A slot the patient
           answered meanwhile, or another worker took over, does not move and sends nothing.
        4. Close the slots whose window has ended, each in its own savepoint (see `_close`),
           so that one bad slot does not undo the batch.
        A crash anywhere leaves either nothing (rolled back) or the whole batch done; the
        leases of unprocessed slots run out and another tick claims them again.
        Before the slots, the helper timers that came due run (see `_helper_timers`).
        """
        report = TickReport()
        now = self.clock.now()
        await self._helper_timers(now, report)
        owner = f"{self.worker_id}:{secrets.token_hex(6)}"
        async with self.store.transaction() as tx:
            claimed = await tx.doses.claim_timers(
                now, self.config.batch_size, self.config.lease, owner, early=self.config.lookahead
            )
        report.claimed = len(claimed)
        if not claimed:
            return report
        async with self.store.transaction() as tx:
            patients = await tx.patients.get_many({slot.patient_id for slot in claimed})
            steps: list[tuple[DoseSlot, _Decision, Payload | None]] = []
            closing: list[tuple[Patient, DoseSlot]] = []
            for slot in claimed:
                patient = patients.get(slot.patient_id)
                if patient is None:
                    continue  # forgotten: the slot went with them
                if now >= slot.window_ends_at:
                    closing.append((patient, slot))
                    continue
                try:
                    decision = _decide(slot, now)
                    payload = None
                    if decision.step is not None:
                        nudge = decision.step is Step.NUDGE
                        payload = self.composer.reminder(patient, slot, decision.step, nudge=nudge)
                except Exception as exc:
                    report.failed += 1  # left leased: it comes back when the lease ends
                    log.error("dose slot %s: %s", slot.id, type(exc).__name__)
                    continue
                steps.append((slot, decision, payload))
            moved = await tx.doses.advance_many(
                owner,
                [(slot.id, slot.version, d.state, d.next_check_at) for slot, d, _ in steps],
            )
            messages = []
            for slot, decision, payload in steps:
                if slot.id not in moved:
                    report.lost += 1
                    continue
                if decision.step is None or payload is None:
                    continue
                kind = Kind.NUDGE if decision.step is Step.NUDGE else Kind.REMINDER
                messages.append(
                    _message(
                        slot.patient_id,
                        PATIENT,
                        kind,
                        payload,
                        decision.dedupe,
                        decision.send_at,
                        slot.window_ends_at,
                    )
                )
                if kind is Kind.NUDGE:
                    report.nudged += 1
                else:
                    report.reminded += 1
                    due = slot.next_check_at or slot.due_at
                    # Negative: written ahead of its due instant (`lookahead`).
                    report.latencies.append((now - due).total_seconds())
            await tx.outbox.enqueue_many(messages)
            for patient, slot in closing:
                try:
                    async with tx.savepoint():
                        await self._close(tx, patient, slot, owner, now, report)
                except Exception as exc:
                    report.failed += 1
                    log.error("dose slot %s: %s", slot.id, type(exc).__name__)
        # Counted once the batch is committed: a rolled-back batch queued nothing.
        self.metrics.reminders_queued.inc(report.reminded)
        self.metrics.nudges_queued.inc(report.nudged)
        self.metrics.doses_closed.inc(report.closed)
        return report

    async def _close(
        self,
        tx: Repositories,
        patient: Patient,
        slot: DoseSlot,
        owner: str,
        now: datetime,
        report: TickReport,
    ) -> None:
        """The end of a dose window with no answer.

        1. Take the slot from the claim (conditional; a patient's answer just now wins).
        2. Record it missed, no reply (the slot leaves the open states, its timers stop).
        3. Run the adherence rules and write any helper alert (see `_alert_helpers`), unless
           the channel reported that none of the dose's reminders reached the patient (the
           phone gateway was off, or held the texts): helpers are not told of a miss that the
           patient was never asked about.
        4. Plan the enrolment again: a dose not taken moves the later phase boundaries.
        """
        if not await tx.doses.advance(
            slot.id,
            owner=owner,
            expected_version=slot.version,
            state=slot.state,
            next_check_at=None,
        ):
            report.lost += 1
            return
        await tx.doses.record(slot.patient_id, slot.id, DoseOutcome.MISSED, ReportedVia.NO_REPLY)
        report.closed += 1
        if slot.state is SlotState.PENDING:
            report.closed_unreminded += 1
        try:
            record = await tx.enrolments.get(slot.patient_id, slot.enrolment_id)
        except NotFound:
            return
        if slot.state is SlotState.REMINDED:
            if await tx.outbox.unseen(patient.id, slot.id, self.reporting):
                log.info("dose slot %s: closed, its reminders never reached the patient", slot.id)
            else:
                report.alerts += await self._alert_helpers(tx, patient, slot, record, now)
        if record.active:
            await self.enrolled(tx, slot.patient_id, now)

    async def _alert_helpers(
        self,
        tx: Repositories,
        patient: Patient,
        slot: DoseSlot,
        record: EnrolmentRecord,
        now: datetime,
    ) -> int:
        """What the close of a reminded, unanswered dose tells helpers; incidents opened.

        1. Only if the patient allows helper alerts, and only for a dose that was reminded
           and went unanswered (a dose whose window passed while the engine was down is
           recorded missed, but the helper is not alarmed by our outage).
        2. Summarise adherence as of now; the findings of the clinical rules that call for a
           clinician (an interruption, lost to follow-up, a window that cannot be met) are
           passed on as reason codes. The early lapse warning is not: several doses missed
           in a row is its own alert, at the number the patient chose.
        3. `scheduler.alerts.after_close` opens the incidents, in this same transaction.
        """
        if not patient.consent.helper_alerts:
            return 0
        events = await tx.doses.events(patient.id)
        slots = await tx.doses.slots_by_id(patient.id, {event.slot_id for event in events})
        summary = summarise(record.enrolment, treatment_events(slots, events), now)
        warnings = [
            status.code.value
            for status in summary.statuses
            if status.severity is Severity.CLINICIAN
        ]
        return await after_close(tx, self.composer, patient, slot, events, warnings, now)

    async def on_unreachable(self, event: Unreachable) -> None:
        """The outbox's ``then`` for a recipient that can no longer be reached.

        - A patient who blocked the bot or deleted their account is an alert for their
          helpers (once until they answer again).
        - A helper who can no longer be reached passes on, at once, the open incidents they
          were the last to be told about, as if they had pressed "Can't reach them".
        """
        patient_id, recipient = parse_recipient(event.recipient)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            try:
                patient = await tx.patients.get(patient_id)
            except NotFound:
                return
            if recipient.startswith(HELPER_PREFIX):
                await self._helper_unreachable(tx, patient_id, recipient, now)
            elif recipient == PATIENT:
                last = last_answer(await tx.doses.events(patient_id))
                marker = last.id if last is not None else patient_id
                facts = {"reason": event.reason.value}
                await raise_alert(
                    tx, self.composer, patient, AlertKind.UNREACHABLE, marker, facts, now
                )
        self.poke()

    async def _helper_unreachable(
        self, tx: Repositories, patient_id: str, recipient: str, now: datetime
    ) -> None:
        try:
            helper = await tx.helpers.get(patient_id, recipient.removeprefix(HELPER_PREFIX))
        except NotFound:
            return
        for incident in await tx.incidents.for_patient(patient_id):
            told = incident.detail.get("told", [])
            if incident.state is IncidentState.OPEN and told and told[-1] == helper.id:
                await pass_on(tx, self.composer, incident, helper, now)

    async def _helper_timers(self, now: datetime, report: TickReport) -> None:
        """Escalate the helper incidents whose delay ran out, and send the weekly summaries
        that came due; a bounded batch of each, each item in its own savepoint."""
        async with self.store.transaction() as tx:
            for incident in await tx.incidents.due(now, self.config.batch_size):
                try:
                    async with tx.savepoint():
                        report.escalated += await escalate(tx, self.composer, incident, now)
                except Exception as exc:
                    log.error("helper incident %s: %s", incident.id, type(exc).__name__)
            for helper in await tx.helpers.due_summaries(now, self.config.batch_size):
                try:
                    async with tx.savepoint():
                        report.summaries += await self._summary(tx, helper, now)
                except Exception as exc:
                    log.error("helper summary %s: %s", helper.id, type(exc).__name__)

    async def _summary(self, tx: Repositories, helper: Helper, now: datetime) -> bool:
        """One weekly summary: the last 7 local days of the patient's doses; the next one a
        week later (weeks missed while down are not sent late)."""
        patient = await tx.patients.get(helper.patient_id)
        due = helper.summary_at or now
        following = due + SUMMARY_EVERY
        while following <= now:
            following += SUMMARY_EVERY
        await tx.helpers.schedule_summary(helper.patient_id, helper.id, following)
        if not patient.consent.helper_alerts or not HelperPrefs.of(helper).weekly:
            return False
        today = now.astimezone(ZoneInfo(patient.time_zone)).date()
        days = [today - timedelta(days=n) for n in range(7, 0, -1)]
        counts = await day_counts(tx.doses, patient, days)
        payload = self.composer.helper_summary(patient, helper, counts)
        return await self._enqueue(
            tx,
            patient.id,
            helper_recipient(helper.id),
            Kind.SUMMARY,
            payload,
            f"summary:{helper.id}:{due.isoformat()}",
            now,
            None,
        )

    async def _enqueue(
        self,
        tx: Repositories,
        patient_id: str,
        recipient: str,
        kind: Kind,
        payload: Payload,
        dedupe_key: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> bool:
        message = _message(patient_id, recipient, kind, payload, dedupe_key, now, expires_at)
        return await tx.outbox.enqueue(message) is not None

    async def sweep(self) -> int:
        """Clear expired slot leases (housekeeping: claims take expired leases anyway), and
        forget tries at helper codes older than the hourly limit needs."""
        await self.store.helpers.prune_code_tries(self.clock.now())
        return await self.store.doses.sweep_leases(self.clock.now())

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


@dataclass(frozen=True)
class _Decision:
    step: Step | None
    dedupe: str
    state: SlotState
    next_check_at: datetime
    send_at: datetime
    """Not before: the due instant of a first reminder written ahead, else now."""


def _decide(slot: DoseSlot, now: datetime) -> _Decision:
    """What the timers of one claimed slot whose window is still open call for.

    1. Not reminded yet: the reminder (late if the engine was down, still in the window),
       as a reminder even if a nudge's instant has also passed; claimed up to `lookahead`
       early, it is sent from its due instant, and the next check is the first timer after
       that.
    2. Reminded: if timers came due since ``next_check_at``, the latest of them (a snoozed
       reminder as a reminder, else a nudge); several overdue nudges become one.
    3. The next check is the first timer after now (the close at the latest).
    Dedupe keys: ``remind:<slot>`` for the first reminder, ``remind:<slot>:<n>`` after the
    n-th snooze, ``nudge:<slot>:<snoozes>:<timer index>``.
    """
    snapshot = DoseSnapshot.of(slot)
    timers, snoozes = snapshot.timers, snapshot.snoozes
    since = slot.next_check_at or slot.due_at
    came_due = [t for t in timers[:-1] if since <= t.at <= now]
    upcoming = next((t.at for t in timers if t.at > now), slot.window_ends_at)
    if slot.state is SlotState.PENDING:
        send_at = max(now, since)
        after = next((t.at for t in timers if t.at > send_at), slot.window_ends_at)
        dedupe = reminder_key(slot.id) + (f":{snoozes}" if snoozes else "")
        return _Decision(Step.REMIND, dedupe, SlotState.REMINDED, after, send_at)
    if came_due:
        latest = came_due[-1]
        if latest.step is Step.REMIND:
            dedupe = f"{reminder_key(slot.id)}:{snoozes}"
        else:
            dedupe = f"nudge:{slot.id}:{snoozes}:{timers.index(latest)}"
        return _Decision(latest.step, dedupe, SlotState.REMINDED, upcoming, now)
    return _Decision(None, "", slot.state, upcoming, now)


def _message(
    patient_id: str,
    recipient: str,
    kind: Kind,
    payload: Payload,
    dedupe_key: str,
    now: datetime,
    expires_at: datetime | None,
) -> OutboxMessage:
    return OutboxMessage(
        patient_id=patient_id,
        recipient=recipient,
        kind=kind.value,
        payload=payload.to_dict(),
        dedupe_key=dedupe_key,
        not_before=now,
        priority=int(kind.priority),
        expires_at=expires_at,
    )
