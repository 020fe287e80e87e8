"""What becomes of a dose's reminders once the dose is answered.

A reminder answered with its own button is edited in place by the reply. Any other way of
answering (`/taken`, `/late`, a button on a later nudge) leaves the earlier messages of that
dose on screen with live buttons; each is edited to show the outcome, without buttons, through
the outbox, in the transaction that records the answer.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from scheduler.outbox import Kind, Payload
from storage.records import PATIENT, DoseSlot, OutboxMessage
from storage.store import Repositories


def dose_label(t: Translator, slot: DoseSlot, zone: str) -> str:
    """ "Dose of Dec 3, 8:00 PM": which dose an answer was about, in the patient's locale."""
    local = slot.due_at.astimezone(ZoneInfo(zone))
    return t._("Dose of {day}, {time}", day=t.day(local), time=t.time(local))


async def settle_reminders(
    tx: Repositories,
    patient_id: str,
    slot_id: str,
    outcome: str,
    now: datetime,
    *,
    pressed: str | None,
) -> int:
    """Queue an edit of every sent reminder or nudge of `slot_id` (but the one `pressed`, which
    the reply itself edits) to show `outcome` without buttons; how many were queued."""
    sent = await tx.outbox.sent_reminders(patient_id, slot_id)
    rows = [
        OutboxMessage(
            patient_id=patient_id,
            recipient=PATIENT,
            kind=Kind.NOTICE.value,
            payload=Payload.edit(int(message_id), outcome).to_dict(),
            dedupe_key=f"settle:{slot_id}:{message_id}",
            not_before=now,
            priority=int(Kind.NOTICE.priority),
        )
        for message_id in sent
        if message_id != pressed and message_id.isdigit()
    ]
    return await tx.outbox.enqueue_many(rows)
