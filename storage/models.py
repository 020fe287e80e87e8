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

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage.sealed import (
    FLAG,
    INSTANT,
    INTEGER,
    JSON_LIST,
    JSON_OBJECT,
    OPTIONAL_INSTANT,
    OPTIONAL_TEXT,
    TEXT,
    SealedField,
    SealedRow,
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every engine (SQLite has no time zones: stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _SQLITE_INSTANT if dialect.name == "sqlite" else super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _SQLiteInstant(sqlite.DATETIME):
    """`UTCDateTime`'s column on SQLite: the dialect's own type and text form (naive UTC with
    microseconds, ``2026-03-02 08:00:00.000000``), written from an aware UTC instant and read
    back into one, each in one step. The dialect's formatting (``%`` with a dictionary) and a
    ``replace(tzinfo=...)`` each way (keyword arguments) cost more than the rest of binding
    an instant, and every claim, slot move and outbox row binds or reads several."""

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        return _sqlite_text

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None]:
        return _sqlite_instant


_SQLITE_INSTANT = _SQLiteInstant()  # type: ignore[no-untyped-call]  # the dialect's own __init__


def _sqlite_text(value: datetime | None) -> str | None:
    """The stored text of an aware UTC instant (from `UTCDateTime.process_bind_param`)."""
    if value is None:
        return None
    return _SQLITE_TEXT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
"""The dialect's default storage format, with positions for the fields."""


def _sqlite_instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # not the stored form (a date alone, or text with an offset)
        return datetime.fromisoformat(value)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads it as a class map
        datetime: UTCDateTime(),
        bytes: LargeBinary(),
    }


def _patient_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("patients.id", ondelete="CASCADE"), index=True)


class PatientOwned(SealedRow):
    """A row of one patient's data, encrypted under that patient's data key."""

    def data_key_owner(self) -> str:
        owner: str = self.patient_id  # type: ignore[attr-defined]
        return owner


class PatientRow(SealedRow, Base):
    __tablename__ = "patients"

    created_at: Mapped[datetime]
    _alias: Mapped[bytes] = mapped_column("alias")
    _language: Mapped[bytes] = mapped_column("language")
    _time_zone: Mapped[bytes] = mapped_column("time_zone")
    _discreet: Mapped[bytes] = mapped_column("discreet")
    _consent: Mapped[bytes] = mapped_column("consent")
    # Added in revision 0002: rows written before it have NULL here, read as no preferences.
    _preferences: Mapped[bytes | None] = mapped_column("preferences")

    alias = SealedField(TEXT)
    language = SealedField(TEXT)
    time_zone = SealedField(TEXT)
    discreet = SealedField(FLAG)
    consent = SealedField(JSON_OBJECT)
    preferences = SealedField(JSON_OBJECT)
    """Reminder and chat settings the patient chose; keys in `storage.records.Patient`."""
    # Revision 0010, the retention rule (`scheduler.retention`): the last UTC day the patient
    # wrote (a day, not an instant: enough for a rule counted in days) and when the rule next
    # looks at them; what they were told and answered is sealed. NULL before 0010.
    seen_on: Mapped[date | None]
    retention_at: Mapped[datetime | None] = mapped_column(index=True)
    _retention: Mapped[bytes | None] = mapped_column("retention")

    retention = SealedField(JSON_OBJECT)
    """``{"notice_on": day or None, "kept_on": day or None}`` (ISO dates), see
    `storage.repositories.retention`."""

    def data_key_owner(self) -> str:
        return self.id


class DataKeyRow(Base):
    """A patient's data key, wrapped by the master key ``key_id``. Deleting it forgets them."""

    __tablename__ = "data_keys"

    patient_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    wrapped: Mapped[bytes]


class StoreKeyRow(Base):
    """Keys of the store itself (the blind index key), wrapped by the master key ``key_id``."""

    __tablename__ = "store_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes]


class ChannelIdentityRow(PatientOwned, Base):
    """A patient's account on a channel: found by blind index, address stored sealed."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "lookup"),)

    patient_id: Mapped[str] = _patient_fk()
    channel: Mapped[str] = mapped_column(String(16))
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]
    _address: Mapped[bytes] = mapped_column("address")
    _chat: Mapped[bytes] = mapped_column("chat")

    address = SealedField(TEXT)
    chat = SealedField(OPTIONAL_TEXT)


class EnrolmentRow(PatientOwned, Base):
    """A course of treatment; the plan is the treatment domain's ``Enrolment.to_dict()``."""

    __tablename__ = "enrolments"
    # Revision 0007: the horizon job reads active enrolments in planned_until order.
    __table_args__ = (Index("ix_enrolments_active_planned_until", "active", "planned_until"),)

    patient_id: Mapped[str] = _patient_fk()
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Revision 0002: the reminder engine has materialised this enrolment's dose slots up to
    # here (NULL: never). Indexed so the hourly horizon job finds the few enrolments due for
    # extension without reading, let alone decrypting, the others.
    planned_until: Mapped[datetime | None]
    _plan: Mapped[bytes] = mapped_column("plan")

    plan = SealedField(JSON_OBJECT)


