"""The outbox: messages written in the same transaction as the change that caused them.

Every row is addressed when it is queued: its channel (plaintext, so each channel's dispatcher
lane claims its own rows) and where on that channel (``destination``, sealed), read from the
recipient's account in the same transaction (one query per table for a batch). A patient and
their helper may be on different channels; each row goes out on its recipient's.

Delivery is at least once: a dispatcher claims due messages with a lease (`claim_due`), sends,
then marks each one (`mark_sent_many`, `retry_later`, `defer`, `mark_failed`, `mark_expired`). A
lease that runs out (the worker died mid-send) makes the message claimable again.
"""

from __future__ import annotations

from storage.repositories.outbox.claims import OutboxClaims
from storage.repositories.outbox.delivery import OutboxDeliveryStates
from storage.repositories.outbox.outcomes import OutboxOutcomes
from storage.repositories.outbox.queries import OutboxQueries
from storage.repositories.outbox.queueing import OutboxQueueing


class OutboxRepository(
    OutboxQueueing, OutboxClaims, OutboxOutcomes, OutboxDeliveryStates, OutboxQueries
):
    """The outbox as one repository: queueing, claiming with leases, recording each
    attempt's outcome, the channel's delivery reports, and the read-only queries."""
