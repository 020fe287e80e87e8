"""Several workers: Telegram updates by webhook handled once, and one send pace for all.

- ``telegram_updates``: the update id, the hour it first arrived (for pruning), whether it was
  handled, how many handlings did not finish, and the lease of the process handling it now;
- ``send_pace``: per channel, the next free send instant, shared by every process sending on it.

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_telegram_updates_seen_hour"), ["seen_hour"], unique=False
        )

    op.create_table(
        "send_pace",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_updates_seen_hour"))
    op.drop_table("telegram_updates")
