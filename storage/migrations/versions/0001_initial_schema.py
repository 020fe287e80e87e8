"""Initial schema: patients, data keys, channel identities, treatment records, outbox, audit.

Instants are DateTime(timezone=True) here; the models wrap it in UTCDateTime, which stores
the same column type.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 11:37:38.197580
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=True),
        sa.Column("column_name", sa.String(length=40), nullable=True),
        sa.Column("row_id", sa.String(length=32), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "patients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alias", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.LargeBinary(), nullable=False),
        sa.Column("time_zone", sa.LargeBinary(), nullable=False),
        sa.Column("discreet", sa.LargeBinary(), nullable=False),
        sa.Column("consent", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_keys")),
    )
    op.create_table(
        "channel_identities",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("chat", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_channel_identities_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_identities")),
        sa.UniqueConstraint("channel", "lookup", name=op.f("uq_channel_identities_channel_lookup")),
    )
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_identities_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_conversations_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("patient_id", "party", name=op.f("uq_conversations_patient_id_party")),
    )
    op.create_table(
        "data_keys",
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_data_keys_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_data_keys")),
    )
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_keys_key_id"), ["key_id"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_enrolments_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "helpers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alias", sa.LargeBinary(), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("chat", sa.LargeBinary(), nullable=False),
        sa.Column("permissions", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_helpers_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpers")),
    )
    with op.batch_alter_table("helpers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_helpers_lookup"), ["lookup"], unique=False)
        batch_op.create_index(batch_op.f("ix_helpers_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "mood_screenings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("instrument", sa.LargeBinary(), nullable=False),
        sa.Column("answers", sa.LargeBinary(), nullable=False),
        sa.Column("score", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_mood_screenings_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mood_screenings")),
    )
    with op.batch_alter_table("mood_screenings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mood_screenings_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sent_message_id", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_outbox_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_state_not_before_priority", ["state", "not_before", "priority"], unique=False
        )

    op.create_table(
        "pill_stock",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_pill_stock_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pill_stock")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_pill_stock_patient_id")),
    )
    op.create_table(
        "side_effect_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("symptoms", sa.LargeBinary(), nullable=False),
        sa.Column("level", sa.LargeBinary(), nullable=False),
        sa.Column("free_text", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_side_effect_reports_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_side_effect_reports")),
    )
    with op.batch_alter_table("side_effect_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_side_effect_reports_follow_up_at"), ["follow_up_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_side_effect_reports_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "dose_slots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("enrolment_id", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dose", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_dose_slots_enrolment_id_enrolments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_dose_slots_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_slots")),
        sa.UniqueConstraint(
            "enrolment_id", "due_at", name=op.f("uq_dose_slots_enrolment_id_due_at")
        ),
    )
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dose_slots_enrolment_id"), ["enrolment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dose_slots_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_dose_slots_state_next_check_at", ["state", "next_check_at"], unique=False
        )

    op.create_table(
        "helper_invites",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("helper_id", sa.String(length=32), nullable=False),
        sa.Column("token_lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["helper_id"],
            ["helpers.id"],
            name=op.f("fk_helper_invites_helper_id_helpers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_helper_invites_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helper_invites")),
        sa.UniqueConstraint("token_lookup", name=op.f("uq_helper_invites_token_lookup")),
    )
    with op.batch_alter_table("helper_invites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_helper_invites_helper_id"), ["helper_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_helper_invites_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "dose_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.LargeBinary(), nullable=False),
        sa.Column("reported_at", sa.LargeBinary(), nullable=False),
        sa.Column("via", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_dose_events_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["dose_slots.id"],
            name=op.f("fk_dose_events_slot_id_dose_slots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_events")),
    )
    with op.batch_alter_table("dose_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dose_events_patient_id_recorded_at", ["patient_id", "recorded_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dose_events_slot_id"), ["slot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dose_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dose_events_slot_id"))
        batch_op.drop_index("ix_dose_events_patient_id_recorded_at")

    op.drop_table("dose_events")
    with op.batch_alter_table("helper_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_helper_invites_patient_id"))
        batch_op.drop_index(batch_op.f("ix_helper_invites_helper_id"))

    op.drop_table("helper_invites")
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_dose_slots_state_next_check_at")
        batch_op.drop_index(batch_op.f("ix_dose_slots_patient_id"))
        batch_op.drop_index(batch_op.f("ix_dose_slots_enrolment_id"))

    op.drop_table("dose_slots")
    with op.batch_alter_table("side_effect_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_side_effect_reports_patient_id"))
        batch_op.drop_index(batch_op.f("ix_side_effect_reports_follow_up_at"))

    op.drop_table("side_effect_reports")
    op.drop_table("pill_stock")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_state_not_before_priority")
        batch_op.drop_index(batch_op.f("ix_outbox_patient_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("mood_screenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mood_screenings_patient_id"))

    op.drop_table("mood_screenings")
    with op.batch_alter_table("helpers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_helpers_patient_id"))
        batch_op.drop_index(batch_op.f("ix_helpers_lookup"))

    op.drop_table("helpers")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_patient_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_keys_key_id"))

    op.drop_table("data_keys")
    op.drop_table("conversations")
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_identities_patient_id"))

    op.drop_table("channel_identities")
    op.drop_table("store_keys")
    op.drop_table("patients")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
