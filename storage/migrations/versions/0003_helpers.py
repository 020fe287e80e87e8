"""Helpers: incidents passed from helper to helper, invitation opening, code tries, summaries.

- ``helper_incidents``: an alert for helpers with its escalation timer (``next_at``);
- ``helper_invites.opened_by``: the blind index of the account that opened the invitation;
- ``helpers.summary_at``: when the helper's next weekly summary is due;
- ``code_attempts``: tries at an invitation code per chat (blind index), for the hourly limit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "helper_incidents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("detail", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_helper_incidents_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helper_incidents")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_helper_incidents_dedupe_key")),
    )
    with op.batch_alter_table("helper_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_helper_incidents_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_helper_incidents_state_next_at", ["state", "next_at"], unique=False
        )
    op.create_table(
        "code_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_attempts")),
    )
    with op.batch_alter_table("code_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_attempts_lookup"), ["lookup"], unique=False)
        batch_op.create_index(batch_op.f("ix_code_attempts_at"), ["at"], unique=False)
    with op.batch_alter_table("helper_invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_by", sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table("helpers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_helpers_summary_at"), ["summary_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("helpers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_helpers_summary_at"))
        batch_op.drop_column("summary_at")
    with op.batch_alter_table("helper_invites", schema=None) as batch_op:
        batch_op.drop_column("opened_by")
    op.drop_table("code_attempts")
    op.drop_table("helper_incidents")
