"""The engine's helper timers and hooks: escalations whose delay ran out, weekly summaries
that came due, and recipients the outbox can no longer reach."""

from __future__ import annotations

import logging
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
    IncidentState,
    helper_recipient,
)
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
        message = outbox_message(patient_id, recipient, kind, payload, dedupe_key, now, expires_at)
        return await tx.outbox.enqueue(message) is not None
