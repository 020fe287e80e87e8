"""Forget forgets: the retention rule's columns on ``patients``, and ``chat_cleanups``.

- ``patients.seen_on`` (the last UTC day the patient wrote), ``patients.retention_at`` (when
  the retention rule next looks at them, indexed) and the sealed ``patients.retention``
  (what they were told and answered). Existing patients count as seen on the day of the
  upgrade, so nobody's data goes sooner than the rule says because of the upgrade, and are
  looked at by the rule at its next run.
- ``chat_cleanups``: deletions in helpers' chats left to do after a patient is forgotten,
  sealed under a store key of their own (created at the next start).

Downgrade drops both; cleanups still waiting are lost (the messages stay in the chats).

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("retention_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retention", sa.LargeBinary(), nullable=True))
        batch_op.create_index("ix_patients_retention_at", ["retention_at"], unique=False)
    now = datetime.now(UTC)
    today = now.date()
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC there (models.UTCDateTime)
    patients = sa.table(
        "patients",
        sa.column("seen_on", sa.Date()),
        sa.column("retention_at", sa.DateTime(timezone=True)),
    )
    op.execute(sa.update(patients).values(seen_on=today, retention_at=now))
    op.create_table(
        "chat_cleanups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("target", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_cleanups")),
    )
    op.create_index(
        op.f("ix_chat_cleanups_next_try_at"), "chat_cleanups", ["next_try_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_cleanups_next_try_at"), table_name="chat_cleanups")
    op.drop_table("chat_cleanups")
    # Not batch mode: on SQLite that copies `patients` into a new table and drops the old one,
    # and with foreign keys on, the drop deletes every row that belongs to a patient.
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later, and PostgreSQL) keeps them.
    op.drop_index("ix_patients_retention_at", table_name="patients")
    for column in ("retention", "retention_at", "seen_on"):
        op.execute(f"ALTER TABLE patients DROP COLUMN {column}")
