"""Alerts to the patient's helpers from what the patient just said, in the same transaction.

Red flags and crisis answers are incidents (`scheduler.alerts`): told to one helper at a time
until someone takes them on. A refill note is plain information for every active helper.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.compose import refill_payload
from bot.dialogue.messages import Reply
from bot.i18n import translator
from scheduler.alerts import AlertKind, helper_alert_row, raise_alert
from scheduler.compose import Composer
from storage.records import HelperState, Incident, Patient
from storage.store import Repositories


async def alert_helpers(
    tx: Repositories,
    composer: Composer,
    patient: Patient,
    kind: AlertKind,
    key: str,
    now: datetime,
    facts: Mapping[str, Any] | None = None,
) -> Incident | None:
    """Open an incident about what the patient reported (`key`: the report's random id)."""
    return await raise_alert(tx, composer, patient, kind, key, facts or {}, now)


async def who_was_told(tx: Repositories, patient: Patient, incident: Incident | None) -> Reply:
    """Tell the patient who now knows: the helper an alert went to, or why nobody was told
    (no helper yet, alerts paused, or no helper set to hear about this)."""
    t = translator(patient.language)
    if incident is not None:
        # Read again: telling the first helper updated the incident after it was opened.
        incident = await tx.incidents.get(patient.id, incident.id)
    if incident is not None and incident.detail.get("told"):
        helper = await tx.helpers.get(patient.id, str(incident.detail["told"][0]))
        return Reply(
            t._("I have let {name} know, so they can reach out to you.", name=helper.alias)
        )
    active = [h for h in await tx.helpers.for_patient(patient.id) if h.state is HelperState.ACTIVE]
    if not active:
        return Reply(
            t._(
                "No helper is set up, so nobody was told. With /helper you can choose someone "
                "I tell when you need a hand."
            )
        )
    if not patient.consent.helper_alerts:
        return Reply(
            t._("Alerts to your helpers are paused, so nobody was told. /helper turns them on.")
        )
    return Reply(
        t._(
            "None of your helpers is set to hear about this, so nobody was told. /helper "
            "changes what they are told."
        )
    )


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
