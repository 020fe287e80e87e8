"""The dose slots' timers: claiming the due ones, deciding each one's step (reminder, nudge or
close), writing the outbox rows they cause; and the snooze that reschedules them."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.closing import WindowClose
from scheduler.compose import Composer
from scheduler.config import EngineConfig, TickReport
from scheduler.doses import DoseSnapshot, snoozes_of, timers_of
from scheduler.ladder import Step, Timer
from scheduler.metrics import Metrics
from scheduler.outbox import Kind, Payload
from storage.errors import IntegrityError, NotFound
from storage.records import (
    PATIENT,
    DoseSlot,
    OutboxMessage,
    Patient,
    SlotState,
    reminder_key,
)
from storage.store import Repositories, Store

log = logging.getLogger(__name__)

OPEN = (SlotState.PENDING, SlotState.REMINDED)


@dataclass(frozen=True)
class DoseTimers:
    """The engine's dose-slot timers: `tick` for the due ones, `snooze` for the dialogue."""

    store: Store
    composer: Composer
    config: EngineConfig
    worker_id: str
    metrics: Metrics
    closing: WindowClose

    async def snooze(
        self, tx: Repositories, patient_id: str, slot_id: str, until: datetime, now: datetime
    ) -> bool:
        """Remind again at ``until``. False (nothing changed) unless the slot is the
        patient's, still open, and ``now < until < end of its window``.

        The timers become: a reminder at ``until`` (a reminder, not a nudge), the nudges that
        were still to come after it, and the close. Call `Engine.poke` after the commit.
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

    async def tick(self, now: datetime, report: TickReport, *, early: timedelta) -> None:
        """Claim due timers and process them; one bounded batch; first reminders up to
        `early` ahead of their instant (`scheduler.lead`).

        1. Claim up to `batch_size` slots whose ``next_check_at`` has come, under a lease with
           a fresh claim token (so a later claim of the same rows by anyone is a new owner).
        2. In one transaction, read their patients (each cell opened as the composer reads
           it); for each slot whose window is still open, decide its step (`_decide`) and
           compose its message.
        3. Move all of them on in one conditional statement (claim token and version per
           row); write the outbox rows of those that moved, in one flush. A slot the patient
           answered meanwhile, or another worker took over, does not move and sends nothing.
        4. Close the slots whose window has ended, each in its own savepoint (see
           `WindowClose.close`), so that one bad slot does not undo the batch.
        A crash anywhere leaves either nothing (rolled back) or the whole batch done; the
        leases of unprocessed slots run out and another tick claims them again.
        """
        owner = f"{self.worker_id}:{secrets.token_hex(6)}"
        async with self.store.transaction() as tx:
            claimed = await tx.dose_timers.claim_timers(
                now, self.config.batch_size, self.config.lease, owner, early=early
            )
        report.claimed = len(claimed)
        if not claimed:
            return
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
                except IntegrityError:
                    # A cell of the patient opened as the composer read it and failed: the
                    # batch fails and the store audits it, as when the read opened them all.
                    raise
                except Exception as exc:
                    report.failed += 1  # left leased: it comes back when the lease ends
                    log.error("dose slot %s: %s", slot.id, type(exc).__name__)
                    continue
                steps.append((slot, decision, payload))
            moved = await tx.dose_timers.advance_many(
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
                    outbox_message(
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
                        await self.closing.close(tx, patient, slot, owner, now, report)
                except Exception as exc:
                    report.failed += 1
                    log.error("dose slot %s: %s", slot.id, type(exc).__name__)
        # Counted once the batch is committed: a rolled-back batch queued nothing.
        self.metrics.reminders_queued.inc(report.reminded)
        self.metrics.nudges_queued.inc(report.nudged)
        self.metrics.doses_closed.inc(report.closed)


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
       as a reminder even if a nudge's instant has also passed; claimed up to the lead
       early (`scheduler.lead`), it is sent from its due instant, and the next check is the
       first timer after that.
    2. Reminded: if timers came due since ``next_check_at``, the latest of them (a snoozed
       reminder as a reminder, else a nudge); several overdue nudges become one.
    3. The next check is the first timer after now (the close at the latest).
    Dedupe keys: ``remind:<slot>`` for the first reminder, ``remind:<slot>:<n>`` after the
    n-th snooze, ``nudge:<slot>:<snoozes>:<timer index>``.
    """
    # Only the timers and the snooze count: the drugs and products are the composer's.
    timers, snoozes = timers_of(slot.dose), snoozes_of(slot.dose)
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


def outbox_message(
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
