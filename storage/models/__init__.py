"""The tables. Plaintext columns are only what finding and scheduling need.

Plaintext: random ids, foreign keys, scheduling states (never what became of a dose), instants
the scheduler sorts on (UTC; coarse where nothing schedules on them), lease columns, key ids,
blind index values, counters (`docs/storage.md` lists every one, and why). Everything a
patient said or is (alias, language, time zone, consent, regimen, doses and their outcomes,
symptoms, mood, stock, helper names and addresses, messages and their kinds, what a timer does)
is a `SealedField` backed by a ``LargeBinary`` column of the same name.

Every table that holds a patient's data has a ``patient_id`` column; `storage.forget` finds them
through that column, so a new table is covered without editing a list.

Timers for the reminder engine: ``dose_slots.next_check_at`` and ``outbox.not_before`` are
indexed together with ``state``; both tables carry ``lease_owner`` and ``lease_until`` so workers
can claim rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) or under SQLite's ``BEGIN IMMEDIATE``
(see `OutboxRepository.claim_due`), and slots have a ``version`` counter for conditional
updates (`DoseRepository.set_slot_state`).
"""

from storage.models.base import Base, PatientOwned, UTCDateTime
from storage.models.helpers import HelperIncidentRow, HelperInviteRow, HelperRow
from storage.models.keys import AuditRow, CodeAttemptRow, DataKeyRow, StoreKeyRow
from storage.models.messaging import (
    ChatCleanupRow,
    ConversationRow,
    OutboxRow,
    SendPaceRow,
    TelegramUpdateRow,
    TimerRow,
)
from storage.models.patients import ChannelIdentityRow, PatientRow
from storage.models.sms import (
    SmsFirstContactRow,
    SmsMenuRow,
    SmsStopRow,
    SmsUsageRow,
    SmsWebhookReceiptRow,
)
from storage.models.treatment import (
    AppointmentRow,
    DoseEventRow,
    DoseSlotRow,
    EnrolmentRow,
    MeasurementRow,
    MoodScreeningRow,
    PillStockRow,
    SideEffectReportRow,
)
from storage.sealed import SealedRow

SEALED_MODELS: tuple[type[SealedRow], ...] = (
    PatientRow,
    ChannelIdentityRow,
    EnrolmentRow,
    DoseSlotRow,
    DoseEventRow,
    SideEffectReportRow,
    MoodScreeningRow,
    PillStockRow,
    MeasurementRow,
    HelperRow,
    HelperIncidentRow,
    TimerRow,
    ConversationRow,
    OutboxRow,
    SmsMenuRow,
    AppointmentRow,
)
"""The rows with sealed fields, whose data keys `storage.rotation` rewraps."""

__all__ = [
    "SEALED_MODELS",
    "AppointmentRow",
    "AuditRow",
    "Base",
    "ChannelIdentityRow",
    "ChatCleanupRow",
    "CodeAttemptRow",
    "ConversationRow",
    "DataKeyRow",
    "DoseEventRow",
    "DoseSlotRow",
    "EnrolmentRow",
    "HelperIncidentRow",
    "HelperInviteRow",
    "HelperRow",
    "MeasurementRow",
    "MoodScreeningRow",
    "OutboxRow",
    "PatientOwned",
    "PatientRow",
    "PillStockRow",
    "SendPaceRow",
    "SideEffectReportRow",
    "SmsFirstContactRow",
    "SmsMenuRow",
    "SmsStopRow",
    "SmsUsageRow",
    "SmsWebhookReceiptRow",
    "StoreKeyRow",
    "TelegramUpdateRow",
    "TimerRow",
    "UTCDateTime",
]
