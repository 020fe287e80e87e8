"""Enrolments due for planning are found in index order: (active, planned_until).

The horizon job asks for active enrolments never planned or planned only up to before an
instant, least planned first, a chunk at a time. With an index on ``planned_until`` alone
every ask read all such enrolments (ended ones included) and sorted them to keep a chunk,
so planning 100,000 patients cost a quadratic scan; with ``active`` first the ask reads
just the chunk it returns.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_planned_until")
        batch_op.create_index(
            "ix_enrolments_active_planned_until", ["active", "planned_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_active_planned_until")
        batch_op.create_index("ix_enrolments_planned_until", ["planned_until"], unique=False)
