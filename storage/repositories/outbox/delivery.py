"""What a channel reports about the messages it accepted (pending, sent, delivered, failed), and
what those reports tell: texts held unsent, doses whose reminders never reached the patient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update

from storage.models import OutboxRow
from storage.records import OutboxState
from storage.repositories.base import Repository
from storage.repositories.outbox.keys import dose_topic

DELIVERY_PENDING, DELIVERY_SENT = "pending", "sent"
DELIVERY_DELIVERED, DELIVERY_FAILED = "delivered", "failed"
# Which reported states a new report may replace (reports may arrive out of order).
_DELIVERY_BEFORE: dict[str, tuple[str, ...]] = {
    DELIVERY_PENDING: (),
    DELIVERY_SENT: (DELIVERY_PENDING,),
    DELIVERY_DELIVERED: (DELIVERY_PENDING, DELIVERY_SENT),
    DELIVERY_FAILED: (DELIVERY_PENDING, DELIVERY_SENT),
}


class OutboxDeliveryStates(Repository):
    async def record_delivery(self, entry_id: str, state: str, at: datetime) -> bool:
        """What the channel reported about a message it accepted, forward only: pending, then
        sent, then delivered or failed (the first final state stays). False when no such
        message (a report for a message we never sent) or when the report is older news."""
        earlier = _DELIVERY_BEFORE.get(state)
        if earlier is None:
            raise ValueError(f"unknown delivery state {state!r}")
        async with self._transaction() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == entry_id,
                    or_(OutboxRow.delivery.is_(None), OutboxRow.delivery.in_(earlier)),
                )
                .values(delivery=state, delivery_at=at)
            )
            return bool(getattr(result, "rowcount", 0))

    async def stuck_deliveries(self, channel: str, before: datetime) -> tuple[int, datetime | None]:
        """Messages the channel accepted before `before` that it still holds unsent (a phone
        without signal): how many, and when the oldest was accepted."""
        async with self._transaction() as session:
            row = (
                await session.execute(
                    select(func.count(), func.min(OutboxRow.delivery_at)).where(
                        OutboxRow.channel == channel,
                        OutboxRow.delivery == DELIVERY_PENDING,
                        OutboxRow.delivery_at < before,
                    )
                )
            ).one()
            return int(row[0] or 0), row[1]

    async def unseen(self, patient_id: str, slot_id: str, reporting: frozenset[str]) -> bool:
        """Whether a dose's reminders are known never to have reached the patient.

        Only channels that report delivery (`reporting`, e.g. SMS) can know it: a dose is
        unseen when it had reminders or nudges on such a channel and none of its reminders
        reached the patient, i.e. none was accepted and then reported sent or delivered (or,
        on a channel that does not report, accepted at all). A phone that was off, or held the
        texts unsent, leaves the dose unseen; its helpers are not told it was missed.
        """
        keys = OutboxRow.topic == dose_topic(self._context.blind_index, slot_id)
        async with self._transaction() as session:
            rows = (
                await session.execute(
                    select(OutboxRow.channel, OutboxRow.state, OutboxRow.delivery).where(
                        OutboxRow.patient_id == patient_id, keys
                    )
                )
            ).all()
        if not any(channel in reporting for channel, _, _ in rows):
            return False
        seen = (None, DELIVERY_SENT, DELIVERY_DELIVERED)
        return not any(
            state == OutboxState.SENT.value and delivery in seen for _, state, delivery in rows
        )
