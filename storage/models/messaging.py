"""What the bot keeps to talk: timers, conversations, the outbox, chat clean-ups, Telegram updates
received, the shared send pace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, PatientOwned, patient_fk
from storage.sealed import (
    JSON_OBJECT,
    OPTIONAL_TEXT,
    TEXT,
    SealedField,
)


class TimerRow(PatientOwned, Base):
    """A wake-up for the engine that is not a dose slot: a helper escalation, a weekly
    summary, a symptom follow-up (revision 0009). Only when and who is readable; what it
    does is sealed, and the id is a keyed hash of what it is for (`TimerRepository`), so a
    reader cannot tell one kind from another by its delay or its id."""

    __tablename__ = "timers"

    patient_id: Mapped[str] = patient_fk()
    due_at: Mapped[datetime] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    _task: Mapped[bytes] = mapped_column("task")

    task = SealedField(JSON_OBJECT)


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

    patient_id: Mapped[str] = patient_fk()
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
