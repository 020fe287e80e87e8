"""The engine's helper timers and hooks: escalations whose delay ran out, weekly summaries
that came due, and recipients the outbox can no longer reach."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.alerts import (
    SUMMARY_EVERY,
    AlertKind,
    HelperPrefs,
    escalate,
    last_answer,
    pass_on,
    raise_alert,
)
from scheduler.clock import Clock
from scheduler.compose import Composer
from scheduler.config import EngineConfig, TickReport
from scheduler.dispatcher import Unreachable
from scheduler.doses import day_counts
from scheduler.outbox import Kind, Payload
from scheduler.sql_outbox import parse_recipient
from scheduler.timers import outbox_message
from storage.errors import NotFound
from storage.records import (
    HELPER_PREFIX,
    PATIENT,
    Helper,
    HelperState,
    IncidentState,
    Timer,
    helper_recipient,
)
from storage.repositories.helpers import SUMMARY
from storage.repositories.incidents import ESCALATE
from storage.store import Repositories, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HelperTimers:
    """The engine's helper timers (`run_due`) and its hook for unreachable recipients."""

    store: Store
    clock: Clock
    composer: Composer
    config: EngineConfig
    poke: Callable[[], None]
    """The engine's `Engine.poke`: an alert written here may be due at once."""
    worker_id: str

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

    async def run_due(self, now: datetime, report: TickReport) -> None:
        """Run the generic timers that came due: helper escalations, weekly summaries,
        symptom follow-ups. A bounded batch, each timer in its own savepoint.

        1. Claim due timers under a lease with a fresh claim token (own transaction).
        2. Open each one's sealed task and run it; a task that sets its timer again (the next
           escalation, next week's summary) keeps it, others are deleted (`finish`).
        3. A task that fails is left leased: it comes back when the lease runs out.
        """
        owner = f"{self.worker_id}:{secrets.token_hex(6)}"
        async with self.store.transaction() as tx:
            claimed = await tx.timers.claim(now, self.config.batch_size, self.config.lease, owner)
        if not claimed:
            return
        async with self.store.transaction() as tx:
            for timer in claimed:
                try:
                    async with tx.savepoint():
                        await self._run(tx, timer, now, report)
                        await tx.timers.finish(timer.id, owner)
                except Exception as exc:
                    log.error("timer %s: %s", timer.id, type(exc).__name__)

    async def _run(self, tx: Repositories, timer: Timer, now: datetime, report: TickReport) -> None:
        task = timer.task
        try:
            if task["do"] == ESCALATE:
                incident = await tx.incidents.get(timer.patient_id, str(task["incident"]))
                report.escalated += await escalate(tx, self.composer, incident, now)
            elif task["do"] == SUMMARY:
                helper = await tx.helpers.get(timer.patient_id, str(task["helper"]))
                report.summaries += await self._summary(tx, helper, timer.due_at, now)
            # A symptom follow-up (RECHECK) only marks when triage said to ask again; the
            # question itself is not built yet, so the timer ends here.
        except NotFound:
            return  # what the timer was for is gone: the timer goes too

    async def _summary(
        self, tx: Repositories, helper: Helper, due: datetime, now: datetime
    ) -> bool:
        """One weekly summary: the last 7 local days of the patient's doses; the next one a
        week later (weeks missed while down are not sent late)."""
        patient = await tx.patients.get(helper.patient_id)
        following = due + SUMMARY_EVERY
        while following <= now:
            following += SUMMARY_EVERY
        await tx.helpers.schedule_summary(helper.patient_id, helper.id, following)
        if helper.state is not HelperState.ACTIVE:
            return False  # not sent while paused; next week's stays set
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
        message = outbox_message(patient_id, recipient, kind, payload, dedupe_key, now, expires_at)
        return await tx.outbox.enqueue(message) is not None
