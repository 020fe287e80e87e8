"""The patient and the channel identities that reach them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, PatientOwned, patient_fk
from storage.sealed import (
    FLAG,
    JSON_OBJECT,
    OPTIONAL_TEXT,
    TEXT,
    SealedField,
    SealedRow,
)


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


class ChannelIdentityRow(PatientOwned, Base):
    """A patient's account on a channel: found by blind index, address stored sealed."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "lookup"),)

    patient_id: Mapped[str] = patient_fk()
    channel: Mapped[str] = mapped_column(String(16))
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]
    _address: Mapped[bytes] = mapped_column("address")
    _chat: Mapped[bytes] = mapped_column("chat")

    address = SealedField(TEXT)
    chat = SealedField(OPTIONAL_TEXT)
