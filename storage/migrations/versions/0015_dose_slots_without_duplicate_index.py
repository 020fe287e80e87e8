"""Dose slots lose the index on ``enrolment_id`` alone: the unique (enrolment_id, due_at)
index already leads with it.

Every query and every cascade that looks slots up by enrolment is served by the unique
index's prefix, so the single-column index only cost writes: planning inserts each slot into
it at a random place, and at 100,000 patients (200,000 slots a day) that index alone no
longer fits SQLite's page cache, so every chunk's commit rewrote most of its pages.

Revision ID: 0015
Revises: 0007
Create Date: 2026-12-01 12:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_dose_slots_enrolment_id")


def downgrade() -> None:
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.create_index("ix_dose_slots_enrolment_id", ["enrolment_id"], unique=False)
