"""Alerts to the patient's helpers from what the patient just said, in the same transaction.

Red flags and crisis answers are incidents (`scheduler.alerts`): told to one helper at a time
until someone takes them on. A refill note is plain information for every active helper.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.compose import refill_payload
from scheduler.alerts import AlertKind, helper_alert_row, raise_alert
from scheduler.compose import Composer
from storage.records import HelperState, Patient
from storage.store import Repositories


async def alert_helpers(
    tx: Repositories,
    composer: Composer,
    patient: Patient,
    kind: AlertKind,
    key: str,
    now: datetime,
    facts: Mapping[str, Any] | None = None,
) -> bool:
    """Open an incident about what the patient reported (`key`: the report's random id)."""
    incident = await raise_alert(tx, composer, patient, kind, key, facts or {}, now)
    return incident is not None


async def queue_refill_notes(tx: Repositories, patient: Patient, now: datetime) -> int:
    """A refill note for each active helper, if the patient allows helper alerts."""
    if not patient.consent.helper_alerts:
        return 0
    queued = 0
    for helper in await tx.helpers.for_patient(patient.id):
        if helper.state is not HelperState.ACTIVE:
            continue
        payload = refill_payload(patient, helper)
        key = f"note:{helper.id}:{now.isoformat()}"
        entry = await tx.outbox.enqueue(helper_alert_row(patient.id, helper.id, key, payload, now))
        queued += entry is not None
    return queued
