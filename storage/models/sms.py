"""SMS: webhook receipts, segments sent per number and day, STOP, first contacts, the last menu per
number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, PatientOwned, patient_fk
from storage.sealed import (
    JSON_OBJECT,
    SealedField,
)


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
    patient_id: Mapped[str] = patient_fk()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    _menu: Mapped[bytes] = mapped_column("menu")

    menu = SealedField(JSON_OBJECT)
