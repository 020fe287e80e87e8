"""The close of a dose window with no answer: the dose recorded missed, the helpers told
when the rules call for it, the enrolment planned again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from scheduler.alerts import after_close
from scheduler.compose import Composer
from scheduler.config import TickReport
from scheduler.doses import treatment_events
from scheduler.horizon import Planner
from storage.errors import NotFound
from storage.records import (
    DoseOutcome,
    DoseSlot,
    EnrolmentRecord,
    Patient,
    ReportedVia,
    SlotState,
)
from storage.store import Repositories
from treatment.adherence import summarise
from treatment.codes import Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowClose:
    """Closes the claimed slots whose window has ended, in the tick's transaction."""

    composer: Composer
    reporting: frozenset[str]
    """Channels that report what became of a message after accepting it (SMS)."""
    planner: Planner

    async def close(
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
        if not await tx.dose_timers.advance(
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
            await self.planner.enrolled(tx, slot.patient_id, now)

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
