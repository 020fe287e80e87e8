"""SMS: webhook receipts, segments sent per number and day, STOP, the last menu per number.

- ``sms_webhook_receipts``: a hash of each gateway webhook's envelope id, so a retry is handled
  once, with a lease while it is being handled;
- ``sms_usage``: messages and segments per phone number (blind index) and UTC day;
- ``sms_stops``: numbers (blind index) that texted STOP;
- ``sms_menus``: the last numbered menu per number, sealed, with its expiry;
- ``outbox.delivery`` and ``outbox.delivery_at``: what the channel reported after accepting a
  message (SMS: pending on the phone, sent, delivered, failed), reconciled from its webhooks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:25:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _patient_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["patient_id"],
        ["patients.id"],
        name=op.f(f"fk_{table}_patient_id_patients"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "sms_webhook_receipts",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_sms_webhook_receipts")),
    )
    with op.batch_alter_table("sms_webhook_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_webhook_receipts_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "sms_menus",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("menu", sa.LargeBinary(), nullable=False),
        _patient_fk("sms_menus"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_menus")),
        sa.UniqueConstraint("lookup", name=op.f("uq_sms_menus_lookup")),
    )
    with op.batch_alter_table("sms_menus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_menus_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_menus_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "sms_stops",
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        _patient_fk("sms_stops"),
        sa.PrimaryKeyConstraint("lookup", name=op.f("pk_sms_stops")),
    )
    with op.batch_alter_table("sms_stops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_stops_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "sms_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        _patient_fk("sms_usage"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_usage")),
        sa.UniqueConstraint("lookup", "day", name=op.f("uq_sms_usage_lookup_day")),
    )
    with op.batch_alter_table("sms_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_usage_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_usage_patient_id"), ["patient_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivery_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("delivery_at")
        batch_op.drop_column("delivery")
    op.drop_table("sms_usage")
    op.drop_table("sms_stops")
    op.drop_table("sms_menus")
    op.drop_table("sms_webhook_receipts")
