"""Patients get sealed preferences; enrolments say how far their dose slots are planned.

- ``patients.preferences``: nudges, quiet hours, cover word, message deletion (sealed JSON);
- ``enrolments.planned_until``: the reminder engine's horizon for the enrolment (indexed).

The column is nullable so existing rows need no rewrite: a NULL reads as no preferences (``{}``),
and the next update of the patient seals a value.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferences", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_enrolments_planned_until"), ["planned_until"], unique=False
        )


def downgrade() -> None:
    # Not batch mode: on SQLite that copies the table into a new one and drops the old, and
    # with foreign keys on, the drop deletes every row that hangs off it (a patient's slots).
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later, and PostgreSQL) keeps them.
    op.drop_index(op.f("ix_enrolments_planned_until"), table_name="enrolments")
    op.execute("ALTER TABLE enrolments DROP COLUMN planned_until")
    op.execute("ALTER TABLE patients DROP COLUMN preferences")
