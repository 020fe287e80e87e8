"""Helpers, their invitations, and the incidents they were told of."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, PatientOwned, patient_fk
from storage.sealed import (
    INSTANT,
    JSON_OBJECT,
    OPTIONAL_TEXT,
    TEXT,
    SealedField,
)


class HelperRow(PatientOwned, Base):
    """A person the patient chose. Sealed under the patient's key: forgotten with the patient."""

    __tablename__ = "helpers"

    patient_id: Mapped[str] = patient_fk()
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

    patient_id: Mapped[str] = patient_fk()
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

    patient_id: Mapped[str] = patient_fk()
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    created_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    _created_at: Mapped[bytes] = mapped_column("created_at")
    _detail: Mapped[bytes] = mapped_column("detail")

    created_at = SealedField(INSTANT)
    detail = SealedField(JSON_OBJECT)