class DoseSlotRow(PatientOwned, Base):
    """One planned dose with its due instant; the reminder engine's unit of work."""

    __tablename__ = "dose_slots"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "due_at"),
        Index("ix_dose_slots_state_next_check_at", "state", "next_check_at"),
    )

    patient_id: Mapped[str] = _patient_fk()
    # Not indexed alone (revision 0015): the unique (enrolment_id, due_at) index leads with it.
    enrolment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("enrolments.id", ondelete="CASCADE")
    )
    due_at: Mapped[datetime]
    window_ends_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    next_check_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)
    _dose: Mapped[bytes] = mapped_column("dose")
    # Revision 0009: ``state`` holds only the phase (`SlotPhase`); what became of a closed
    # slot is sealed here (NULL while it is open: planning seals nothing but the dose).
    _outcome: Mapped[bytes | None] = mapped_column("outcome")

    dose = SealedField(JSON_OBJECT)
    outcome = SealedField(TEXT)
    """The `SlotState` of a closed slot (taken, missed, skipped, cancelled)."""


class DoseEventRow(PatientOwned, Base):
    """What happened to a dose: outcome, when the patient says it happened, how it was told."""

    __tablename__ = "dose_events"
    __table_args__ = (Index("ix_dose_events_patient_id_recorded_at", "patient_id", "recorded_at"),)

    patient_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE")
    )
    slot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("dose_slots.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime]
    _outcome: Mapped[bytes] = mapped_column("outcome")
    _reported_at: Mapped[bytes] = mapped_column("reported_at")
    _via: Mapped[bytes] = mapped_column("via")
    _note: Mapped[bytes] = mapped_column("note")

    outcome = SealedField(TEXT)
    reported_at = SealedField(OPTIONAL_INSTANT)
    via = SealedField(TEXT)
    note = SealedField(OPTIONAL_TEXT)


class SideEffectReportRow(PatientOwned, Base):
    """Revision 0009: the day in plaintext, the instant sealed; the follow-up is a timer."""

    __tablename__ = "side_effect_reports"

    patient_id: Mapped[str] = _patient_fk()
    recorded_on: Mapped[date] = mapped_column(Date)
    _recorded_at: Mapped[bytes] = mapped_column("recorded_at")
    _symptoms: Mapped[bytes] = mapped_column("symptoms")
    _level: Mapped[bytes] = mapped_column("level")
    _free_text: Mapped[bytes] = mapped_column("free_text")

    recorded_at = SealedField(INSTANT)
    symptoms = SealedField(JSON_LIST)
    level = SealedField(TEXT)
    free_text = SealedField(OPTIONAL_TEXT)


class MoodScreeningRow(PatientOwned, Base):
    """Revision 0009: the day in plaintext, the instant sealed."""

    __tablename__ = "mood_screenings"

    patient_id: Mapped[str] = _patient_fk()
    recorded_on: Mapped[date] = mapped_column(Date)
    _recorded_at: Mapped[bytes] = mapped_column("recorded_at")
    _instrument: Mapped[bytes] = mapped_column("instrument")
    _answers: Mapped[bytes] = mapped_column("answers")
    _score: Mapped[bytes] = mapped_column("score")

    recorded_at = SealedField(INSTANT)
    instrument = SealedField(TEXT)
    answers = SealedField(JSON_LIST)
    score = SealedField(INTEGER)


class PillStockRow(PatientOwned, Base):
    """Tablets left, per product name; one row per patient."""

    __tablename__ = "pill_stock"

    patient_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    updated_at: Mapped[datetime]
    _counts: Mapped[bytes] = mapped_column("counts")

    counts = SealedField(JSON_OBJECT)


class MeasurementRow(PatientOwned, Base):
    """One entry of the patient's history of weights and tablet counts (revision 0008).

    What was measured (a weight, a product's count and why it changed) and its exact instant
    are sealed; the plaintext day, in UTC, only orders the rows, and is as coarse as the
    record a clinician reads.
    """

    __tablename__ = "measurements"

    patient_id: Mapped[str] = _patient_fk()
    recorded_on: Mapped[date] = mapped_column(Date)
    _entry: Mapped[bytes] = mapped_column("entry")

    entry = SealedField(JSON_OBJECT)
    """`storage.records.WeightEntry` or `StockChange`, as their ``to_dict``."""


class HelperRow(PatientOwned, Base):
    """A person the patient chose. Sealed under the patient's key: forgotten with the patient."""

    __tablename__ = "helpers"

    patient_id: Mapped[str] = _patient_fk()
    state: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    lookup: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    created_at: Mapped[datetime]
    _alias: Mapped[bytes] = mapped_column("alias")
    _address: Mapped[bytes] = mapped_column("address")
    _chat: Mapped[bytes] = mapped_column("chat")
    _permissions: Mapped[bytes] = mapped_column("permissions")

    alias = SealedField(TEXT)
    """The helper's name as the patient knows them (shown to the patient only)."""
    address = SealedField(OPTIONAL_TEXT)
    chat = SealedField(OPTIONAL_TEXT)
    permissions = SealedField(JSON_OBJECT)
    """What the helper is told and how they see the patient (`scheduler.alerts.HelperPrefs`)."""


class HelperInviteRow(PatientOwned, Base):
    """An invitation link; found by the blind index of its random token, never the token."""

    __tablename__ = "helper_invites"

    patient_id: Mapped[str] = _patient_fk()
    helper_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("helpers.id", ondelete="CASCADE"), index=True
    )
    token_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Added in revision 0003: the blind index of the account that last opened the invitation;
    # only that account may accept it.
    opened_by: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class HelperIncidentRow(PatientOwned, Base):
    """Something a helper should know about, passed from helper to helper until one answers.

    Plaintext: the state, the dedupe key (a keyed hash: see `IncidentRepository.open`), the
    day it was opened and a version for conditional updates. What happened, who was told and
    the instant it was opened are sealed; the next escalation is a `TimerRow` (revision 0009:
    its delay told the kind of incident).
    """

    __tablename__ = "helper_incidents"

    patient_id: Mapped[str] = _patient_fk()
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    created_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    _created_at: Mapped[bytes] = mapped_column("created_at")
    _detail: Mapped[bytes] = mapped_column("detail")

    created_at = SealedField(INSTANT)
    detail = SealedField(JSON_OBJECT)


