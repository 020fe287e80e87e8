"""Alerts to the patient's helpers, queued in the transaction of what caused them."""

from __future__ import annotations

from datetime import datetime

from bot.compose import alert_payload
from scheduler.outbox import Kind
from storage.records import HelperState, OutboxMessage, Patient
from storage.store import Repositories


async def queue_helper_alerts(tx: Repositories, patient: Patient, what: str, now: datetime) -> int:
    """Queue an alert for each active helper, in the caller's transaction, if the patient
    allowed helper alerts; returns how many were queued. The helpers issue builds the rest of
    this path (acknowledging, escalating)."""
    if not patient.consent.helper_alerts:
        return 0
    queued = 0
    for helper in await tx.helpers.for_patient(patient.id):
        if helper.state is not HelperState.ACTIVE:
            continue
        entry = await tx.outbox.enqueue(
            OutboxMessage(
                patient_id=patient.id,
                recipient=f"helper:{helper.id}",
                kind=Kind.HELPER_ALERT.value,
                payload=alert_payload(patient, helper, what).to_dict(),
                dedupe_key=f"{what}:{helper.id}:{now.isoformat()}",
                not_before=now,
                priority=int(Kind.HELPER_ALERT.priority),
            )
        )
        queued += entry is not None
    return queued
