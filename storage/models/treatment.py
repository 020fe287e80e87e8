"""A treatment and what became of it: enrolments, dose slots and their events, side effects, mood,
pill stock, measurements, appointments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, PatientOwned, patient_fk
from storage.sealed import (
    INSTANT,
    INTEGER,
    JSON_LIST,
    JSON_OBJECT,
    OPTIONAL_INSTANT,
    OPTIONAL_TEXT,
    TEXT,
    SealedField,
)


class EnrolmentRow(PatientOwned, Base):
    """A course of treatment; the plan is the treatment domain's ``Enrolment.to_dict()``."""

    __tablename__ = "enrolments"
    # Revision 0007: the horizon job reads active enrolments in planned_until order.
    __table_args__ = (Index("ix_enrolments_active_planned_until", "active", "planned_until"),)

    patient_id: Mapped[str] = patient_fk()
    active: Mapped[bool] = mapped_column(Boolean)
    # Revision 0016: the UTC day only (`storage.repositories.base.made_on` keeps the order of
    # a patient's enrolments of one day); the exact instant is sealed in ``created_exact``.
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    """The UTC day of the last change (revision 0016: the day only; nothing reads it)."""
    # Revision 0002: the reminder engine has materialised this enrolment's dose slots up to
    # here (NULL: never). Indexed so the hourly horizon job finds the few enrolments due for
    # extension without reading, let alone decrypting, the others.
    planned_until: Mapped[datetime | None]
    _plan: Mapped[bytes] = mapped_column("plan")
    # Revision 0016 (it seals the instants of rows written before, so NULL only if written
    # around the store).
    _created_exact: Mapped[bytes | None] = mapped_column("created_exact")

    plan = SealedField(JSON_OBJECT)
    created_exact = SealedField(INSTANT)
    """When the enrolment was made: the mood check-in and the weight question count from it."""


class DoseSlotRow(PatientOwned, Base):
    """One planned dose with its due instant; the reminder engine's unit of work."""

    __tablename__ = "dose_slots"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "due_at"),
        Index("ix_dose_slots_state_next_check_at", "state", "next_check_at"),
    )

    patient_id: Mapped[str] = patient_fk()
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

    patient_id: Mapped[str] = patient_fk()
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

    patient_id: Mapped[str] = patient_fk()
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

    patient_id: Mapped[str] = patient_fk()
    recorded_on: Mapped[date] = mapped_column(Date)
    _entry: Mapped[bytes] = mapped_column("entry")

    entry = SealedField(JSON_OBJECT)
    """`storage.records.WeightEntry` or `StockChange`, as their ``to_dict``."""


class AppointmentRow(PatientOwned, Base):
    """A clinic visit or test the patient noted. What it is and when is sealed; only the
    instant of its next reminder is plain, for the engine to sort on (None: none left)."""

    __tablename__ = "appointments"

    patient_id: Mapped[str] = patient_fk()
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    _details: Mapped[bytes] = mapped_column("details")

    details = SealedField(JSON_OBJECT)