class TimerRow(PatientOwned, Base):
    """A wake-up for the engine that is not a dose slot: a helper escalation, a weekly
    summary, a symptom follow-up (revision 0009). Only when and who is readable; what it
    does is sealed, and the id is a keyed hash of what it is for (`TimerRepository`), so a
    reader cannot tell one kind from another by its delay or its id."""

    __tablename__ = "timers"

    patient_id: Mapped[str] = _patient_fk()
    due_at: Mapped[datetime] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    _task: Mapped[bytes] = mapped_column("task")

    task = SealedField(JSON_OBJECT)


class CodeAttemptRow(Base):
    """One try at an invitation code, by the blind index of the chat: for the hourly limit."""

    __tablename__ = "code_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class ConversationRow(PatientOwned, Base):
    """Where a dialogue stands, per party (the patient, or one helper), so restarts continue."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("patient_id", "party"),)

    patient_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE")
    )
    party: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)
    _state: Mapped[bytes] = mapped_column("state")

    state = SealedField(JSON_OBJECT)


class OutboxRow(PatientOwned, Base):
    """A message waiting to be sent: at-least-once, claimed with a lease, deduplicated by key."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_not_before_priority", "state", "not_before", "priority"),
    )

    patient_id: Mapped[str] = _patient_fk()
    recipient: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(SmallInteger)
    # Revision 0009: keyed hashes (`storage.repositories.outbox.keys`); the key is sealed.
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Revision 0004: the channel the row goes out on (NULL: routed when claimed, see
    # `OutboxRepository.claim_due`) and, sealed, where on that channel.
    channel: Mapped[str | None] = mapped_column(String(16))
    # Revision 0006: what the channel reported after accepting the message, where it reports
    # (SMS: pending on the phone, sent, delivered, failed); NULL where sent means delivered.
    delivery: Mapped[str | None] = mapped_column(String(16))
    delivery_at: Mapped[datetime | None]
    _payload: Mapped[bytes] = mapped_column("payload")
    _sent_message_id: Mapped[bytes] = mapped_column("sent_message_id")
    _destination: Mapped[bytes | None] = mapped_column("destination")
    # Revision 0009: sealed (it told reminders from helper alerts); the dispatcher needs
    # only ``priority``, and metrics take the kind from the message in memory.
    _kind: Mapped[bytes] = mapped_column("kind")
    _dedupe: Mapped[bytes] = mapped_column("dedupe")

    kind = SealedField(TEXT)
    dedupe = SealedField(TEXT)
    payload = SealedField(JSON_OBJECT)
    sent_message_id = SealedField(OPTIONAL_TEXT, blank=True)
    """Blank (no bytes, not sealed) until the message is sent: its plaintext ``sent_at`` and
    ``state`` already say it has no id yet."""
    destination = SealedField(JSON_OBJECT)
    """``{"address": ..., "chat": ...}`` on ``channel`` (`storage.records.Address`)."""


class ChatCleanupRow(Base):
    """A message to delete from a chat (or a last word to send) after the patient it was
    about was forgotten: it belongs to no patient, so forgetting leaves it to be done.

    ``target`` (the address on ``channel`` and the payload) is sealed under the store key
    ``after_forget``, not a patient's key; the row is deleted once done, refused, or past
    ``not_after`` (Telegram deletes only messages younger than 48 hours). See
    `storage.repositories.cleanups`.
    """

    __tablename__ = "chat_cleanups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    next_try_at: Mapped[datetime] = mapped_column(index=True)
    not_after: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    target: Mapped[bytes] = mapped_column(LargeBinary)


class AuditRow(Base):
    """Security events without content: what happened, where (table, column, random row id)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(40))
    table_name: Mapped[str | None] = mapped_column(String(40))
    column_name: Mapped[str | None] = mapped_column(String(40))
    row_id: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))
    count: Mapped[int | None] = mapped_column(Integer)


class SmsWebhookReceiptRow(Base):
    """A gateway webhook seen: by a hash of its envelope id, so a retry is handled once.

    The gateway retries a webhook with the same envelope id until it gets a 2xx answer; the
    payload's own message id is a hash of the content and not unique. ``lease_until`` is set
    while the webhook is being handled: a retry arriving then is told to come back later; one
    arriving after a crash (lease over, not handled) is handled again.
    """

    __tablename__ = "sms_webhook_receipts"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(index=True)
    handled_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]


class SmsUsageRow(Base):
    """Segments sent to one phone number (by blind index) on one UTC day: SMS costs money.

    ``patient_id`` is set when the number is a patient's, so forgetting them removes the rows.
    """

    __tablename__ = "sms_usage"
    __table_args__ = (UniqueConstraint("lookup", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32))
    day: Mapped[str] = mapped_column(String(10), index=True)
    patient_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    messages: Mapped[int] = mapped_column(Integer)
    segments: Mapped[int] = mapped_column(Integer)


class SmsStopRow(Base):
    """A phone number (by blind index) that texted STOP: nothing is sent to it until START."""

    __tablename__ = "sms_stops"

    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    patient_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    stopped_at: Mapped[datetime]


class SmsFirstContactRow(Base):
    """A number (by blind index) that a helper asked the bot to text first, once, inviting its
    owner to set up reminders; by whom (their account's blind index) and when. It limits how
    many numbers a helper may ask for, and keeps a number from being invited twice; rows go
    after `storage.repositories.sms.FIRST_CONTACT_KEPT`."""

    __tablename__ = "sms_first_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    asker: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    asked_at: Mapped[datetime] = mapped_column(index=True)


class SmsMenuRow(PatientOwned, Base):
    """The last numbered menu sent to a phone number, so that "1" answers what was asked.

    Sealed under the key of the patient it concerns (the patient, or the patient a helper's
    alert is about): forgetting that patient removes it. One row per number.
    """

    __tablename__ = "sms_menus"

    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    patient_id: Mapped[str] = _patient_fk()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    _menu: Mapped[bytes] = mapped_column("menu")

    menu = SealedField(JSON_OBJECT)


class AppointmentRow(PatientOwned, Base):
    """A clinic visit or test the patient noted. What it is and when is sealed; only the
    instant of its next reminder is plain, for the engine to sort on (None: none left)."""

    __tablename__ = "appointments"

    patient_id: Mapped[str] = _patient_fk()
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    _details: Mapped[bytes] = mapped_column("details")

    details = SealedField(JSON_OBJECT)


class TelegramUpdateRow(Base):
    """A Telegram update seen by a webhook receiver, so that a re-delivery is handled once by
    whichever process it reaches.

    Only Telegram's update id (a counter that says nothing about who wrote) and the hour it
    first arrived, for pruning. While one process handles it, ``lease_owner`` and
    ``lease_until`` say who and until when; ``attempts`` counts the handlings that did not
    finish, so an update that fails every time is given up instead of retried for a day.
    """

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_hour: Mapped[datetime] = mapped_column(index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class SendPaceRow(Base):
    """The next free send instant of a channel, shared by every process that sends on it, so
    that several workers together keep the channel's global rate (`scheduler.shared_pace`).

    ``next_at`` is seconds since the epoch (wall clock): the processes share nothing else.
    ``holder`` is a random token of whoever took the last turn, so the asker can tell from the
    one UPDATE whether the turn is theirs.
    """

    __tablename__ = "send_pace"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)
    holder: Mapped[str] = mapped_column(String(32))


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
